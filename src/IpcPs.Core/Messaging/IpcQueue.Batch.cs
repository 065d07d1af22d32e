using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // Batches (docs/design.md, "Queue", "Batches"): one lock acquisition, one commit and one wake-up call for a whole
    // PutMany; one lock acquisition and one wake-up call for a GetMany. A batch put is all-or-nothing: it waits until
    // the whole batch fits (count and blocks), and its messages become visible together at one commit point, so a
    // producer killed mid-batch leaves none of them in the queue. A batch get commits message by message under the one
    // lock hold (each is a get as Get makes it): a consumer killed mid-batch took the messages before its death with
    // it, as a consumer killed after a Get did, and left the rest.
    public sealed unsafe partial class IpcQueue : IEncodedBatchChannel
    {
        /// <summary>
        /// Puts every item of ITEMS (an object[] or any collection; a string or a dictionary is one item, as in the
        /// pipeline) in order, as one batch: all of them or, if the batch can never fit, none (MessageTooLargeException:
        /// more items than MaxSize, or more storage than the queue has). Waits for room for the whole batch.
        /// </summary>
        public void PutMany(IEnumerable items) => PutMany(items, true, double.PositiveInfinity);

        /// <summary>As PutMany; QueueFullException (nothing put) when there is no room for the whole batch in time.</summary>
        public void PutMany(IEnumerable items, bool block, double timeoutSeconds)
        {
            if (PutBatch(items, 0, PythonDeadline(block, timeoutSeconds), Interrupt(block), null) < 0) throw new QueueFullException(Name);
        }

        /// <summary>A priority queue's batch put: every item with PRIORITY, in order among themselves.</summary>
        public void PutManyWithPriority(IEnumerable items, long priority) => PutManyWithPriority(items, priority, true, double.PositiveInfinity);

        public void PutManyWithPriority(IEnumerable items, long priority, bool block, double timeoutSeconds)
        {
            RequirePriority();
            if (PutBatch(items, priority, PythonDeadline(block, timeoutSeconds), Interrupt(block), null) < 0) throw new QueueFullException(Name);
        }

        /// <summary>
        /// Takes up to MAX messages at once, in the queue's order: waits for the first, then takes what is there (never
        /// waits for more). Returns them as an object[] (one element per message). A damaged message is met as that many
        /// Gets would meet it: the messages before it are returned, it fails the next get of this handle (this call,
        /// when it is the first), and the ones after it, already out of the queue, are kept by this handle, whose next
        /// get of any kind returns them first (QSize() and Empty() count them; closing the handle drops them).
        /// </summary>
        public object?[] GetMany(int max) => GetMany(max, double.PositiveInfinity);

        /// <summary>As GetMany(MAX), waiting at most TIMEOUTSECONDS for the first message: an empty array when none came.</summary>
        public object?[] GetMany(int max, double timeoutSeconds)
        {
            var got = new List<object?>(Math.Min(Math.Max(max, 1), 1024));
            TakeBatch(max, Deadline.AfterSeconds(timeoutSeconds), timeoutSeconds > 0 ? Core.IpcHost.CallerInterrupt : CancellationToken.None, got);   // Ctrl+C ends the wait, as Get's
            return got.ToArray();
        }

        /// <summary>A joinable queue: marks COUNT got items done at once (TaskDoneException, nothing marked, if fewer are unfinished).</summary>
        public void TaskDone(int count)
        {
            RequireJoinable();
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The count is negative.");
            if (count == 0) return;
            if (FinishTasks(count)) return;
            throw new TaskDoneException(Name);
        }

        int IBatchChannel.TrySendMany(IEnumerable messages, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) RequirePriority();
            return PutBatch(messages, priority ?? 0, ChannelDeadline(timeout), cancel, depth);
        }

        int IBatchChannel.TryReceiveMany(int max, TimeSpan timeout, CancellationToken cancel, ICollection<object?> into) =>
            TakeBatch(max, ChannelDeadline(timeout), cancel, into);

        bool IEncodedBatchChannel.SendsRawBytes => false;

        int IEncodedBatchChannel.TrySendEncoded(MessageBatch batch, long? priority, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) RequirePriority();
            ThrowIfClosed();
            return TryPutMany(batch, priority ?? 0, ChannelDeadline(timeout), cancel) ? batch.Count : -1;
        }

        /// <summary>The most messages a batch may hold to fit this queue at all (MaxSize; else no limit but storage).</summary>
        int IBatchChannel.MaxBatch => MaxSize > 0 ? MaxSize : int.MaxValue;

        private void RequirePriority()
        {
            if (Order != QueueOrder.Priority)
                throw new InvalidOperationException($"The queue '{Name}' is a {Order} queue: only a priority queue takes a priority.");
        }

        /// <summary>Encodes and puts ITEMS as one batch: the number put, or -1 when there was no room before DEADLINE (none put).</summary>
        private int PutBatch(IEnumerable items, long priority, Deadline deadline, CancellationToken cancel, int? depth)
        {
            ThrowIfClosed();
            var batch = MessageBatch.Encode(items, depth ?? _depth);
            try { return TryPutMany(batch, priority, deadline, cancel) ? batch.Count : -1; }
            finally { MessageBatch.Recycle(batch); }
        }

        /// <summary>Takes up to MAX messages into INTO (decoded after the lock is released); the number taken.</summary>
        private int TakeBatch(int max, Deadline deadline, CancellationToken cancel, ICollection<object?> into)
        {
            if (max < 1) throw new ArgumentOutOfRangeException(nameof(max), max, "A batch takes at least one message.");
            if (_kept.Any)
            {
                int k = _kept.Receive(max, DecodeKept, into);   // what an earlier batch kept goes first
                if (k > 0) return k;
            }
            var buffer = _received ??= new byte[256];
            var ends = _ends ??= new int[64];
            int n = TryTakeMany(ref buffer, ref ends, max, deadline, cancel);
            _received = buffer.Length > 1 << 20 ? null : buffer;
            _ends = ends.Length > 1 << 16 ? null : ends;
            int i = 0;
            try { for (int start = 0; i < n; start = ends[i++]) into.Add(MessageBatch.Decode(buffer, start, ends[i] - start)); }
            catch
            {
                // Message i would not decode (damaged): the batch behaves as N single gets would. The ones before it are
                // delivered by this call; it fails the handle's next receive (this one, when it is the first), and the
                // ones after it are kept by the handle, which hands them out first (design.md, "Damaged messages in a batch").
                _kept.Keep(buffer, ends, null, i == 0 ? 1 : i, n);
                if (i == 0) throw;
                return i;
            }
            return n;
        }

        /// <summary>A kept message, decoded as a get decodes it.</summary>
        private static readonly KeptDecoder DecodeKept = (buffer, start, length, raw) => MessageBatch.Decode(buffer, start, length);

        [ThreadStatic] private static int[]? _ends;

        /// <summary>Puts the batch's messages at one commit; false if there was no room for all of them before DEADLINE.</summary>
        private bool TryPutMany(MessageBatch batch, long priority, Deadline deadline, CancellationToken cancel)
        {
            int k = batch.Count;
            if (k == 0) return true;
            long blocks = Order == QueueOrder.Priority ? 1 : 0;   // room for a new bucket
            for (int i = 0; i < k; i++)
            {
                int length = batch.Length(i);
                if (length > MaxMessageLength)
                    throw new MessageTooLargeException(Name, length, MaxMessageLength, $"the queue '{Name}' can hold at most");
                blocks += BlocksFor(length);
            }
            int max = MaxSize;
            if (blocks > BlockCount)
                throw new MessageTooLargeException(Name, blocks * BlockSize, Capacity, $"the batch of {k} messages needs that much storage; the queue '{Name}' has");
            if (max > 0 && k > max)
                throw new MessageTooLargeException(Name, k, max, $"the batch counts its messages: it has {k}; the queue '{Name}' holds at most");
            int need = (int)blocks;
            long spinUntil = 0;
            byte* b = Base;   // valid after a Close by another thread, as in TryPut
            while (true)
            {
                ThrowIfClosed();
                int seen = 0;
                bool done = false;
                Enter(b, cancel);
                try
                {
                    if ((max == 0 || *(int*)(b + CountOff) + k <= max) && BlockCount - *(int*)(b + UsedOff) >= need)
                    {
                        InsertMany(b, batch, priority);
                        *(int*)(b + PutSignal) += 1;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueSignal);
                        done = true;
                    }
                    else seen = *(int*)(b + GetSignal);
                }
                finally { Leave(b); }
                if (done)
                {
                    SignalWord.Wake((int*)(b + PutSignal), (int*)(b + GetSleepers), k);   // one call, up to one getter per message
                    return true;
                }
                if (!AwaitChange(b, GetSignal, PutSleepers, seen, deadline, cancel, ref spinUntil)) return false;
            }
        }

        /// <summary>
        /// Links the batch in with one commit. All its blocks are allocated as one chain (so the log holds the same few
        /// words whatever the batch's size: the free list's head and tail, one link, fresh, used, count, the queue's
        /// head or tail and a bucket's words); a message's last block may link on to the next message's first block,
        /// which a get ignores (it walks exactly the blocks its length needs) and clears when it frees them. The
        /// messages' own words (next message, length) are written directly: nothing reachable points to them yet.
        /// </summary>
        private void InsertMany(byte* b, MessageBatch batch, long priority)
        {
            _log.Begin();
            var order = Order;
            int k = batch.Count;
            int bucket = None, before = None, at = None;
            bool newBucket = false;
            if (order == QueueOrder.Priority)
            {
                at = _log.Read(b, HeadOff);
                for (int steps = 0; at != None && *(long*)(b + Block(Check(at)) + 16) < priority; steps++)
                {
                    if (steps > BlockCount) throw Damaged("its priority list loops");
                    before = at;
                    at = _log.Read(b, Block(at));
                }
                if (at != None && *(long*)(b + Block(at) + 16) == priority) bucket = at;
                else
                {
                    bucket = Allocate(b, 1);
                    newBucket = true;
                    *(long*)(b + Block(bucket) + 16) = priority;
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    _log.Write(Block(bucket), at);
                    _log.Write(before == None ? HeadOff : Block(before), bucket);
                }
            }
            int total = 0;
            for (int i = 0; i < k; i++) total += BlocksFor(batch.Length(i));
            Allocate(b, total);   // _chain[0..total): one chain
            int oldHead = order == QueueOrder.Lifo ? _log.Read(b, HeadOff) : None;
            int first = _chain[0], last = first, previous = None;
            var buffer = batch.Buffer;
            fixed (byte* src = buffer)
            {
                for (int i = 0, s = 0; i < k; i++)
                {
                    int length = batch.Length(i), n = BlocksFor(length);
                    int head = _chain[s];
                    byte* m = b + Block(head);
                    // Fifo and a bucket: each message links to the next of the batch; Lifo: to the one before it.
                    int next = order == QueueOrder.Lifo ? (i == 0 ? oldHead : previous) : (i + 1 < k ? _chain[s + n] : None);
                    *(int*)(m + 4) = next;
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    *(int*)(m + 8) = length;
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    *(int*)(m + 12) = 0;
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    var copy = new ChainCopy(b, _chain, s);
                    copy.In(src + batch.Start(i), length);
                    previous = last = head;
                    s += n;
                }
            }
            switch (order)
            {
                case QueueOrder.Fifo:
                    int tail = _log.Read(b, TailOff);
                    _log.Write(tail == None ? HeadOff : Block(Check(tail)) + 4, first);
                    _log.Write(TailOff, last);
                    break;
                case QueueOrder.Lifo:
                    _log.Write(HeadOff, last);   // the batch's last message comes out first, as after k Puts
                    break;
                default:
                    if (newBucket)
                    {
                        *(int*)(b + Block(bucket) + 4) = first;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                        *(int*)(b + Block(bucket) + 8) = last;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    }
                    else
                    {
                        int end = Check(*(int*)(b + Block(bucket) + 8));
                        _log.Write(Block(end) + 4, first);
                        _log.Write(Block(bucket) + 8, last);
                    }
                    break;
            }
            _log.Write(CountOff, *(int*)(b + CountOff) + k);
            if (IsJoinable) _log.Write(UnfinishedOff, *(int*)(b + UnfinishedOff) + k);
            _log.Commit(b, PutLogOffset);
        }

        /// <summary>
        /// Takes up to MAX messages into BUFFER back to back (ENDS[i]: where message i ends) under one lock hold, each
        /// committed as a Get commits it; waits only for the first. Returns how many (0: none before DEADLINE).
        /// </summary>
        private int TryTakeMany(ref byte[] buffer, ref int[] ends, int max, Deadline deadline, CancellationToken cancel)
        {
            long spinUntil = 0;
            int taken = 0;
            byte* b = Base;
            try
            {
                while (true)
                {
                    ThrowIfClosed();
                    int seen = 0;
                    Enter(b, cancel);
                    try
                    {
                        int count = *(int*)(b + CountOff);
                        if (count > 0)
                        {
                            int n = Math.Min(count, max);
                            if (ends.Length < n) ends = new int[Math.Max(n, ends.Length * 2)];
                            if (Order == QueueOrder.Priority)
                            {
                                // Each Remove commits: a damaged message met after some were taken ends the batch with
                                // them (they are out of the queue), and fails the next get, as it fails a Get. Not a
                                // loop: messages that claim more than the storage may be one message met again.
                                bool looped = false;
                                try
                                {
                                    for (int end = 0; taken < n;)
                                    {
                                        end += Remove(b, ref buffer, end);
                                        ends[taken++] = end;
                                        looped = end > Capacity;
                                        CheckBatchBytes(end);
                                    }
                                }
                                catch (Exception) when (taken > 0 && !looped) { }
                            }
                            else taken = RemoveMany(b, ref buffer, ends, n);
                            *(int*)(b + GetSignal) += 1;
                            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueSignal);
                        }
                        else seen = *(int*)(b + PutSignal);
                    }
                    finally { Leave(b); }
                    if (taken > 0)
                    {
                        SignalWord.Wake((int*)(b + GetSignal), (int*)(b + PutSleepers), int.MaxValue);
                        return taken;
                    }
                    if (!AwaitChange(b, PutSignal, GetSleepers, seen, deadline, cancel, ref spinUntil)) return 0;
                }
            }
            finally
            {
                // As TryTake: a getter leaving with nothing passes on a wake-up that may have been meant for it, and one
                // that leaves messages behind passes one on too (a batch put woke one sleeper per message, a single put
                // one: the other sleepers may still be waiting for what this batch left).
                if (Volatile.Read(ref *(int*)(b + CountOff)) > 0)
                    SignalWord.Wake((int*)(b + PutSignal), (int*)(b + GetSleepers), 1);
            }
        }

        /// <summary>
        /// Takes the first N messages (N ≤ count; Fifo or Lifo) into BUFFER back to back, ENDS[i] where message i ends.
        /// Commits in groups as large as the redo log allows: a group logs the same few words (head, tail, free-list
        /// tail, used, count) and at most one link per message — the free list's last block on to the message's first,
        /// which a batch put has often written already (its messages' blocks are one chain). So a consumer killed
        /// mid-batch has taken whole groups and left whole groups. Returns how many were taken: fewer than N when a
        /// damaged message (a link or length no put writes) comes after others, which are then taken without it (every
        /// check of a message comes before its first logged write); the damage fails the next get, as it fails a Get.
        /// A walk that loops (one message met again) is not such a message: it is met only once the batch claims more
        /// than the storage, and then the whole batch fails as before, its last group not committed.
        /// </summary>
        private int RemoveMany(byte* b, ref byte[] buffer, int[] ends, int n)
        {
            const int Closing = 7;   // the group's last link and its five words, and one spare
            bool fifo = Order == QueueOrder.Fifo;
            int end = 0, i = 0;
            bool damaged = false, looped = false;
            while (i < n && !damaged)
            {
                _log.Begin();
                int head = *(int*)(b + HeadOff), prev = *(int*)(b + FreeTailOff);   // PREV: the free chain's last block
                int taken = 0, freed = 0;
                try
                {
                    if (prev != None) Check(prev);
                    for (; i < n && _log.Count < RedoLog.Capacity - Closing; i++, taken++)
                    {
                        int first = Check(head);
                        byte* m = b + Block(first);
                        int length = *(int*)(m + 8);
                        if (length < 0 || length > MaxMessageLength) throw Damaged($"a message claims {length} bytes");
                        looped = (long)end + length > Capacity;
                        CheckBatchBytes((long)end + length);
                        if (buffer.Length - end < length)
                        {
                            if ((long)end + length > int.MaxValue) throw new MessageTooLargeException(Name, (long)end + length, int.MaxValue, "a batch holds at most");
                            var bigger = new byte[Math.Max(end + length, (int)Math.Min(int.MaxValue, buffer.Length * 2L))];
                            Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                            buffer = bigger;
                        }
                        int blocks = BlocksFor(length);
                        if (_chain.Length < blocks) _chain = new int[Math.Max(blocks, _chain.Length * 2)];
                        int at = first;
                        for (int j = 0; j < blocks; j++)
                        {
                            _chain[j] = Check(at);
                            at = *(int*)(b + Block(at));
                        }
                        var copy = new ChainCopy(b, _chain);
                        fixed (byte* dst = buffer) copy.Out(dst + end, length);
                        ends[i] = end += length;
                        // The free chain goes on with this message's blocks (each PREV is linked once, so no earlier write).
                        if (prev == None) _log.TryAppend(FreeHeadOff, first);
                        else if (*(int*)(b + Block(prev)) != first) _log.TryAppend(Block(prev), first);
                        prev = _chain[blocks - 1];
                        freed += blocks;
                        head = *(int*)(m + 4);
                    }
                }
                // Message I is left first and the group commits without it; but never after a loop (messages that claim
                // more than the storage: the walk met one of them again, and this group would free its blocks twice).
                catch (Exception) when (i > 0 && !looped) { damaged = true; }
                if (taken == 0) break;
                if (*(int*)(b + Block(prev)) != None) _log.TryAppend(Block(prev), None);   // the free list ends here
                _log.Write(HeadOff, head);
                if (fifo && head == None) _log.Write(TailOff, None);
                _log.Write(FreeTailOff, prev);
                _log.Write(UsedOff, *(int*)(b + UsedOff) - freed);
                _log.Write(CountOff, *(int*)(b + CountOff) - taken);
                _log.Commit(b, GetLogOffset);
            }
            return i;
        }

        /// <summary>
        /// The messages of one batch were all in the queue at once, so together they hold less than its storage: more
        /// means links that loop (a damaged segment), never a reason to allocate more.
        /// </summary>
        private void CheckBatchBytes(long bytes)
        {
            if (bytes > Capacity) throw Damaged($"its messages claim more than its {Capacity} bytes of storage");
        }

        private bool FinishTasks(int n)
        {
            int left;
            byte* b = Base;
            Enter(b, CancellationToken.None);
            try
            {
                left = *(int*)(b + UnfinishedOff);
                if (left < n) return false;
                _log.Begin();
                _log.Write(UnfinishedOff, left -= n);
                _log.Commit(b, GetLogOffset);
            }
            finally { Leave(b); }
            if (left == 0)
            {
                Interlocked.Increment(ref *(int*)(b + JoinSignal));
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueSignal);
                SignalWord.Wake((int*)(b + JoinSignal), (int*)(b + JoinSleepers), int.MaxValue);
            }
            return true;
        }
    }
}
