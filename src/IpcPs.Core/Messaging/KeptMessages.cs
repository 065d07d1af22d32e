using System;
using System.Collections.Generic;
using System.Threading;

namespace IpcPs.Core.Messaging
{
    /// <summary>Decodes one kept message BUFFER[START..START+LENGTH) (RAW: a pipe's raw frame) as the handle's receive would.</summary>
    internal delegate object? KeptDecoder(byte[] buffer, int start, int length, bool raw);

    /// <summary>
    /// A handle's kept messages (docs/design.md, "Damaged messages in a batch"): messages a batch receive took out of
    /// its queue or pipe and did not hand out because one before them would not decode. They are the handle's own, no
    /// longer in the shared object, and its next receives of any kind hand them out first, in order, as the shared
    /// object would have, before taking anything more from it. A damaged message among them fails the receive that
    /// meets it first in its call (it is then consumed, as a single get of it is); met after others of the same call,
    /// it ends that call and waits at the front for the next one. At most one batch that was in memory already, as
    /// undecoded bytes. Thread-safe; messages are decoded under this object's own lock, so concurrent receivers of
    /// one handle hand them out once each and in order.
    /// </summary>
    internal sealed class KeptMessages
    {
        private readonly object _gate = new object();
        // Messages _next.._count-1: message i is _bytes[(i == 0 ? 0 : _ends[i - 1]).._ends[i]), _raw[i] a raw frame.
        // _bytes is never written after it is made (Keep makes a new one), so a caller may read a slice outside the lock.
        private byte[] _bytes = Array.Empty<byte>();
        private int[] _ends = Array.Empty<int>();
        private bool[] _raw = Array.Empty<bool>();
        private int _next, _count, _left;

        /// <summary>Whether any message is kept: one volatile read, the receive paths' only cost when none is.</summary>
        public bool Any => Volatile.Read(ref _left) > 0;

        /// <summary>How many messages are kept.</summary>
        public int Count => Volatile.Read(ref _left);

        /// <summary>
        /// Keeps messages FROM..N-1 of a received batch, after those already kept: message i is
        /// BUFFER[(i == 0 ? 0 : ENDS[i - 1])..ENDS[i]), RAW[i] (null: none raw) a raw frame. Copies their bytes.
        /// </summary>
        public void Keep(byte[] buffer, int[] ends, bool[]? raw, int from, int n)
        {
            if (from >= n) return;
            lock (_gate)
            {
                int start = from == 0 ? 0 : ends[from - 1], add = ends[n - 1] - start, k = n - from;
                int oldStart = _next == 0 ? 0 : _ends[_next - 1], old = _count - _next, oldBytes = _count == 0 ? 0 : _ends[_count - 1] - oldStart;
                var bytes = new byte[oldBytes + add];
                var newEnds = new int[old + k];
                var newRaw = new bool[old + k];
                Buffer.BlockCopy(_bytes, oldStart, bytes, 0, oldBytes);
                Buffer.BlockCopy(buffer, start, bytes, oldBytes, add);
                for (int i = 0; i < old; i++)
                {
                    newEnds[i] = _ends[_next + i] - oldStart;
                    newRaw[i] = _raw[_next + i];
                }
                for (int i = 0; i < k; i++)
                {
                    newEnds[old + i] = oldBytes + ends[from + i] - start;
                    newRaw[old + i] = raw != null && raw[from + i];
                }
                _bytes = bytes;
                _ends = newEnds;
                _raw = newRaw;
                _next = 0;
                _count = old + k;
                Volatile.Write(ref _left, _count);
            }
        }

        /// <summary>
        /// Hands out up to MAX kept messages into INTO, decoded with DECODE; returns how many (0: none kept). A message
        /// that fails to decode first in this call is consumed and its exception goes on; after others, it stays first.
        /// </summary>
        public int Receive(int max, KeptDecoder decode, ICollection<object?> into)
        {
            lock (_gate)
            {
                int got = 0;
                while (got < max && _next < _count)
                {
                    int start = _next == 0 ? 0 : _ends[_next - 1];
                    object? value;
                    try { value = decode(_bytes, start, _ends[_next] - start, _raw[_next]); }
                    catch
                    {
                        if (got > 0) break;   // this call delivered some: the damaged one fails the next
                        Advance();
                        throw;
                    }
                    Advance();
                    into.Add(value);
                    got++;
                }
                return got;
            }
        }

        /// <summary>As <see cref="Receive"/> for one message: false when none is kept.</summary>
        public bool TryReceive(KeptDecoder decode, out object? value)
        {
            lock (_gate)
            {
                value = null;
                if (_next == _count) return false;
                int start = _next == 0 ? 0 : _ends[_next - 1];
                try { value = decode(_bytes, start, _ends[_next] - start, _raw[_next]); }
                finally { Advance(); }   // handed out or failed: consumed either way, as by a single receive
                return true;
            }
        }

        /// <summary>
        /// Takes the next kept message as its bytes (BUFFER[START..START+LENGTH), never written again; RAW: a raw frame),
        /// for a receive of bytes, which never decodes. False when none is kept.
        /// </summary>
        public bool TryTakeBytes(out byte[] buffer, out int start, out int length, out bool raw)
        {
            lock (_gate)
            {
                buffer = _bytes;
                start = length = 0;
                raw = false;
                if (_next == _count) return false;
                start = _next == 0 ? 0 : _ends[_next - 1];
                length = _ends[_next] - start;
                raw = _raw[_next];
                Advance();
                return true;
            }
        }

        /// <summary>Drops every kept message (the handle is closed: they go with it).</summary>
        public void Clear()
        {
            lock (_gate)
            {
                _bytes = Array.Empty<byte>();
                _ends = Array.Empty<int>();
                _raw = Array.Empty<bool>();
                _next = _count = 0;
                Volatile.Write(ref _left, 0);
            }
        }

        private void Advance()
        {
            _next++;
            Volatile.Write(ref _left, _count - _next);
            if (_next == _count) Clear();   // reentrant: frees the bytes at once
        }
    }
}
