using System;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // Batches (docs/design.md, "Queue", "Batches"): one lock acquisition, one commit and one wake-up call for a whole
    // PutMany; one lock acquisition and one wake-up call for a GetMany. A batch put is all-or-nothing: it waits until
    // the whole batch fits (count and blocks), and its messages become visible together at one commit point, so a
    // producer killed mid-batch leaves none of them in the queue. A batch get first walks and checks all its messages,
    // changing nothing, then commits them in groups (Priority: one by one, as Get) under the one lock hold: a consumer
    // killed mid-batch took the groups before its death with it, as a consumer killed after a Get did, and left the rest.
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
        /// Takes up to MAX messages into BUFFER back to back (ENDS[i]: where message i ends) under one lock hold
        /// (<see cref="TakeMany"/>); waits only for the first. Returns how many (0: none before DEADLINE).
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
                            // Each message takes a block: a larger count is damage, never a reason to allocate more.
                            int n = Math.Min(Math.Min(count, max), BlockCount);
                            if (ends.Length < n) ends = new int[Math.Max(n, ends.Length * 2)];
                            taken = TakeMany(b, ref buffer, ends, n);
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

        // The walk of a batch get (used under the lock, like _chain and the log): the blocks in the order it met them,
        // and per message i of the walk: _upto[i], where its blocks end in _walked (they are the last BlocksFor(its
        // length)); Priority: _next[i], its next-message link, _bucket[i], its bucket, and _after[i], that bucket's next
        // when message i empties it. Fifo, Lifo: _appends, the free chain's links the commits log (offset, value, the
        // message that needs it; _appendCount of them), and _finalLink, what the last message's last block links to
        // (Unknown: write None). _leave: the link the queue is left with after the messages the walk takes.
        private int[] _walked = new int[64], _upto = new int[64], _appends = new int[192], _next = new int[64], _bucket = new int[64], _after = new int[64];
        private int _walkedCount, _repeat, _leave, _stopped, _appendCount, _finalLink;
        private const int GroupLinks = RedoLog.Capacity - 7;   // a group's links: its last link and five words, and one spare, left
        private const int Unknown = int.MinValue;

        /// <summary>
        /// Takes up to N messages (N ≤ count) into BUFFER back to back, ENDS[i] where message i ends, in two passes: the
        /// walk (<see cref="WalkBatch"/>) reads, checks and copies out every one of them, writing nothing shared; then
        /// they are committed from what it read: Fifo and Lifo in groups as large as the redo log holds, Priority one by
        /// one as Get commits. So nothing is freed before the whole batch is known to free no block twice. Returns how
        /// many: fewer than N when the walk met damage after some; damage at the first throws, and nothing is taken.
        /// </summary>
        private int TakeMany(byte* b, ref byte[] buffer, int[] ends, int n)
        {
            if (_upto.Length < n)
            {
                int size = Math.Max(n, _upto.Length * 2);
                _upto = new int[size];
                if (Order != QueueOrder.Priority) _appends = new int[3 * size];
                else
                {
                    _next = new int[size];
                    _bucket = new int[size];
                    _after = new int[size];
                }
            }
            int m = WalkBatch(b, ref buffer, ends, n);
            if (Order == QueueOrder.Priority) ReleaseOneByOne(b, ends, m);
            else ReleaseInGroups(b, m);
            return m;
        }

        // A batch get's walk marks each block it meets: _marks[block] == _mark. Each walk takes the next mark, so nothing
        // is cleared after it (all of it every 255 walks). Per thread: a walk runs under a queue's lock and calls out to
        // nothing, and one array (a byte per block ever used) serves every queue the thread takes batches from.
        [ThreadStatic] private static byte[]? _marks;
        [ThreadStatic] private static byte _mark;

        /// <summary>The marks for a walk of blocks below FRESH, and its mark.</summary>
        private static byte[] Marks(int fresh, out byte mark)
        {
            var marks = _marks;
            if (marks == null || marks.Length < fresh) _marks = marks = new byte[Math.Max(fresh, Math.Min(int.MaxValue / 2, (marks?.Length ?? 1024) * 2))];
            if ((mark = ++_mark) == 0)
            {
                Array.Clear(marks, 0, marks.Length);
                mark = _mark = 1;
            }
            return marks;
        }

        /// <summary>
        /// A batch get's first pass: walks up to N messages in get order (heads, next links, chains, buckets), checks each
        /// link and length and copies the messages out into BUFFER; writes nothing shared. Every block it meets is marked,
        /// so a link back into the batch (a loop, in a damaged segment) is found before anything is freed: the batch then
        /// takes only the messages before the one that holds the block met again (their blocks are all distinct, and the
        /// link it leaves the queue with leads to that one, which it does not free), and the loop stays in the queue for
        /// the next batch get to fail on. A link that leaves the queue, after a message, on a marked block is a loop too.
        /// Other damage (a link outside the blocks ever used or to the free list's last, a length no put writes, a Fifo's
        /// tail or a bucket's last message that links on) takes the messages before the damaged one. Returns how many;
        /// throws the damage when that is none.
        /// </summary>
        private int WalkBatch(byte* b, ref byte[] buffer, int[] ends, int n)
        {
            bool priority = Order == QueueOrder.Priority;
            int fresh = *(int*)(b + FreshOff), last = Order == QueueOrder.Fifo ? *(int*)(b + TailOff) : None;
            int freeTail = *(int*)(b + FreeTailOff);
            if (fresh < 0 || fresh > BlockCount) throw Damaged("its block counts disagree");
            if (freeTail < None || freeTail >= fresh) throw Damaged($"its free list ends at block {freeTail}, of {fresh} ever used");
            // Fifo, Lifo: the free chain's last block (PREV) and what it links to (LINK), as the commits will leave them.
            int prev = freeTail, link = freeTail == None ? None : *(int*)(b + Block(freeTail)), links = 0, na = 0;
            _repeat = None;
            var seen = Marks(fresh, out byte mark);
            int[] walked = _walked, appends = _appends;
            int i = 0, end = 0, bucket = None, w = 0;   // w: blocks walked, walked[..w)
            int at = *(int*)(b + HeadOff);   // the next message's first block; Priority, at a bucket's end: the next bucket
            bool enter = priority;
            Exception? damage = null;   // no try here: a damaged link breaks the loop (See returns None), so the loop's locals stay in registers
            for (; i < n; i++)
            {
                if (enter)
                {
                    if ((bucket = See(seen, mark, walked, ref w, at, fresh, freeTail)) == None) break;
                    at = *(int*)(b + Block(bucket) + 4);
                    last = *(int*)(b + Block(bucket) + 8);
                    enter = false;
                }
                int first = See(seen, mark, walked, ref w, at, fresh, freeTail);
                if (first == None) break;
                byte* m = b + Block(first);
                int length = *(int*)(m + 8), next = *(int*)(m + 4);
                if (length < 0 || length > MaxMessageLength)
                {
                    damage = Damaged($"a message claims {length} bytes");
                    break;
                }
                int blocks = BlocksFor(length), j = 1;
                if (_chain.Length < blocks) _chain = new int[Math.Max(blocks, _chain.Length * 2)];
                // Room for the rest of its blocks and for the next message's bucket and first block.
                if (walked.Length - w < blocks + 1) _walked = walked = Grown(walked, w + blocks + 1);
                _chain[0] = first;
                for (; j < blocks; j++)
                    if ((_chain[j] = See(seen, mark, walked, ref w, *(int*)(b + Block(_chain[j - 1])), fresh, freeTail)) == None) break;
                if (j < blocks) break;
                int onto = next;   // where the queue goes on after this message
                if (priority && next == None)
                {
                    onto = *(int*)(b + Block(bucket));   // the bucket empties: the next bucket
                    _after[i] = onto;
                    enter = true;
                }
                // A link that leaves the queue on a block of the batch (a loop closing here) would leave it on a freed
                // one: checked where the walk does not go on to See it (the batch's last message), and before the
                // check of the last message (a loop, not a wrong tail, when the last one links back).
                if ((i + 1 == n || first == last) && onto >= 0 && onto < fresh && seen[onto] == mark)
                {
                    damage = Looped(_repeat = onto);
                    break;
                }
                if (next != None && first == last)
                {
                    damage = Damaged("its last message links on to another");   // a Fifo's tail, a bucket's last
                    break;
                }
                if (buffer.Length - end < length)
                {
                    if ((long)end + length > int.MaxValue)
                    {
                        damage = new MessageTooLargeException(Name, (long)end + length, int.MaxValue, "a batch holds at most");
                        break;
                    }
                    var bigger = new byte[Math.Max(end + length, (int)Math.Min(int.MaxValue, buffer.Length * 2L))];
                    Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                    buffer = bigger;
                }
                var copy = new ChainCopy(b, _chain);
                fixed (byte* dst = buffer) copy.Out(dst + end, length);
                ends[i] = end += length;
                _upto[i] = w;
                if (priority)
                {
                    _next[i] = next;
                    _bucket[i] = bucket;
                }
                else
                {
                    // The free chain goes on with this message's blocks: a link to log unless PREV links to it already
                    // (a batch put chains its messages' blocks). A group's last block is set to None by its commit, so the
                    // first message of the next group always logs one (ReleaseInGroups finds the groups by that).
                    if (links == GroupLinks)
                    {
                        links = 0;
                        link = None;
                    }
                    if (link != first)
                    {
                        appends[3 * na] = prev == None ? FreeHeadOff : Block(prev);
                        appends[3 * na + 1] = first;
                        appends[3 * na++ + 2] = i;
                        links++;
                    }
                    prev = _chain[blocks - 1];
                    link = *(int*)(b + Block(prev));
                }
                at = onto;
            }
            _walkedCount = w;
            _appendCount = na;
            _finalLink = link;
            if (i == n)
            {
                _leave = at;
                return n;
            }
            damage ??= Unseen(_stopped, fresh, freeTail);
            int cut = _repeat == None ? i : Owner(_repeat, i);
            if (cut == 0) throw damage;
            _leave = cut == i ? at : _walked[_upto[cut - 1]];   // Fifo, Lifo: message CUT's first block follows the blocks before it
            if (cut < i)
            {
                while (na > 0 && appends[3 * na - 1] >= cut) na--;   // the links of the messages from CUT on
                _appendCount = na;
                _finalLink = Unknown;
            }
            return cut;
        }

        /// <summary>
        /// Checks a link the walk follows and marks its block: below FRESH (no link leads to a block never used), not the
        /// free list's last, and not met before in this batch (a loop: its blocks would be freed twice). None when it
        /// fails (_stopped: the block): the walk ends there.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int See(byte[] seen, byte mark, int[] walked, ref int w, int block, int fresh, int freeTail)
        {
            if ((uint)block >= (uint)fresh || block == freeTail || seen[block] == mark) return Stop(block);
            seen[block] = mark;
            walked[w++] = block;   // WalkBatch made room
            return block;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private int Stop(int block)
        {
            _stopped = block;
            return None;
        }

        private static int[] Grown(int[] walked, int size)
        {
            Array.Resize(ref walked, Math.Max(walked.Length * 2, size));
            return walked;
        }

        /// <summary>Why the walk (or a get, <see cref="Follow"/>) refused BLOCK; a block it had met already: a loop.</summary>
        private IpcObjectCorruptException Unseen(int block, int fresh, int freeTail)
        {
            if (block < 0 || block >= BlockCount) return Damaged($"a link points to block {block}");
            if (block >= fresh) return Damaged($"a link points to block {block}, which was never used");
            if (block == freeTail) return Damaged($"a link points to block {block}, which is free");
            _repeat = block;
            return Looped(block);
        }

        private IpcObjectCorruptException Looped(int block) => Damaged($"its links loop: block {block} is met twice in one batch get");

        /// <summary>The message of the walk that met BLOCK first: one before I, or I (the one being walked).</summary>
        private int Owner(int block, int i)
        {
            int at = Array.IndexOf(_walked, block, 0, _walkedCount);
            for (int k = 0; k < i; k++)
                if (at < _upto[k]) return k;
            return i;
        }

        /// <summary>
        /// Commits the first M walked messages of a Fifo or Lifo queue in groups as large as the redo log allows: a group
        /// logs the same few words (head, tail, free-list tail, used, count) and at most one link per message — the free
        /// chain's last block on to the message's first, which a batch put has often written already (its messages'
        /// blocks are one chain) — as the walk listed them. So a consumer killed mid-batch has taken whole groups and
        /// left whole groups. A group holds GroupLinks links; the next one starts with the message of the link after.
        /// </summary>
        private void ReleaseInGroups(byte* b, int m)
        {
            bool fifo = Order == QueueOrder.Fifo;
            var (log, walked, upto, appends) = (_log, _walked, _upto, _appends);
            for (int start = 0, a = 0, na = _appendCount; start < m;)
            {
                int groupEnd = Math.Min(a + GroupLinks, na);
                int end = groupEnd < na ? appends[3 * groupEnd + 2] : m;   // messages [start, end)
                log.Begin();
                for (; a < groupEnd; a++) log.TryAppend(appends[3 * a], appends[3 * a + 1]);
                int last = walked[upto[end - 1] - 1];
                // The free list ends here (a later group's link to its next message is logged by that group).
                if (end < m || _finalLink != None) log.TryAppend(Block(last), None);
                int head = end < m ? walked[upto[end - 1]] : _leave;
                log.Write(HeadOff, head);
                if (fifo && head == None) log.Write(TailOff, None);
                log.Write(FreeTailOff, last);
                log.Write(UsedOff, *(int*)(b + UsedOff) - (upto[end - 1] - (start == 0 ? 0 : upto[start - 1])));
                log.Write(CountOff, *(int*)(b + CountOff) - (end - start));
                log.Commit(b, GetLogOffset);
                start = end;
            }
        }

        /// <summary>Commits the first M walked messages of a priority queue one by one, each as Get commits it.</summary>
        private void ReleaseOneByOne(byte* b, int[] ends, int m)
        {
            for (int i = 0; i < m; i++)
            {
                int blocks = BlocksFor(ends[i] - (i == 0 ? 0 : ends[i - 1])), next = _next[i];
                _log.Begin();
                TakeFromBucket(_bucket[i], next, _after[i]);
                Release(b, _walked[_upto[i] - blocks], _walked[_upto[i] - 1], blocks, next == None ? _bucket[i] : None);
            }
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
