using System;
using System.Collections;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// Messages encoded one after the other into one buffer, for the batch operations (a queue's PutMany, a pipe's
    /// SendMany): message i is Buffer[Start(i)..End(i)). Each message is encoded exactly as it would be alone (its
    /// own container numbering, its own decode charge checked against its own allowance), so a receiver that gets
    /// them one by one cannot tell a batch from single sends. One batch per thread is reused (taken out of its slot
    /// while in use, as the codec's writer is).
    /// </summary>
    internal sealed class MessageBatch
    {
        [ThreadStatic] private static MessageBatch? _spare;

        private readonly MessageWriter _writer = new MessageWriter();
        private int[] _ends = new int[64];
        private bool[] _raw = new bool[64];

        private MessageBatch() { }

        /// <summary>How many messages.</summary>
        public int Count { get; private set; }

        /// <summary>The bytes of every message, back to back.</summary>
        public byte[] Buffer => _writer.Buffer;

        public int Start(int i) => i == 0 ? 0 : _ends[i - 1];

        public int End(int i) => _ends[i];

        public int Length(int i) => End(i) - Start(i);

        /// <summary>True for a byte[] sent as its raw bytes (a pipe's raw frame; only with RAWBYTES in <see cref="Encode"/>).</summary>
        public bool IsRaw(int i) => _raw[i];

        /// <summary>
        /// Encodes every item of ITEMS. A string or a dictionary given as the whole collection is one item, as in
        /// PowerShell's pipeline (which does not enumerate them). With RAWBYTES an item that is exactly a byte[] is
        /// kept as its bytes (a pipe sends it as a raw frame, as Send does). Throws ArgumentException, with nothing
        /// sent, when any item cannot be sent: a batch goes whole or not at all. Give it back with <see cref="Recycle"/>.
        /// </summary>
        public static MessageBatch Encode(IEnumerable items, int depth, bool rawBytes = false)
        {
            if (items is null) throw new ArgumentNullException(nameof(items));
            var batch = _spare ?? new MessageBatch();
            _spare = null;
            batch.Clear();
            try
            {
                if (items is string || items is IDictionary) batch.Add(items, depth, rawBytes);
                else if (items is int[] ints) batch.AddInts(ints);   // a typed array: no boxing of each element
                else foreach (var item in items) batch.Add(item, depth, rawBytes);
            }
            catch
            {
                Recycle(batch);
                throw;
            }
            return batch;
        }

        /// <summary>
        /// Decodes message BUFFER[START..START+LENGTH) of a received batch. The commonest batch messages, a lone
        /// primitive (an int, a long, a double, a bool, null), are read here without the general decoder's reader and
        /// numbering (measured: 19 → ~5 ns an int): the same bytes give the same value as <see cref="MessageCodec.Decode(byte[], int, int)"/>;
        /// anything else, or any other length, goes to it.
        /// </summary>
        public static unsafe object? Decode(byte[] buffer, int start, int length)
        {
            if ((uint)start < (uint)buffer.Length && length <= buffer.Length - start)
            {
                var tag = (Tag)buffer[start];
                if (length == 5 && tag == Tag.Int32) fixed (byte* p = &buffer[start + 1]) return *(int*)p;
                if (length == 9 && tag == Tag.Int64) fixed (byte* p = &buffer[start + 1]) return *(long*)p;
                if (length == 9 && tag == Tag.Double) fixed (byte* p = &buffer[start + 1]) return BitConverter.Int64BitsToDouble(*(long*)p);
                if (length == 1 && tag <= Tag.True) return tag == Tag.Null ? null : tag == Tag.True ? BoxedTrue : BoxedFalse;
            }
            return MessageCodec.Decode(buffer, start, length);
        }

        private static readonly object BoxedTrue = true, BoxedFalse = false;

        public static void Recycle(MessageBatch batch)
        {
            batch.Clear();
            _spare = batch;
        }

        /// <summary>An empty batch of the caller's own, filled one message at a time (<see cref="Append"/>), never recycled.</summary>
        internal static MessageBatch Create() => new MessageBatch();

        /// <summary>Empties the batch (its buffer is kept, up to the writer's limit).</summary>
        internal void Clear()
        {
            Count = 0;
            _writer.Reset();
        }

        /// <summary>
        /// Encodes ITEM now as the batch's next message, exactly as <see cref="Encode"/> would; when it cannot be encoded
        /// (ArgumentException, or the serializer's own exception) the batch is left as it was.
        /// </summary>
        internal void Append(object? item, int depth, bool rawBytes)
        {
            int mark = _writer.Length;
            try { Add(item, depth, rawBytes); }
            catch
            {
                _writer.Truncate(mark);
                _writer.StartNext();
                throw;
            }
        }

        /// <summary>Appends message I of FROM, its bytes as they are.</summary>
        internal void AppendEncoded(MessageBatch from, int i)
        {
            Reserve();
            _writer.StartNext();
            _writer.WriteBytes(from.Buffer, from.Start(i), from.Length(i));
            _ends[Count] = _writer.Length;
            _raw[Count] = from._raw[i];
            Count++;
        }

        /// <summary>Drops the first N messages (those a pipe sent before its timeout); the others move to the front.</summary>
        internal void DropFirst(int n)
        {
            if (n <= 0) return;
            if (n >= Count)
            {
                Clear();
                return;
            }
            int cut = _ends[n - 1], rest = _writer.Length - cut;
            System.Buffer.BlockCopy(_writer.Buffer, cut, _writer.Buffer, 0, rest);
            _writer.Truncate(rest);
            for (int i = n; i < Count; i++)
            {
                _ends[i - n] = _ends[i] - cut;
                _raw[i - n] = _raw[i];
            }
            Count -= n;
        }

        /// <summary>Each int of INTS as one message, exactly as <see cref="Add"/> encodes a boxed int.</summary>
        private void AddInts(int[] ints)
        {
            foreach (int i in ints)
            {
                Reserve();
                _writer.StartNext();
                _writer.WriteTag(Tag.Int32);
                _writer.WriteInt32(i);
                _ends[Count] = _writer.Length;
                _raw[Count] = false;
                Count++;
            }
        }

        private void Reserve()
        {
            if (Count == _ends.Length)
            {
                Array.Resize(ref _ends, Count * 2);
                Array.Resize(ref _raw, Count * 2);
            }
        }

        private void Add(object? item, int depth, bool rawBytes)
        {
            Reserve();
            int start = _writer.Length;
            _writer.StartNext();
            bool raw = rawBytes && item is byte[] && item.GetType() == typeof(byte[]);
            if (raw) _writer.WriteBytes((byte[])item!, 0, ((byte[])item!).Length);
            else if (item is int i)
            {
                // The commonest batch message, encoded here as the codec encodes it (tag, then the value; nothing to
                // charge, nothing numbered) without its general path (measured: 14 → ~4 ns an int).
                _writer.WriteTag(Tag.Int32);
                _writer.WriteInt32(i);
            }
            else MessageCodec.EncodeNext(_writer, item, depth);
            _ends[Count] = _writer.Length;
            _raw[Count] = raw;
            Count++;
        }
    }
}
