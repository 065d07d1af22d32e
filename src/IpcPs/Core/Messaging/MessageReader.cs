using System;
using System.Text;

namespace IpcPs.Core.Messaging
{
    /// <summary>Reads one encoded message; every read is bounds-checked (damaged input throws, never over-reads).</summary>
    public unsafe struct MessageReader
    {
        private readonly byte[] _buffer;
        private readonly int _end;
        private int _position;

        public MessageReader(byte[] buffer, int offset, int count)
        {
            if (offset < 0 || count < 0 || offset + count > buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
            _buffer = buffer;
            _position = offset;
            _end = offset + count;
        }

        public int Remaining => _end - _position;

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
            int count = ReadCount();
            Need(count);
            var s = Encoding.UTF8.GetString(_buffer, _position, count);
            _position += count;
            return s;
        }

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
