using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // The shared structure (docs/design.md, "Queue"). Everything here runs under the queue's robust lock, and every
    // word another process can reach is changed through the redo log; payload bytes go only into blocks that nothing
    // reaches until the commit. Blocks: a message's first block is [0] next block, [4] next message, [8] length,
    // [12] reserved, payload from 16; further blocks are [0] next block, payload from 4. A free block's [0] links the
    // free list. A priority bucket block is [0] next bucket, [4] first message, [8] last message, [16] i64 priority.
    public sealed unsafe partial class IpcQueue
    {
        // Measured (docs/performance.md): retrying at once makes a producer and a consumer steal the lock's line from
        // each other; backing off ~this long lets the holder finish a few operations in a row (3.0 -> 5.5 M msgs/s).
        private static readonly int Backoff = 128;

        /// <summary>Puts the message BUFFER[0..LENGTH) + TAIL; false if there was no room before DEADLINE.</summary>
        private bool TryPut(byte[] buffer, int length, byte[]? tail, long priority, Deadline deadline, CancellationToken cancel)
        {
            long total = length + (long)(tail?.Length ?? 0);
            if (total > MaxMessageLength)
                throw new MessageTooLargeException(Name, total, MaxMessageLength, $"the queue '{Name}' can hold at most");
            int need = BlocksFor((int)total) + (Order == QueueOrder.Priority ? 1 : 0);   // room for a new bucket too
            int max = MaxSize;
            long spinUntil = 0;
            // The mapping outlives Close (sync objects unmap only when collected): B stays valid even if another
            // thread closes this handle meanwhile, so the lock taken below is always released through it.
            byte* b = Base;
            while (true)
            {
                ThrowIfClosed();
                int seen = 0;
                bool done = false;
                Enter(b, cancel);
                try
                {
                    if ((max == 0 || *(int*)(b + CountOff) < max) && BlockCount - *(int*)(b + UsedOff) >= need)
                    {
                        // Stopped (Ctrl+C) while waiting for room or for the lock: nothing is put.
                        cancel.ThrowIfCancellationRequested();
                        Insert(b, buffer, length, tail, (int)total, priority);
                        *(int*)(b + PutSignal) += 1;   // signals change only under the lock: no atomic needed
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueSignal);
                        done = true;
                    }
                    else seen = *(int*)(b + GetSignal);   // under the lock: any get after this one moves it
                }
                finally { Leave(b); }   // a full fence: the signal is visible before the sleepers are read
                if (done)
                {
                    SignalWord.Wake((int*)(b + PutSignal), (int*)(b + GetSleepers), 1);
                    return true;
                }
                if (!AwaitChange(b, GetSignal, PutSleepers, seen, deadline, cancel, ref spinUntil)) return false;
            }
        }

        /// <summary>Takes the next message into BUFFER (grown as needed); false if none came before DEADLINE.</summary>
        private bool TryTake(ref byte[] buffer, out int length, Deadline deadline, CancellationToken cancel)
        {
            long spinUntil = 0;
            length = 0;
            byte* b = Base;   // valid after a Close by another thread, as in TryPut
            try
            {
                while (true)
                {
                    ThrowIfClosed();
                    int seen = 0;
                    bool done = false;
                    Enter(b, cancel);
                    try
                    {
                        if (*(int*)(b + CountOff) > 0)
                        {
                            // Stopped (Ctrl+C) while waiting: the message stays in the queue. Checked under the lock, just
                            // before the commit, so a get the caller can no longer receive never takes one.
                            cancel.ThrowIfCancellationRequested();
                            length = Remove(b, ref buffer);
                            *(int*)(b + GetSignal) += 1;
                            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueSignal);
                            done = true;
                        }
                        else seen = *(int*)(b + PutSignal);
                    }
                    finally { Leave(b); }
                    if (done)
                    {
                        SignalWord.Wake((int*)(b + GetSignal), (int*)(b + PutSleepers), int.MaxValue);
                        return true;
                    }
                    if (!AwaitChange(b, PutSignal, GetSleepers, seen, deadline, cancel, ref spinUntil)) return false;
                }
            }
            finally
            {
                // A put wakes one getter. One that leaves without a message (timeout, Ctrl+C, a message someone else
                // took first) may have been that one: it passes the wake-up on while messages and sleepers remain.
                if (length == 0 && Volatile.Read(ref *(int*)(b + CountOff)) > 0)
                    SignalWord.Wake((int*)(b + PutSignal), (int*)(b + GetSleepers), 1);
            }
        }

        /// <summary>
        /// Waits for the signal at SIGNAL to move on from SEEN (<see cref="SignalWord"/>), in liveness slices: a handle
        /// closed by another thread of this process, or a Ctrl+C that lands just before the futex wait, is then noticed
        /// within a slice. False once the deadline has passed.
        /// </summary>
        private static bool AwaitChange(byte* b, int signal, int sleepers, int seen, Deadline deadline, CancellationToken cancel, ref long spinUntil) =>
            SignalWord.Await((int*)(b + signal), (int*)(b + sleepers), seen, deadline, cancel, ref spinUntil, SpinTicks, WordWait.LivenessSliceMs)
            || !deadline.HasPassed;

        /// <summary>
        /// Runs LOOK on the segment under the queue's lock, taken as every operation takes it (so the committed change of
        /// a holder that died is finished first): the structure as the next operation would find it. For the tests of
        /// Core, which walk it; LOOK must not change it.
        /// </summary>
        internal T UnderLock<T>(Func<IntPtr, T> look)
        {
            byte* b = Base;
            Enter(b, CancellationToken.None);
            try { return look((IntPtr)b); }
            finally { Leave(b); }
        }

        private void Enter(byte* b, CancellationToken cancel)
        {
            TakeLock(b, cancel);
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueLock);
        }

        private void TakeLock(byte* b, CancellationToken cancel)
        {
            long* word = (long*)(b + LockWord);
            if (Interlocked.CompareExchange(ref *word, RobustLock.Me, 0) == 0) return;
            // Taken: back off before each retry (see Backoff), then fall back to the general robust lock.
            for (int i = 0; i < 16; i++)
            {
                Thread.SpinWait(Backoff);
                if (Volatile.Read(ref *word) == 0 && Interlocked.CompareExchange(ref *word, RobustLock.Me, 0) == 0) return;
            }
            if (RobustLock.Acquire(word, Deadline.Infinite, cancel) == AcquireResult.Abandoned)
            {
                // A holder is known to be gone (never merely unknown, see RobustLock): finish what it had committed.
                RedoLog.Recover(b, PutLogOffset, BlocksOffset + (long)BlockCount * BlockSize);
                RedoLog.Recover(b, GetLogOffset, BlocksOffset + (long)BlockCount * BlockSize);
            }
        }

        private static void Leave(byte* b)
        {
            RobustLock.Release((long*)(b + LockWord));
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueUnlock);
        }

        private static int BlocksFor(int length) => length <= FirstPayload ? 1 : 1 + (length - FirstPayload + NextPayload - 1) / NextPayload;

        private int Block(int index) => BlocksOffset + index * BlockSize;

        private void Insert(byte* b, byte[] buffer, int length, byte[]? tail, int total, long priority)
        {
            _log.Begin();
            var order = Order;
            int bucket = None, before = None;
            bool newBucket = false;
            if (order == QueueOrder.Priority)
            {
                // Buckets are kept sorted by priority; the message joins the end of its priority's bucket.
                int at = _log.Read(b, HeadOff);
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
                    byte* nb = b + Block(bucket);
                    *(long*)(nb + 16) = priority;
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    _log.Write(Block(bucket), at);   // next bucket
                    _log.Write(before == None ? HeadOff : Block(before), bucket);
                }
            }
            int blocks = BlocksFor(total);
            int first = Allocate(b, blocks);
            byte* m = b + Block(first);
            // The message's own block: nothing reachable points to it until the commit.
            *(int*)(m + 4) = None;
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
            *(int*)(m + 8) = total;
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
            *(int*)(m + 12) = 0;
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
            var copy = new ChainCopy(b, _chain);
            fixed (byte* src = buffer) copy.In(src, length);
            if (tail != null && tail.Length > 0) fixed (byte* src = tail) copy.In(src, tail.Length);

            switch (order)
            {
                case QueueOrder.Fifo:
                    int last = _log.Read(b, TailOff);
                    _log.Write(last == None ? HeadOff : Block(Check(last)) + 4, first);
                    _log.Write(TailOff, first);
                    break;
                case QueueOrder.Lifo:
                    *(int*)(m + 4) = _log.Read(b, HeadOff);
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    _log.Write(HeadOff, first);
                    break;
                default:
                    if (newBucket)
                    {
                        *(int*)(b + Block(bucket) + 4) = first;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                        *(int*)(b + Block(bucket) + 8) = first;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    }
                    else
                    {
                        int end = Check(*(int*)(b + Block(bucket) + 8));
                        _log.Write(Block(end) + 4, first);
                        _log.Write(Block(bucket) + 8, first);
                    }
                    break;
            }
            _log.Write(CountOff, *(int*)(b + CountOff) + 1);
            if (IsJoinable) _log.Write(UnfinishedOff, *(int*)(b + UnfinishedOff) + 1);
            _log.Commit(b, PutLogOffset);
        }

        /// <summary>Takes the next message out into BUFFER (grown as needed); returns its length.</summary>
        private int Remove(byte* b, ref byte[] buffer)
        {
            _log.Begin();
            int first, bucket = None, fresh = *(int*)(b + FreshOff), freeTail = *(int*)(b + FreeTailOff);
            if ((uint)fresh > (uint)BlockCount) throw Damaged("its block counts disagree");
            bool emptied = false;
            if (Order == QueueOrder.Priority)
            {
                bucket = Follow(*(int*)(b + HeadOff), fresh, freeTail);
                first = Follow(*(int*)(b + Block(bucket) + 4), fresh, freeTail);
                int next = *(int*)(b + Block(first) + 4);
                emptied = next == None;
                TakeFromBucket(bucket, next, emptied ? *(int*)(b + Block(bucket)) : None);
            }
            else
            {
                first = Follow(*(int*)(b + HeadOff), fresh, freeTail);
                int next = *(int*)(b + Block(first) + 4);
                _log.Write(HeadOff, next);
                if (next == None && Order == QueueOrder.Fifo) _log.Write(TailOff, None);
            }
            byte* m = b + Block(first);
            int length = *(int*)(m + 8);
            if (length < 0 || length > MaxMessageLength) throw Damaged($"a message claims {length} bytes");
            if (buffer.Length < length) buffer = new byte[Math.Max(length, (int)Math.Min(int.MaxValue, buffer.Length * 2L))];

            // Walk the chain, collecting its blocks, then copy out.
            int blocks = BlocksFor(length);
            if (_chain.Length < blocks) _chain = new int[Math.Max(blocks, _chain.Length * 2)];
            int at = first;
            for (int i = 0; i < blocks; i++)
            {
                _chain[i] = Follow(at, fresh, freeTail);
                at = *(int*)(b + Block(at));
            }
            var copy = new ChainCopy(b, _chain);
            fixed (byte* dst = buffer) copy.Out(dst, length);
            Release(b, first, _chain[blocks - 1], blocks, emptied ? bucket : None);
            return length;
        }

        /// <summary>
        /// Logs taking a priority BUCKET's first message, whose next is NEXT: the bucket goes on at NEXT or, when that is
        /// None, empties and is unlinked (the queue's head becomes AFTER, the bucket's next).
        /// </summary>
        private void TakeFromBucket(int bucket, int next, int after)
        {
            if (next == None)
            {
                _log.Write(HeadOff, after);
                _log.Write(Block(bucket) + 4, None);
            }
            else _log.Write(Block(bucket) + 4, next);
        }

        /// <summary>
        /// Frees a taken message's chain FIRST..LAST of BLOCKS blocks and the BUCKET it emptied (None: none), counts the
        /// message out and commits: the end of a get.
        /// </summary>
        private void Release(byte* b, int first, int last, int blocks, int bucket)
        {
            Free(b, first, last);
            if (bucket != None)
            {
                Free(b, bucket, bucket);
                blocks++;
            }
            _log.Write(UsedOff, *(int*)(b + UsedOff) - blocks);
            _log.Write(CountOff, *(int*)(b + CountOff) - 1);
            _log.Commit(b, GetLogOffset);
        }

        /// <summary>
        /// Appends the chain FIRST..LAST to the free list's tail. The free list is first in, first out: a put reuses
        /// the block freed longest ago (no longer in the consumer's cache), in order (the prefetcher follows), not
        /// the one a get has just freed.
        /// </summary>
        private void Free(byte* b, int first, int last)
        {
            if (_log.Read(b, Block(last)) != None) _log.Write(Block(last), None);   // a message's chain already ends so
            int tail = _log.Read(b, FreeTailOff);
            _log.Write(tail == None ? FreeHeadOff : Block(Check(tail)), first);
            _log.Write(FreeTailOff, last);
        }

        /// <summary>
        /// Takes N blocks (the caller has checked there are enough) into _chain[0..N) and returns the first. Free-list
        /// blocks come first: they are already linked through word 0, so only the last one's link is logged; then
        /// never-used blocks, whose links are written directly (nothing reaches them until the commit).
        /// </summary>
        private int Allocate(byte* b, int n)
        {
            if (_chain.Length < n) _chain = new int[Math.Max(n, _chain.Length * 2)];
            int got = 0, at = _log.Read(b, FreeHeadOff);
            while (got < n && at != None)
            {
                _chain[got++] = Check(at);
                at = _log.Read(b, Block(at));
            }
            bool lastFromList = got > 0;
            if (got < n)
            {
                int fresh = _log.Read(b, FreshOff);
                if (fresh < 0 || fresh + (n - got) > BlockCount) throw Damaged("its block counts disagree");
                if (lastFromList) _log.Write(Block(_chain[got - 1]), fresh);
                for (int i = got; i < n; i++)
                {
                    _chain[i] = fresh + i - got;
                    if (i + 1 < n)
                    {
                        *(int*)(b + Block(_chain[i])) = fresh + i - got + 1;
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
                    }
                }
                _log.Write(FreshOff, fresh + n - got);
                lastFromList = false;
            }
            _log.Write(FreeHeadOff, at);
            if (at == None) _log.Write(FreeTailOff, None);
            if (lastFromList) _log.Write(Block(_chain[n - 1]), None);
            else
            {
                *(int*)(b + Block(_chain[n - 1])) = None;
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueueBlock);
            }
            _log.Write(UsedOff, _log.Read(b, UsedOff) + n);
            return _chain[0];
        }

        private int Check(int block)
        {
            if (block < 0 || block >= BlockCount) throw Damaged($"a link points to block {block}");
            return block;
        }

        private IpcObjectCorruptException Damaged(string what) => Corrupt(what);

        /// <summary>
        /// A link a get follows: to a block below FRESH (the blocks at and above it were never used: zeros, an empty
        /// message) and not the free list's last (FREETAIL: freed, still readable; freed again it would link to itself).
        /// A link further into the free list is not told from a message's (design.md, "Known limits").
        /// </summary>
        private int Follow(int block, int fresh, int freeTail)
        {
            if ((uint)block >= (uint)fresh || block == freeTail) throw Unseen(block, fresh, freeTail);
            return block;
        }

        private bool FinishTask() => FinishTasks(1);

        private bool WaitJoined(Deadline deadline, CancellationToken cancel)
        {
            byte* b = Base;
            long spinUntil = 0;
            while (true)
            {
                ThrowIfClosed();
                int seen = Volatile.Read(ref *(int*)(b + JoinSignal));
                if (Volatile.Read(ref *(int*)(b + UnfinishedOff)) == 0) return true;
                if (!AwaitChange(b, JoinSignal, JoinSleepers, seen, deadline, cancel, ref spinUntil)) return false;
            }
        }

        /// <summary>Copies a message's bytes into or out of its chain of blocks, in order.</summary>
        private struct ChainCopy
        {
            private readonly byte* _segment;
            private readonly int[] _chain;
            private int _index, _offset;

            public ChainCopy(byte* segment, int[] chain, int start = 0)
            {
                _segment = segment;
                _chain = chain;
                _index = start;
                _offset = BlockSize - FirstPayload;
            }

            public void In(byte* source, int count) => Move(source, count, true);

            public void Out(byte* target, int count) => Move(target, count, false);

            private void Move(byte* data, int count, bool into)
            {
                while (count > 0)
                {
                    if (_offset == BlockSize) { _index++; _offset = 4; }
                    byte* block = _segment + BlocksOffset + (long)_chain[_index] * BlockSize + _offset;
                    int n = Math.Min(count, BlockSize - _offset);
                    if (into)
                    {
                        Buffer.MemoryCopy(data, block, n, n);
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.QueuePayload);
                    }
                    else Buffer.MemoryCopy(block, data, n, n);
                    data += n;
                    count -= n;
                    _offset += n;
                }
            }
        }
    }
}
