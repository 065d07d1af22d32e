using System;
using System.Text;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// Reads one encoded message; every read is bounds-checked (damaged input throws, never over-reads). It also keeps
    /// the two budgets that bound what decoding allocates: <see cref="Reserve"/> (items that containers still open
    /// have claimed, each needing at least one byte of what is left) and <see cref="Charge"/> (bytes the decoder may
    /// still allocate, <see cref="DecodeCost"/>).
    /// </summary>
    public unsafe struct MessageReader
    {
        private readonly byte[] _buffer;
        private readonly int _end;
        private int _position;
        private long _reserved;
        private long _allowance;

        public MessageReader(byte[] buffer, int offset, int count)
        {
            if (offset < 0 || count < 0 || offset + count > buffer.Length) throw new ArgumentOutOfRangeException(null, "The range is outside the buffer.");
            _buffer = buffer;
            _position = offset;
            _end = offset + count;
            _reserved = 0;
            _allowance = DecodeCost.Allowance(count);
        }

        public int Remaining => _end - _position;

        /// <summary>Bytes the decoder may still allocate.</summary>
        public long Allowance
        {
            get => _allowance;
            set => _allowance = value;
        }

        /// <summary>
        /// Claims COUNT items of at least BYTESEACH bytes each for a container about to be read: together with the
        /// items every open container still expects, they must fit in the bytes left. So the claims of nested
        /// containers add up against the message, instead of each being checked against the same bytes.
        /// </summary>
        public void Reserve(int count, int bytesEach, string what)
        {
            long need = (long)count * bytesEach;
            if (need > Remaining - _reserved)
                throw new MessageFormatException($"{what} claims {count:N0} items at byte {_position}, more than the {Remaining - _reserved:N0} bytes left for them.");
            _reserved += need;
        }

        /// <summary>One claimed item of BYTESEACH bytes is about to be read (it takes at least that many).</summary>
        public void Unreserve(int bytesEach) => _reserved -= bytesEach;

        /// <summary>Accounts for BYTES about to be allocated; a message that needs more than its allowance is refused.</summary>
        public void Charge(long bytes)
        {
            _allowance -= bytes;
            if (_allowance < 0)
                throw new MessageFormatException(
                    $"The message would need more memory to decode than {DecodeCost.Factor} times its size allows (at byte {_position}): it is damaged or crafted.");
        }

        public int Position => _position;

        public byte ReadByte()
        {
            Need(1);
            return _buffer[_position++];
        }

        public int ReadInt32()
        {
            Need(4);
            int v;
            fixed (byte* p = &_buffer[_position]) v = *(int*)p;
            _position += 4;
            return v;
        }

        public long ReadInt64()
        {
            Need(8);
            long v;
            fixed (byte* p = &_buffer[_position]) v = *(long*)p;
            _position += 8;
            return v;
        }

        public int ReadCount()
        {
            uint v = 0;
            for (int shift = 0; shift < 35; shift += 7)
            {
                byte b = ReadByte();
                v |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    if (v > int.MaxValue) break;
                    return (int)v;
                }
            }
            throw new MessageFormatException($"A bad length at byte {_position}.");
        }

        public byte[] ReadBytes(int count)
        {
            Need(count);
            var bytes = new byte[count];
            Buffer.BlockCopy(_buffer, _position, bytes, 0, count);
            _position += count;
            return bytes;
        }

        public string ReadString()
        {
            int count = ReadLength();
            return ReadUtf8(count);
        }

        /// <summary>A length prefix whose bytes are all there (so a charge for them can be made before they are read).</summary>
        public int ReadLength()
        {
            int count = ReadCount();
            Need(count);
            return count;
        }

        /// <summary>COUNT bytes of UTF-8 as a string (after <see cref="ReadLength"/>).</summary>
        public string ReadUtf8(int count)
        {
            Need(count);
            var s = count == 0 ? string.Empty : Encoding.UTF8.GetString(_buffer, _position, count);
            _position += count;
            return s;
        }

        /// <summary>
        /// COUNT bytes of UTF-8 (after <see cref="ReadLength"/>) as a property name or key: the same string as the last
        /// time these bytes were read when <see cref="ShapeCache"/> still has it.
        /// </summary>
        public string ReadName(int count)
        {
            Need(count);
            var s = ShapeCache.Name(_buffer, _position, count);
            _position += count;
            return s;
        }

        /// <summary>Passes over COUNT bytes.</summary>
        public void Skip(int count)
        {
            Need(count);
            _position += count;
        }

        /// <summary>The next byte, not consumed (there must be one).</summary>
        public byte Peek()
        {
            Need(1);
            return _buffer[_position];
        }

        /// <summary>The message's buffer (read with <see cref="Position"/>, for what is checked already).</summary>
        internal byte[] Bytes => _buffer;

        /// <summary>Copies COUNT bytes to TARGET.</summary>
        public void ReadRaw(byte* target, int count)
        {
            Need(count);
            if (count == 0) return;
            fixed (byte* p = &_buffer[_position]) Buffer.MemoryCopy(p, target, count, count);
            _position += count;
        }

        private void Need(int count)
        {
            if (count < 0 || _end - _position < count)
                throw new MessageFormatException($"The message ends early: {count} more bytes were expected at byte {_position}.");
        }
    }
}
