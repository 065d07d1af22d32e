using System;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // The Python-shaped methods (CPython's Connection) and the channel interface.
    public sealed unsafe partial class IpcConnection : IKeepingChannel
    {
        [ThreadStatic] private static byte[]? _received;
        private readonly KeptMessages _kept = new KeptMessages();   // taken by a batch receive, not yet handed out (damage)

        /// <summary>Sends one object (a byte[] goes as raw bytes, exactly as SendBytes). Blocks while the buffer is full.</summary>
        public void Send(object? obj) => SendObject(obj, Deadline.Infinite, Core.IpcHost.CallerInterrupt);

        /// <summary>
        /// Receives one object. ConnectionClosedException when the other end is closed (or all its processes died) and
        /// nothing is left.
        /// </summary>
        public object? Recv()
        {
            TryReceiveObject(Deadline.Infinite, Core.IpcHost.CallerInterrupt, out var value);
            return value;
        }

        /// <summary>Whether a message (or the end of the stream) is ready now: true too while the handle keeps messages (RecvMany).</summary>
        public bool Poll() => PollFrame(Deadline.AfterSeconds(0), CancellationToken.None);

        /// <summary>CPython's poll(timeout): waits at most TIMEOUTSECONDS (+∞: no limit; negative: 0).</summary>
        public bool Poll(double timeoutSeconds) => PollFrame(Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);

        public bool Poll(TimeSpan timeout, CancellationToken cancel) => PollFrame(IpcQueue.ChannelDeadline(timeout), cancel);

        public void SendBytes(byte[] buffer) => SendBytes(buffer, 0);

        public void SendBytes(byte[] buffer, int offset) => SendBytes(buffer, offset, (buffer ?? throw new ArgumentNullException(nameof(buffer))).Length - Math.Max(offset, 0));

        /// <summary>Sends BUFFER[OFFSET..OFFSET+SIZE) as one message, as it is (CPython's send_bytes and its argument checks).</summary>
        public void SendBytes(byte[] buffer, int offset, int size)
        {
            if (buffer is null) throw new ArgumentNullException(nameof(buffer));
            if (offset < 0) throw new ArgumentOutOfRangeException(null, "The offset is negative.");
            if (buffer.Length < offset) throw new ArgumentOutOfRangeException(null, "The buffer is shorter than the offset.");
            if (size < 0) throw new ArgumentOutOfRangeException(null, "The size is negative.");
            if ((long)offset + size > buffer.Length) throw new ArgumentOutOfRangeException(null, "The buffer is shorter than offset + size.");
            byte[] part = buffer;
            if (offset != 0 || size != buffer.Length)
            {
                part = new byte[size];
                Buffer.BlockCopy(buffer, offset, part, 0, size);
            }
            SendFrame(part, part.Length, null, RawFlag, Deadline.Infinite, Core.IpcHost.CallerInterrupt);
        }

        /// <summary>Receives one message as its bytes (an object message gives its encoded bytes).</summary>
        public byte[] RecvBytes() => RecvBytes(int.MaxValue);

        /// <summary>
        /// As RecvBytes, refusing a message longer than MAXLENGTH with MessageTooLargeException; that message is
        /// discarded and the connection stays usable (CPython leaves the connection unreadable instead).
        /// </summary>
        public byte[] RecvBytes(int maxLength)
        {
            if (maxLength < 0) throw new ArgumentOutOfRangeException(null, "The maximum length is negative.");
            TryReceiveBytes(Deadline.Infinite, Core.IpcHost.CallerInterrupt, out var bytes, out _);
            if (bytes.Length > maxLength) throw new MessageTooLargeException(Name, bytes.Length, maxLength, "the limit given is");
            return bytes;
        }

        /// <summary>
        /// Receives one message straight into BUFFER at OFFSET (no other copy); returns its length. A message that does
        /// not fit is consumed and refused with MessageTooLargeException (CPython: BufferTooShort).
        /// </summary>
        public int RecvBytesInto(byte[] buffer, int offset = 0)
        {
            if (buffer is null) throw new ArgumentNullException(nameof(buffer));
            if (offset < 0) throw new ArgumentOutOfRangeException(null, "The offset is negative.");
            if (offset > buffer.Length) throw new ArgumentOutOfRangeException(null, "The offset is past the buffer's end.");
            if (_kept.Any && _kept.TryTakeBytes(out var kept, out int start, out int length, out _))
            {
                if (length > buffer.Length - offset) throw new MessageTooLargeException(Name, length, buffer.Length - offset, "the buffer has room for");
                Buffer.BlockCopy(kept, start, buffer, offset, length);
                return length;
            }
            ReceiveFrame(ref buffer, offset, false, out int got, out _, Deadline.Infinite, Core.IpcHost.CallerInterrupt);
            return got;
        }

        bool IMessageChannel.TakesPriority => false;

        bool IMessageChannel.TrySend(object? message, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) throw new InvalidOperationException($"'{Name}' is a pipe: only a priority queue takes a priority.");
            return SendObject(message, IpcQueue.ChannelDeadline(timeout), cancel, depth);
        }

        bool IMessageChannel.TryReceive(TimeSpan timeout, CancellationToken cancel, out object? message) =>
            TryReceiveObject(IpcQueue.ChannelDeadline(timeout), cancel, out message);

        bool IKeepingChannel.TryReceiveKept(out object? message) => _kept.TryReceive(DecodeKept, out message);

        private bool SendObject(object? obj, Deadline deadline, CancellationToken cancel, int? depth = null)
        {
            // A raw frame only for exactly a byte[] (an sbyte[] passes for one at run time, and travels encoded).
            if (obj is byte[] raw && raw.GetType() == typeof(byte[])) return SendFrame(raw, raw.Length, null, RawFlag, deadline, cancel);
            var m = MessageCodec.Encode(obj, depth ?? _depth);
            try { return SendFrame(m.Buffer, m.Length, m.Tail, 0, deadline, cancel); }
            finally { MessageCodec.Recycle(m); }
        }

        /// <summary>
        /// Sends MESSAGE if it can go without waiting for the receiver: a frame that fits the ring goes if the ring has
        /// room for it now, a larger one (it streams as the receiver reads it) never. With WAIT, as Send: waits for
        /// room, or streams, until CANCEL. False when it did not go (nothing of it sent); FRAMEBYTES is its frame's
        /// size. For a sender with other receivers to turn to (the pool's dispatcher and its busy workers).
        /// </summary>
        internal bool TrySendWithoutWaiting(object? message, bool wait, CancellationToken cancel, out long frameBytes)
        {
            var m = MessageCodec.Encode(message, _depth);
            try
            {
                frameBytes = FrameHeader + m.TotalLength;
                if (!wait && frameBytes > BufferSize) return false;
                return SendFrame(m.Buffer, m.Length, m.Tail, 0, wait ? Deadline.Infinite : Deadline.AfterSeconds(0), cancel);
            }
            finally { MessageCodec.Recycle(m); }
        }

        /// <summary>The room, in bytes, of the ring this end writes: a frame up to that size would go now.</summary>
        internal long SendRoom
        {
            get
            {
                byte* ring = Ring(WriteRing);
                long used = Volatile.Read(ref *(long*)(ring + TailOff)) - Volatile.Read(ref *(long*)(ring + HeadOff));
                return used < 0 || used > BufferSize ? 0 : BufferSize - used;
            }
        }

        private bool TryReceiveObject(Deadline deadline, CancellationToken cancel, out object? value)
        {
            if (_kept.Any && _kept.TryReceive(DecodeKept, out value)) return true;   // what a batch kept goes first
            value = null;
            if (!TryReceiveBytes(deadline, cancel, out var bytes, out int flags, out int length)) return false;
            value = (flags & RawFlag) != 0 ? bytes : MessageCodec.Decode(bytes, 0, length);
            return true;
        }

        private bool TryReceiveBytes(Deadline deadline, CancellationToken cancel, out byte[] bytes, out int flags)
        {
            if (_kept.Any && _kept.TryTakeBytes(out var kept, out int start, out int length, out bool raw))
            {
                bytes = Bytes.New(length);
                Buffer.BlockCopy(kept, start, bytes, 0, length);
                flags = raw ? RawFlag : 0;
                return true;
            }
            return TryReceiveBytes(deadline, cancel, out bytes, out flags, out _, exact: true);
        }

        /// <summary>
        /// One frame: with EXACT (or a raw frame) an array of exactly the message, the caller's to keep; otherwise the
        /// thread's scratch buffer, valid until the thread's next receive.
        /// </summary>
        private bool TryReceiveBytes(Deadline deadline, CancellationToken cancel, out byte[] bytes, out int flags, out int length, bool exact = false)
        {
            var buffer = _received ?? new byte[256];
            _received = null;   // a receive on this thread re-entered from a decoder cannot share it
            bool got = ReceiveFrame(ref buffer, 0, true, out length, out flags, deadline, cancel);
            if (!got) { Keep(buffer); bytes = Array.Empty<byte>(); return false; }
            if ((exact || (flags & RawFlag) != 0) && buffer.Length != length)
            {
                bytes = Bytes.New(length);
                Buffer.BlockCopy(buffer, 0, bytes, 0, length);
                Keep(buffer);
                return true;
            }
            if (!exact && (flags & RawFlag) == 0) Keep(buffer);   // decoded at once by the caller, before any other receive here
            bytes = buffer;
            return true;
        }

        private static void Keep(byte[] buffer) => _received = buffer.Length > 1 << 20 ? null : buffer;
    }
}
