using System;
using System.Security.Cryptography;
using System.Text;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Mutual challenge-response over the auth key, before anything else on a connection (docs/design.md, "Managers"):
    ///   server → client: "IPCPS-MANAGER-1" + 32 random bytes (challenge C1)
    ///   client → server: HMAC-SHA256(key, "client" + C1)           server compares in constant time; on mismatch
    ///   server → client: "OK" or "FAIL"                             it answers FAIL and drops the connection
    ///   client → server: 32 random bytes (challenge C2)
    ///   server → client: HMAC-SHA256(key, "server" + C2)           the client checks the server knows the key too
    /// Every handshake frame is at most 1 KiB; a peer that has not passed cannot reach the dispatcher.
    /// </summary>
    internal static class ManagerAuth
    {
        private static readonly byte[] Magic = Encoding.ASCII.GetBytes("IPCPS-MANAGER-1");
        private static readonly byte[] Ok = Encoding.ASCII.GetBytes("OK");
        private static readonly byte[] Fail = Encoding.ASCII.GetBytes("FAIL");
        public const int KeyBytes = 32;

        public static byte[] NewKey() => Random(KeyBytes);

        /// <summary>Server side; false (after telling the peer) when the peer does not know the key.</summary>
        public static bool Accept(FrameSocket s, byte[] key)
        {
            var challenge = Random(32);
            s.Send(Concat(Magic, challenge));
            var answer = s.Receive();
            if (answer is null) return false;
            if (!FixedTimeEquals(answer.Value, Mac(key, "client", challenge)))
            {
                s.Send(Fail);
                return false;
            }
            s.Send(Ok);
            var theirs = s.Receive();
            if (theirs is null || theirs.Value.Count != 32) return false;
            s.Send(Mac(key, "server", ToArray(theirs.Value)));
            return true;
        }

        /// <summary>Client side; throws <see cref="ManagerAuthenticationException"/> when either side lacks the key.</summary>
        public static void Connect(FrameSocket s, byte[] key, string address)
        {
            var hello = s.Receive() ?? throw new ManagerAuthenticationException(address, $"The manager at '{address}' closed the connection before authenticating.");
            if (hello.Count != Magic.Length + 32 || !StartsWith(hello, Magic))
                throw new ManagerAuthenticationException(address, $"The peer at '{address}' is not an IpcPs manager.");
            var challenge = new byte[32];
            Buffer.BlockCopy(hello.Array!, hello.Offset + Magic.Length, challenge, 0, 32);
            s.Send(Mac(key, "client", challenge));
            var verdict = s.Receive();
            if (verdict is null || !FixedTimeEquals(verdict.Value, Ok))
                throw new ManagerAuthenticationException(address, $"The manager at '{address}' refused the auth key (authentication failed).");
            var mine = Random(32);
            s.Send(mine);
            var proof = s.Receive();
            if (proof is null || !FixedTimeEquals(proof.Value, Mac(key, "server", mine)))
                throw new ManagerAuthenticationException(address, $"The peer at '{address}' does not know the auth key.");
        }

        private static byte[] Mac(byte[] key, string role, byte[] challenge)
        {
            using (var h = new HMACSHA256(key)) return h.ComputeHash(Concat(Encoding.ASCII.GetBytes(role), challenge));
        }

        /// <summary>Compares every byte whatever the first difference (no early exit that would time the key).</summary>
        private static bool FixedTimeEquals(ArraySegment<byte> a, byte[] b)
        {
            if (a.Count != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < b.Length; i++) diff |= a.Array![a.Offset + i] ^ b[i];
            return diff == 0;
        }

        private static bool StartsWith(ArraySegment<byte> a, byte[] prefix)
        {
            for (int i = 0; i < prefix.Length; i++) if (a.Array![a.Offset + i] != prefix[i]) return false;
            return true;
        }

        private static byte[] Random(int n)
        {
            var b = new byte[n];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(b);
            return b;
        }

        private static byte[] Concat(byte[] a, byte[] b)
        {
            var r = new byte[a.Length + b.Length];
            Buffer.BlockCopy(a, 0, r, 0, a.Length);
            Buffer.BlockCopy(b, 0, r, a.Length, b.Length);
            return r;
        }

        private static byte[] ToArray(ArraySegment<byte> a)
        {
            var r = new byte[a.Count];
            Buffer.BlockCopy(a.Array!, a.Offset, r, 0, a.Count);
            return r;
        }
    }
}
