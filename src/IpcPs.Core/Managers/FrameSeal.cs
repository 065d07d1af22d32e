using System;
using System.Security.Cryptography;
using System.Text;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Integrity of the frames of one authenticated connection (docs/design.md, "Managers", "Frame protection"). Each
    /// frame after the handshake carries a tag: the first 16 bytes of HMAC-SHA256(direction key, sequence ‖ payload),
    /// the sequence being the count of frames sent before in that direction (8 bytes, little-endian; never sent, each
    /// side counts). The two direction keys are derived from the auth key and both challenges of this connection's
    /// handshake, so they are new for every connection and unknown to anyone without the auth key:
    ///   client → server   HMAC-SHA256(key, "ipcps frames client->server" ‖ server challenge ‖ client challenge)
    ///   server → client   HMAC-SHA256(key, "ipcps frames server->client" ‖ server challenge ‖ client challenge)
    /// Altered or injected bytes fail the tag; a replayed, dropped or reordered frame fails because its sequence is
    /// not the one expected; a frame reflected back to its sender fails because the other direction has another key;
    /// a frame cut short (or a length prefix changed) fails its tag. A failure ends the connection: the sequences can
    /// no longer agree. Not thread-safe (a FrameSocket has one reader and one writer at a time).
    /// </summary>
    internal sealed class FrameSeal : IDisposable
    {
        public const int TagBytes = 16;
        private static readonly byte[] ClientToServer = Encoding.ASCII.GetBytes("ipcps frames client->server");
        private static readonly byte[] ServerToClient = Encoding.ASCII.GetBytes("ipcps frames server->client");

        private readonly IncrementalHash _send;
        private readonly IncrementalHash _receive;
        private readonly byte[] _sequence = new byte[8];
        private ulong _sent, _received;

        private FrameSeal(byte[] sendKey, byte[] receiveKey)
        {
            _send = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, sendKey);
            _receive = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, receiveKey);
        }

        /// <summary>The client's seal: it sends with the client→server key.</summary>
        public static FrameSeal ForClient(byte[] key, byte[] serverChallenge, byte[] clientChallenge) =>
            new FrameSeal(Derive(key, ClientToServer, serverChallenge, clientChallenge), Derive(key, ServerToClient, serverChallenge, clientChallenge));

        /// <summary>The server's seal: it sends with the server→client key.</summary>
        public static FrameSeal ForServer(byte[] key, byte[] serverChallenge, byte[] clientChallenge) =>
            new FrameSeal(Derive(key, ServerToClient, serverChallenge, clientChallenge), Derive(key, ClientToServer, serverChallenge, clientChallenge));

        internal static byte[] Derive(byte[] key, byte[] label, byte[] serverChallenge, byte[] clientChallenge)
        {
            using (var h = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key))
            {
                h.AppendData(label);
                h.AppendData(serverChallenge);
                h.AppendData(clientChallenge);
                return h.GetHashAndReset();
            }
        }

        /// <summary>Writes the tag of the next outgoing frame (BUFFER[0..LENGTH) then TAIL) to DESTINATION at OFFSET.</summary>
        public void Sign(byte[] buffer, int offset, int length, byte[]? tail, byte[] destination, int destinationOffset)
        {
            Sequence(_sent++);
            _send.AppendData(_sequence);
            _send.AppendData(buffer, offset, length);
            if (tail != null && tail.Length > 0) _send.AppendData(tail);
            Buffer.BlockCopy(_send.GetHashAndReset(), 0, destination, destinationOffset, TagBytes);
        }

        /// <summary>
        /// Checks the next incoming frame, FRAME[OFFSET..OFFSET+COUNT) = payload then tag. False (the connection must
        /// end) when it is shorter than a tag or its tag is not the one expected.
        /// </summary>
        public bool Verify(byte[] frame, int offset, int count)
        {
            if (count < TagBytes) return false;
            int payload = count - TagBytes;
            Sequence(_received++);
            _receive.AppendData(_sequence);
            _receive.AppendData(frame, offset, payload);
            var expected = _receive.GetHashAndReset();
            int diff = 0;   // every byte compared: no early exit to time
            for (int i = 0; i < TagBytes; i++) diff |= expected[i] ^ frame[offset + payload + i];
            return diff == 0;
        }

        private void Sequence(ulong n)
        {
            for (int i = 0; i < 8; i++) _sequence[i] = (byte)(n >> (8 * i));
        }

        public void Dispose()
        {
            _send.Dispose();
            _receive.Dispose();
        }
    }
}
