using System;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // The Python-shaped methods and the channel interface. Timeouts are seconds as in CPython: +∞ none, negative 0.
    public sealed partial class IpcQueue : IJoinableChannel, IKeepingChannel
    {
        public void Put(object? item) => Put(item, true, double.PositiveInfinity);

        public void Put(object? item, bool block) => Put(item, block, double.PositiveInfinity);

        /// <summary>CPython's put(obj, block, timeout): QueueFullException when there is no room in time.</summary>
        public void Put(object? item, bool block, double timeoutSeconds)
        {
            if (!PutEncoded(item, 0, PythonDeadline(block, timeoutSeconds), Interrupt(block))) throw new QueueFullException(Name);
        }

        public void PutNoWait(object? item) => Put(item, false);

        /// <summary>A priority queue's put: lower numbers come out first; equal priorities in arrival order.</summary>
        public void PutWithPriority(object? item, long priority) => PutWithPriority(item, priority, true, double.PositiveInfinity);

        public void PutWithPriority(object? item, long priority, bool block, double timeoutSeconds)
        {
            if (Order != QueueOrder.Priority)
                throw new InvalidOperationException($"The queue '{Name}' is a {Order} queue: only a priority queue takes a priority.");
            if (!PutEncoded(item, priority, PythonDeadline(block, timeoutSeconds), Interrupt(block))) throw new QueueFullException(Name);
        }

        public object? Get() => Get(true, double.PositiveInfinity);

        public object? Get(bool block) => Get(block, double.PositiveInfinity);

        /// <summary>CPython's get(block, timeout): QueueEmptyException when nothing comes in time.</summary>
        public object? Get(bool block, double timeoutSeconds)
        {
            if (!TryGet(PythonDeadline(block, timeoutSeconds), Interrupt(block), out var item)) throw new QueueEmptyException(Name);
            return item;
        }

        public object? GetNoWait() => Get(false);

        /// <summary>Sends the bytes of BUFFER as they are; Get returns a byte[] for it.</summary>
        public void PutBytes(byte[] buffer) => Put(buffer ?? throw new ArgumentNullException(nameof(buffer)));

        /// <summary>A joinable queue: marks one got item done. TaskDoneException when called more times than items were put.</summary>
        public void TaskDone()
        {
            RequireJoinable();
            if (FinishTask()) return;
            throw new TaskDoneException(Name);
        }

        /// <summary>A joinable queue: waits until every item put has been marked done.</summary>
        public void Join() => Join(Timeout.InfiniteTimeSpan, Core.IpcHost.CallerInterrupt);   // RequireJoinable inside

        /// <summary>Waits at most TIMEOUTSECONDS; False when items are still unfinished then.</summary>
        public bool Join(double timeoutSeconds)
        {
            RequireJoinable();
            return WaitJoined(Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);
        }

        public bool Join(TimeSpan timeout, CancellationToken cancel)
        {
            RequireJoinable();
            return WaitJoined(Deadline.After(timeout), cancel);
        }

        bool IMessageChannel.TrySend(object? message, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue && Order != QueueOrder.Priority)
                throw new InvalidOperationException($"The queue '{Name}' is a {Order} queue: only a priority queue takes a priority.");
            return PutEncoded(message, priority ?? 0, ChannelDeadline(timeout), cancel, depth);
        }

        bool IMessageChannel.TryReceive(TimeSpan timeout, CancellationToken cancel, out object? message) =>
            TryGet(ChannelDeadline(timeout), cancel, out message);

        bool IKeepingChannel.TryReceiveKept(out object? message) => _kept.TryReceive(DecodeKept, out message);

        /// <summary>Zero means "do not wait at all" (a Deadline that has already passed).</summary>
        internal static Deadline ChannelDeadline(TimeSpan timeout) =>
            timeout == TimeSpan.Zero ? Deadline.AfterSeconds(0) : Deadline.After(timeout);

        /// <summary>A method's wait ends on the host's interrupt (Ctrl+C); a call that does not block needs none.</summary>
        internal static CancellationToken Interrupt(bool block) => block ? Core.IpcHost.CallerInterrupt : CancellationToken.None;

        internal static Deadline PythonDeadline(bool block, double timeoutSeconds) =>
            block ? Deadline.AfterSeconds(timeoutSeconds) : Deadline.AfterSeconds(0);

        private bool PutEncoded(object? item, long priority, Deadline deadline, CancellationToken cancel, int? depth = null)
        {
            ThrowIfClosed();
            var message = MessageCodec.Encode(item, depth ?? _depth);
            try { return TryPut(message.Buffer, message.Length, message.Tail, priority, deadline, cancel); }
            finally { MessageCodec.Recycle(message); }
        }

        private void RequireJoinable()
        {
            if (!IsJoinable) throw new InvalidOperationException($"The queue '{Name}' is not joinable: create it with -Joinable for TaskDone and Join.");
        }

        private bool TryGet(Deadline deadline, CancellationToken cancel, out object? item)
        {
            if (_kept.Any && _kept.TryReceive(DecodeKept, out item)) return true;   // what a batch kept goes first
            var buffer = _received ??= new byte[256];
            if (!TryTake(ref buffer, out int length, deadline, cancel))
            {
                item = null;
                return false;
            }
            _received = buffer.Length > 1 << 20 ? null : buffer;   // keep no huge buffer for later small messages
            item = MessageCodec.Decode(buffer, 0, length);
            return true;
        }
    }
}
