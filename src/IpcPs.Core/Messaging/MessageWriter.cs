using System;
using System.Text;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// A growable little-endian byte buffer that one encoding fills. A top-level byte[] is not copied in: it rides
    /// along as <see cref="Tail"/> and channels copy it straight into shared memory.
    /// </summary>
    public sealed unsafe class MessageWriter
    {
        private byte[] _buffer = new byte[256];
        private int _length;

        /// <summary>The encoded bytes are Buffer[0..Length) followed by Tail (when not null).</summary>
        public byte[] Buffer => _buffer;

        public int Length => _length;

        /// <summary>A raw payload that follows Buffer, never copied by the encoder.</summary>
        public byte[]? Tail { get; internal set; }

        /// <summary>The whole message's size in bytes.</summary>
        public long TotalLength => _length + (long)(Tail?.Length ?? 0);

        /// <summary>What decoding this message will charge against its allowance (<see cref="DecodeCost"/>).</summary>
        public long DecodeCharge { get; internal set; }

        /// <summary>The containers written so far, numbered in the order met: a later occurrence is a back-reference.</summary>
        internal IdentityMap Seen { get; } = new IdentityMap();

        /// <summary>The serialization depth of this encoding (for values that go through the fallback).</summary>
        internal int Depth { get; set; }

        public void Reset()
        {
            _length = 0;
            Tail = null;
            DecodeCharge = 0;
            if (Seen.Count != 0) Seen.Clear();
            if (_buffer.Length > 1 << 20) _buffer = new byte[256];   // do not keep a huge buffer for later small messages
        }

        /// <summary>
        /// Starts the next message of a batch right after the bytes written so far (<see cref="MessageBatch"/>): each
        /// message numbers its own containers and is charged by itself, as if it were alone.
        /// </summary>
        internal void StartNext()
        {
            Tail = null;
            DecodeCharge = 0;
            if (Seen.Count != 0) Seen.Clear();
        }

        /// <summary>Forgets everything written since LENGTH (a batch item that failed to encode).</summary>
        internal void Truncate(int length) => _length = length;

        public void WriteByte(byte b)
        {
            if (_length == _buffer.Length) Grow(1);
            _buffer[_length++] = b;
        }

        public void WriteTag(Tag tag) => WriteByte((byte)tag);

        public void WriteInt32(int v)
        {
            if (_length + 4 > _buffer.Length) Grow(4);
            fixed (byte* p = &_buffer[_length]) *(int*)p = v;
            _length += 4;
        }

        public void WriteInt64(long v)
        {
            if (_length + 8 > _buffer.Length) Grow(8);
            fixed (byte* p = &_buffer[_length]) *(long*)p = v;
            _length += 8;
        }

        /// <summary>An unsigned LEB128 count or length.</summary>
        public void WriteCount(int v)
        {
            uint u = (uint)v;
            while (u >= 0x80) { WriteByte((byte)(u | 0x80)); u >>= 7; }
            WriteByte((byte)u);
        }

        public void WriteBytes(byte[] bytes, int offset, int count)
        {
            if (_length + count > _buffer.Length) Grow(count);
            System.Buffer.BlockCopy(bytes, offset, _buffer, _length, count);
            _length += count;
        }

        /// <summary>Copies COUNT bytes from SOURCE (a primitive array's memory).</summary>
        public void WriteRaw(byte* source, int count)
        {
            if (_length + count > _buffer.Length) Grow(count);
            fixed (byte* p = _buffer) System.Buffer.MemoryCopy(source, p + _length, _buffer.Length - _length, count);
            _length += count;
        }

        /// <summary>A length-prefixed UTF-8 string; returns its length in bytes (without the prefix).</summary>
        public int WriteString(string s)
        {
            int max = Encoding.UTF8.GetMaxByteCount(s.Length);
            if (max < 128 && s.Length < 128)
            {
                // Short: encode straight after a one-byte length, fixing the length afterwards.
                if (_length + 1 + max > _buffer.Length) Grow(1 + max);
                int n = Encoding.UTF8.GetBytes(s, 0, s.Length, _buffer, _length + 1);
                if (n < 128) { _buffer[_length] = (byte)n; _length += 1 + n; return n; }
            }
            int count = Encoding.UTF8.GetByteCount(s);
            WriteCount(count);
            if (_length + count > _buffer.Length) Grow(count);
            Encoding.UTF8.GetBytes(s, 0, s.Length, _buffer, _length);
            _length += count;
            return count;
        }

        private void Grow(int need)
        {
            long size = Math.Max((long)_buffer.Length * 2, (long)_length + need);
            if (size > int.MaxValue) throw new MessageTooLargeException(null, size, int.MaxValue, "a message holds at most");
            Array.Resize(ref _buffer, (int)size);
        }
    }
}
