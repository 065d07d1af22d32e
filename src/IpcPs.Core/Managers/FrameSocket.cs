using System;
using System.Collections.Generic;
using System.Net.Sockets;
using IpcPs.Core.Messaging;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Length-prefixed frames over a stream socket: a 4-byte little-endian length, then that many bytes. A frame longer
    /// than <see cref="Limit"/> (1 KiB before authentication) is a protocol error: the connection is dropped. Memory
    /// follows the bytes that arrived, not the length claimed: the receive buffer grows (doubling) only when it is full
    /// of real data, so a header claiming 64 MiB costs nothing until 64 MiB have come. After the handshake a
    /// <see cref="FrameSeal"/> adds a 16-byte tag to every frame (the length counts it) and checks every frame
    /// received: a frame that fails is <see cref="ManagerAuthenticationException"/>. One frame goes out in one send
    /// call; receives are buffered. Not thread-safe: one reader and one writer at a time (the server reads and answers
    /// on one thread; a client serialises its calls).
    /// </summary>
    internal sealed class FrameSocket : IDisposable
    {
        public const int HandshakeLimit = 1024;
        public const int DefaultLimit = 64 << 20;

        private readonly Socket _socket;
        private const int SmallFrame = 4096;
        private const int InitialBuffer = 16 << 10;
        private const int KeptBuffer = 1 << 20;   // a receive buffer grown past this is given back after its frame
        private readonly byte[] _header = new byte[4];
        private readonly byte[] _small = new byte[SmallFrame + 4 + FrameSeal.TagBytes];
        private readonly byte[] _tag = new byte[FrameSeal.TagBytes];
        private byte[] _rx = new byte[InitialBuffer];
        private int _start, _end;   // unread bytes are _rx[_start.._end)
        private readonly List<ArraySegment<byte>> _parts = new List<ArraySegment<byte>>(4);
        private FrameSeal? _seal;

        public FrameSocket(Socket socket) => _socket = socket;

        public Socket Socket => _socket;

        /// <summary>Who is at the other end, for messages (an address, or "manager client").</summary>
        public string PeerName { get; set; } = "manager";

        /// <summary>The largest payload accepted by <see cref="Receive"/>.</summary>
        public int Limit { get; set; } = HandshakeLimit;

        /// <summary>From now on every frame sent is tagged and every frame received is checked (set once, after the handshake).</summary>
        public void Protect(FrameSeal seal)
        {
            if (_seal != null) throw new InvalidOperationException("The connection is protected already.");
            _seal = seal;
        }

        public bool IsProtected => _seal != null;

        public void Send(byte[] payload) => Send(payload, payload.Length, null);

        public void Send(MessageWriter w)
        {
            if (w.TotalLength > DefaultLimit) throw new MessageTooLargeException(null, w.TotalLength, DefaultLimit, "a manager frame holds at most");
            Send(w.Buffer, w.Length, w.Tail);
        }

        private void Send(byte[] buffer, int length, byte[]? tail)
        {
            int tag = _seal is null ? 0 : FrameSeal.TagBytes;
            int total = length + (tail?.Length ?? 0) + tag;
            if (total <= SmallFrame + tag)
            {
                // The common case: header, payload and tag in one buffer, one send(2).
                _small[0] = (byte)total; _small[1] = (byte)(total >> 8); _small[2] = (byte)(total >> 16); _small[3] = (byte)(total >> 24);
                Buffer.BlockCopy(buffer, 0, _small, 4, length);
                if (tail != null) Buffer.BlockCopy(tail, 0, _small, 4 + length, tail.Length);
                _seal?.Sign(_small, 4, total - tag, null, _small, 4 + total - tag);
                int off = 0;
                while (off < total + 4) off += _socket.Send(_small, off, total + 4 - off, SocketFlags.None);
                return;
            }
            _header[0] = (byte)total; _header[1] = (byte)(total >> 8); _header[2] = (byte)(total >> 16); _header[3] = (byte)(total >> 24);
            _parts.Clear();
            _parts.Add(new ArraySegment<byte>(_header));
            if (length > 0) _parts.Add(new ArraySegment<byte>(buffer, 0, length));
            if (tail != null && tail.Length > 0) _parts.Add(new ArraySegment<byte>(tail));
            if (_seal != null)
            {
                _seal.Sign(buffer, 0, length, tail, _tag, 0);
                _parts.Add(new ArraySegment<byte>(_tag));
            }
            int sent = _socket.Send(_parts);
            if (sent < total + 4) SendRest(sent);
        }

        // A short send (a large frame): the rest, part by part.
        private void SendRest(int sent)
        {
            foreach (var part in _parts)
            {
                int skip = Math.Min(sent, part.Count);
                sent -= skip;
                int offset = part.Offset + skip, left = part.Count - skip;
                while (left > 0)
                {
                    int n = _socket.Send(part.Array!, offset, left, SocketFlags.None);
                    offset += n; left -= n;
                }
            }
        }

        /// <summary>
        /// How long <see cref="Receive"/> polls for data before it blocks (0: block at once). A blocking receive costs a
        /// sleep and a wake-up on each side of a round trip (~35 µs on a busy 2-vCPU VM, where a socket ping-pong tops
        /// out at ~26 k/s); polling for a few tens of microseconds first lets a conversation (a loop of calls) run
        /// without either side going to sleep. The spin is bounded, so an idle peer costs at most this much CPU once.
        /// </summary>
        public int SpinMicroseconds { get; set; }

        private static readonly long TicksPerMicrosecond = System.Diagnostics.Stopwatch.Frequency / 1_000_000;

        /// <summary>
        /// The next frame's payload as (buffer, offset, count), checked when the connection is protected; the buffer is
        /// reused by the next call. Null at a clean end of stream.
        /// </summary>
        public ArraySegment<byte>? Receive()
        {
            if (_end == _start)
            {
                _start = _end = 0;
                if (_rx.Length > KeptBuffer) _rx = new byte[InitialBuffer];   // the last big frame is done with
            }
            if (_end == _start && SpinMicroseconds > 0) Spin();
            if (!Fill(4)) return null;
            int length = _rx[_start] | _rx[_start + 1] << 8 | _rx[_start + 2] << 16 | _rx[_start + 3] << 24;
            int tag = _seal is null ? 0 : FrameSeal.TagBytes;
            if (length < tag || length - tag > Limit)
                throw new MessageFormatException($"A manager frame claims {(uint)length:N0} bytes; the limit here is {Limit:N0}.");
            _start += 4;
            if (!Fill(length)) throw new ConnectionClosedException(PeerName, "The peer closed the connection in the middle of a frame.");
            if (_seal != null && !_seal.Verify(_rx, _start, length))
                throw new ManagerAuthenticationException(PeerName, $"A frame from '{PeerName}' failed its integrity check: the connection was altered on its way "
                    + "(bytes changed, injected, replayed or reordered) or the peer does not hold the session's key. The connection is closed.");
            var frame = new ArraySegment<byte>(_rx, _start, length - tag);
            _start += length;
            return frame;
        }

        private int _skipSpins;

        // Polls until data is there or the window passes. Two guards against the case where polling is worse than
        // sleeping (the peer waits for the very CPU this thread spins on): after a few polls each one yields the CPU,
        // and a poll that ran out skips polling for the next SkipAfterMiss receives.
        private void Spin()
        {
            if (_skipSpins > 0) { _skipSpins--; return; }
            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinMicroseconds * TicksPerMicrosecond;
            int polls = 0;
            while (_socket.Available == 0)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) { _skipSpins = SkipAfterMiss; return; }
                if (++polls > 4) System.Threading.Thread.Yield();
                else System.Threading.Thread.SpinWait(8);
            }
        }

        private const int SkipAfterMiss = 32;

        /// <summary>
        /// Makes at least COUNT unread bytes available; false if the stream ends before any byte of them arrives. The
        /// buffer grows only when it is full of received bytes, to at most twice its size (never beyond COUNT): what
        /// is allocated stays within a small multiple of what the peer actually sent.
        /// </summary>
        private bool Fill(int count)
        {
            if (_end - _start >= count) return true;
            if (_start + count > _rx.Length && _start > 0)
            {
                Buffer.BlockCopy(_rx, _start, _rx, 0, _end - _start);
                _end -= _start; _start = 0;
            }
            bool any = _end > _start;
            while (_end - _start < count)
            {
                if (_end == _rx.Length)
                {
                    var bigger = new byte[(int)Math.Min((long)_start + count, Math.Max(2L * _rx.Length, InitialBuffer))];
                    Buffer.BlockCopy(_rx, _start, bigger, 0, _end - _start);
                    _end -= _start; _start = 0; _rx = bigger;
                }
                int n = _socket.Receive(_rx, _end, _rx.Length - _end, SocketFlags.None);
                if (n == 0)
                {
                    if (!any) return false;
                    throw new ConnectionClosedException(PeerName, "The peer closed the connection in the middle of a frame.");
                }
                _end += n;
                any = true;
            }
            return true;
        }

        public void Dispose()
        {
            _seal?.Dispose();
            try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            _socket.Dispose();
        }
    }
}
