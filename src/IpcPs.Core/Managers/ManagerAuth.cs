using System;
using System.Security.Cryptography;
using System.Text;

namespace IpcPs.Core.Managers
{
    /// <summary>What became of a handshake on the server's side.</summary>
    internal enum HandshakeOutcome
    {
        /// <summary>The peer proved it holds the key; the connection is protected from now on.</summary>
        Authenticated,
        /// <summary>A well-formed answer with a wrong proof: a wrong key (what the throttle counts).</summary>
        WrongKey,
        /// <summary>An answer that is no answer (wrong length): garbage, not a guess.</summary>
        Malformed,
        /// <summary>The peer went away before it answered.</summary>
        Closed,
    }

    /// <summary>
    /// Mutual challenge-response over the auth key, before anything else on a connection (docs/design.md, "Managers"):
    ///   server → client: "IPCPS-MANAGER-2" ‖ Cs (32 random bytes)
    ///   client → server: Cc (32 random bytes) ‖ HMAC-SHA256(key, "client" ‖ Cs ‖ Cc)
    ///   server → client: "OK" ‖ HMAC-SHA256(key, "server" ‖ Cs ‖ Cc)    or "FAIL", and the server closes
    /// Both proofs cover both challenges, so neither can be replayed into another connection; then both sides derive
    /// the connection's frame keys (<see cref="FrameSeal"/>) from the key and both challenges. Every handshake frame is
    /// at most 1 KiB; a peer that has not passed cannot reach the dispatcher. The client proves first (as CPython's
    /// answer_challenge): that is why a client sends a proof made with a key only to the address the key was given
    /// for (<see cref="ManagerClient"/>), and why network keys have a minimum length.
    /// </summary>
    internal static class ManagerAuth
    {
        internal static readonly byte[] Magic = Encoding.ASCII.GetBytes("IPCPS-MANAGER-2");
        private static readonly byte[] Ok = Encoding.ASCII.GetBytes("OK");
        private static readonly byte[] Fail = Encoding.ASCII.GetBytes("FAIL");
        private static readonly byte[] ClientRole = Encoding.ASCII.GetBytes("client");
        private static readonly byte[] ServerRole = Encoding.ASCII.GetBytes("server");
        public const int ChallengeBytes = 32;
        public const int ProofBytes = 32;
        public const int KeyBytes = 32;

        /// <summary>The shortest key a manager reachable over TCP accepts (CPython's default key is 32 random bytes).</summary>
        public const int MinimumNetworkKeyBytes = 16;

        public static byte[] NewKey() => Random(KeyBytes);

        /// <summary>
        /// Server side. On success SEAL holds the connection's frame protection (the caller installs it). WRONGKEY runs
        /// before the peer hears of a wrong proof, so a throttle has counted the failure before the peer can try again.
        /// CHALLENGE replaces the random one (fuzzing only).
        /// </summary>
        public static HandshakeOutcome Accept(FrameSocket s, byte[] key, out FrameSeal? seal, byte[]? challenge = null, Action? wrongKey = null)
        {
            seal = null;
            var cs = challenge ?? Random(ChallengeBytes);
            s.Send(Concat(Magic, cs));
            var answer = s.Receive();
            if (answer is null) return HandshakeOutcome.Closed;
            if (answer.Value.Count != ChallengeBytes + ProofBytes)
            {
                s.Send(Fail);
                return HandshakeOutcome.Malformed;
            }
            var a = answer.Value;
            var cc = new byte[ChallengeBytes];
            Buffer.BlockCopy(a.Array!, a.Offset, cc, 0, ChallengeBytes);
            if (!FixedTimeEquals(a.Array!, a.Offset + ChallengeBytes, Mac(key, ClientRole, cs, cc)))
            {
                wrongKey?.Invoke();
                s.Send(Fail);
                return HandshakeOutcome.WrongKey;
            }
            s.Send(Concat(Ok, Mac(key, ServerRole, cs, cc)));
            seal = FrameSeal.ForServer(key, cs, cc);
            return HandshakeOutcome.Authenticated;
        }

        /// <summary>
        /// Client side: the connection's frame protection, or <see cref="ManagerAuthenticationException"/> when either
        /// side lacks the key. CHALLENGE replaces the random one (fuzzing only).
        /// </summary>
        public static FrameSeal Connect(FrameSocket s, byte[] key, string address, byte[]? challenge = null)
        {
            var hello = s.Receive() ?? throw new ManagerAuthenticationException(address, $"The manager at '{address}' closed the connection before authenticating.");
            if (hello.Count != Magic.Length + ChallengeBytes || !StartsWith(hello, Magic))
                throw new ManagerAuthenticationException(address, $"The peer at '{address}' is not an IpcPs manager (of this version).");
            var cs = new byte[ChallengeBytes];
            Buffer.BlockCopy(hello.Array!, hello.Offset + Magic.Length, cs, 0, ChallengeBytes);
            var cc = challenge ?? Random(ChallengeBytes);
            s.Send(Concat(cc, Mac(key, ClientRole, cs, cc)));
            var verdict = s.Receive();
            if (verdict is null || (verdict.Value.Count == Fail.Length && StartsWith(verdict.Value, Fail)))
                throw new ManagerAuthenticationException(address, $"The manager at '{address}' refused the auth key (authentication failed).");
            var v = verdict.Value;
            if (v.Count != Ok.Length + ProofBytes || !StartsWith(v, Ok) || !FixedTimeEquals(v.Array!, v.Offset + Ok.Length, Mac(key, ServerRole, cs, cc)))
                throw new ManagerAuthenticationException(address, $"The peer at '{address}' does not know the auth key.");
            return FrameSeal.ForClient(key, cs, cc);
        }

        internal static byte[] Mac(byte[] key, byte[] role, byte[] serverChallenge, byte[] clientChallenge)
        {
            using (var h = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key))
            {
                h.AppendData(role);
                h.AppendData(serverChallenge);
                h.AppendData(clientChallenge);
                return h.GetHashAndReset();
            }
        }

        /// <summary>Compares every byte whatever the first difference (no early exit that would time the key).</summary>
        private static bool FixedTimeEquals(byte[] a, int offset, byte[] b)
        {
            int diff = 0;
            for (int i = 0; i < b.Length; i++) diff |= a[offset + i] ^ b[i];
            return diff == 0;
        }

        private static bool StartsWith(ArraySegment<byte> a, byte[] prefix)
        {
            if (a.Count < prefix.Length) return false;
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
    }
}
