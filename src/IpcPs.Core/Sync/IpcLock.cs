using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A lock shared between processes (CPython's multiprocessing.Lock, or RLock when recursive), which is never lost:
    /// when its holder dies, the next waiter gets it within a fraction of a second and is told (Abandoned).
    /// State at offset 64: i64 lock word (<see cref="RobustLock"/>: holder pid and start time | waiters bit);
    /// RLock only: 72 i32 recursion count; 76 i32 owning thread (managed thread id); 80 i64 owning process
    /// (<see cref="HolderId"/>; 0 when free). A Lock may be released by any thread or process, as in CPython; an
    /// RLock only by the thread that holds it. An RLock is the caller's when the word, the owning process and the
    /// owning thread all name it: after taking an abandoned RLock over, the thread field still names the dead owner's
    /// thread until the new owner writes it, but the process field names the dead process, so a thread of the new
    /// owner with the same managed id cannot believe it owns the lock. Taking writes the thread, then the process;
    /// releasing clears the process first.
    /// </summary>
    public sealed unsafe class IpcLock : SyncObject, ILockable
    {
        private const int WordOffset = StateOffset, CountOffset = StateOffset + 8, ThreadOffset = StateOffset + 12, OwnerOffset = StateOffset + 16;
        internal const int SegmentSize = 4096;

        private IpcLock(string name, IpcObjectKind kind) : base(name, kind) { }

        internal static IpcLock Describe(string name, IpcObjectKind kind) => new IpcLock(name, kind);

        /// <summary>Creates a lock (an RLock with RECURSIVE); with OPENORCREATE opens it instead if the name exists.</summary>
        public static IpcLock Create(string? name, bool recursive = false, bool openOrCreate = false)
        {
            var kind = recursive ? IpcObjectKind.RLock : IpcObjectKind.Lock;
            return Make(name, openOrCreate, kind, SegmentSize, 0, 0, n => new IpcLock(n, kind), _ => { }).Handle;
        }

        /// <summary>True for an RLock.</summary>
        public bool IsRecursive => Kind == IpcObjectKind.RLock;

        /// <summary>The pid of the process holding the lock, or 0 when free.</summary>
        public int HolderPid => RobustLock.HolderPid(LookLongWord(WordOffset));

        /// <summary>True while some process holds the lock.</summary>
        public bool IsLocked => HolderPid != 0;

        /// <summary>True while some process holds the lock (a method, as a Redis lock's: PowerShell reads a property that failed as $null).</summary>
        public bool Locked() => IsLocked;

        /// <summary>RLock: how many times the calling thread holds it (0 when it does not).</summary>
        public int RecursionCount => IsMine ? Volatile.Read(ref *LookWord(CountOffset)) : 0;

        /// <summary>Waits until acquired. Throws AbandonedLockException (holding the lock) if its holder had died.</summary>
        public bool Acquire()
        {
            // The uncontended Lock: one CAS, nothing else (no deadline, no thread id).
            if (!IsRecursive && Interlocked.CompareExchange(ref *LongWord(WordOffset), RobustLock.Me, 0) == 0) return true;
            return this.AcquirePython(true, double.PositiveInfinity);
        }

        /// <summary>Python's acquire(block): without blocking, True only if it was free.</summary>
        public bool Acquire(bool block) => this.AcquirePython(block, double.PositiveInfinity);

        /// <summary>Python's acquire(block, timeout), timeout in seconds ([double]::PositiveInfinity: no limit; negative: 0).</summary>
        public bool Acquire(bool block, double timeoutSeconds) => this.AcquirePython(block, timeoutSeconds);

        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel)
        {
            byte* b = Base;   // once: each Base is a closed check
            long* word = (long*)(b + WordOffset);
            if (!IsRecursive)
            {
                if (Interlocked.CompareExchange(ref *word, RobustLock.Me, 0) == 0) return LockAcquisition.Acquired;
            }
            else if (OwnedByThisThread(b))
            {
                *(int*)(b + CountOffset) += 1;
                return LockAcquisition.Acquired;
            }
            var result = timeout == TimeSpan.Zero ? RobustLock.TryAcquire(word) : RobustLock.Acquire(word, Deadline.After(timeout), cancel);
            if (result == AcquireResult.TimedOut) return LockAcquisition.TimedOut;
            if (IsRecursive)
            {
                *(int*)(b + CountOffset) = 1;
                Volatile.Write(ref *(int*)(b + ThreadOffset), Environment.CurrentManagedThreadId);
                Volatile.Write(ref *(long*)(b + OwnerOffset), RobustLock.Me);   // after the thread: see the class comment
            }
            return result == AcquireResult.Abandoned ? LockAcquisition.Abandoned : LockAcquisition.Acquired;
        }

        /// <summary>Releases once. Lock: an error if it is not held. RLock: an error unless the calling thread holds it.</summary>
        public void Release()
        {
            byte* b = Base;
            if (IsRecursive)
            {
                if (!OwnedByThisThread(b)) throw new IpcSyncStateException(Name, $"Cannot release the RLock '{Name}': this thread does not hold it.");
                int count = *(int*)(b + CountOffset) - 1;
                *(int*)(b + CountOffset) = count;
                if (count > 0) return;
                // Cleared before the word: no other thread can then think it owns the lock. The thread field may stay
                // stale: it counts only beside an owner process naming this process, written after it.
                Volatile.Write(ref *(long*)(b + OwnerOffset), 0);
            }
            if (!RobustLock.Release((long*)(b + WordOffset)))
                throw new IpcSyncStateException(Name, $"Cannot release the {Kind} '{Name}': it is not locked.");
        }

        /// <summary>For Condition.Wait: releases completely and returns the recursion count to restore.</summary>
        internal int ReleaseAll()
        {
            if (!IsRecursive)
            {
                Release();
                return 1;
            }
            if (!IsMine) throw new IpcSyncStateException(Name, $"Cannot wait: this thread does not hold the RLock '{Name}'.");
            int count = *Word(CountOffset);
            *Word(CountOffset) = 1;
            Release();
            return count;
        }

        /// <summary>Re-takes the lock after a condition wait and restores the recursion count.</summary>
        internal LockAcquisition Reacquire(int count, CancellationToken cancel)
        {
            var result = TryAcquire(System.Threading.Timeout.InfiniteTimeSpan, cancel);
            if (IsRecursive) *Word(CountOffset) = count;
            return result;
        }

        /// <summary>True when this process (and, for an RLock, this thread) holds the lock (CPython: _is_mine()).</summary>
        public bool IsMine
        {
            get
            {
                byte* b = LookBase;
                return IsRecursive ? OwnedByThisThread(b) : RobustLock.Holder((long*)(b + WordOffset)) == RobustLock.Me;
            }
        }

        /// <summary>RLock: the word, the owner process and the owner thread all name the caller (read in that order).</summary>
        private static bool OwnedByThisThread(byte* b) =>
            RobustLock.Holder((long*)(b + WordOffset)) == RobustLock.Me
            && Volatile.Read(ref *(long*)(b + OwnerOffset)) == RobustLock.Me
            && Volatile.Read(ref *(int*)(b + ThreadOffset)) == Environment.CurrentManagedThreadId;

        public override string ToString() => IsClosed ? $"{Kind}('{Name}', closed)" : $"{Kind}('{Name}', {(IsLocked ? $"held by pid {HolderPid}" : "unlocked")})";
    }
}
