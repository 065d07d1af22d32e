using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A counting semaphore shared between processes (CPython's Semaphore; BoundedSemaphore when it has a maximum).
    /// Permits held by a process that dies are given back: a waiter notices within a fraction of a second and is
    /// told the permit was abandoned.
    /// State at offset 64: 64 i64 guard (<see cref="RobustLock"/>, held only for a few instructions while the fields
    /// below change); 72 i32 value; 76 i32 sleepers; 80 i32 sequence (futex word, bumped by every release); 84 i32
    /// surplus. 128..1151: 64 holder slots of 16 bytes {i64 holder (<see cref="HolderId"/>: pid and start time),
    /// i32 permits, i32 reserved}: which processes hold how many permits.
    /// Accounting: an acquire takes a surplus permit if there is one (untracked), else records the permit in its
    /// process's slot. A release by a process that holds a recorded permit gives that one back; a release by a process
    /// that holds none is a produced permit: it counts as surplus and never touches another process's slot. So a
    /// dead holder's recorded permits always come back (a waiter finds the holder gone and adds them to the value),
    /// and a consumer that takes produced permits and exits is never given them back. The trade-off: a permit that A
    /// acquired and B released on A's behalf counts twice if A then dies still recorded as its holder (a bounded
    /// semaphore never goes past its maximum).
    /// Crash consistency: every change under the guard (an acquire, a release, the reclaim of one dead holder) first
    /// writes an undo record at 88 {i32 pending, i32 value, i32 surplus, i32 slot, i64 slot holder, i32 slot permits}
    /// with the values it is about to change, publishes it (pending = 1), changes them, and clears pending before the
    /// guard is released. The next process to take a guard whose holder died restores the record if it was pending: the
    /// dead process's change did not complete for it either, so value, surplus and slots agree again and no permit is
    /// lost or doubled by a SIGKILL at any instruction.
    /// A 65th concurrent holder process is not tracked (its permits cannot be recovered if it dies).
    /// Parameter A: the maximum value (bounded), or -1.
    /// </summary>
    public sealed unsafe class IpcSemaphore : SyncObject, ILockable
    {
        private const int Guard = StateOffset, Value = StateOffset + 8, Sleepers = StateOffset + 12, Sequence = StateOffset + 16, Surplus = StateOffset + 20;
        private const int Slots = 128, SlotCount = 64, SlotSize = 16, SlotHolder = 0, SlotPermits = 8;
        // The undo record (see the summary): 88 pending, 92 value, 96 surplus, 100 slot (-1: none), 104 i64 slot holder,
        // 112 slot permits; 116..127 reserved.
        private const int UndoPending = 88, UndoValue = 92, UndoSurplus = 96, UndoSlot = 100, UndoHolder = 104, UndoPermits = 112;

        private IpcSemaphore(string name, IpcObjectKind kind) : base(name, kind) { }

        internal static IpcSemaphore Describe(string name, IpcObjectKind kind) => new IpcSemaphore(name, kind);

        /// <summary>Creates a semaphore of INITIAL permits; with MAXIMUM (≥ initial) a bounded one.</summary>
        public static IpcSemaphore Create(string? name, int initial = 1, int? maximum = null, bool openOrCreate = false)
        {
            if (initial < 0) throw new ArgumentOutOfRangeException(null, "A semaphore's initial value must be 0 or more.");
            if (maximum is int max && (max < 1 || max < initial))
                throw new ArgumentOutOfRangeException(null, $"A semaphore's maximum must be at least 1 and at least its initial value ({initial}).");
            var kind = maximum is null ? IpcObjectKind.Semaphore : IpcObjectKind.BoundedSemaphore;
            return Make(name, openOrCreate, kind, IpcLock.SegmentSize, maximum ?? -1, 0, n => new IpcSemaphore(n, kind),
                b => *(int*)((byte*)b + Value) = initial).Handle;
        }

        /// <summary>Permits available now (CPython: get_value()).</summary>
        public int CurrentValue => Volatile.Read(ref *LookWord(Value));

        /// <summary>CPython's get_value(): the permits available now.</summary>
        public int GetValue() => CurrentValue;

        /// <summary>The maximum of a bounded semaphore; null when unbounded.</summary>
        public int? MaximumValue => ParameterA < 0 ? (int?)null : (int)ParameterA;

        public bool IsBounded => ParameterA >= 0;

        /// <summary>The maximum must be -1 (none) or a positive int: it bounds the value, so it is checked on attach.</summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            if (CapturedParameterA != -1 && (CapturedParameterA < 1 || CapturedParameterA > int.MaxValue)) throw Corrupt($"its maximum is {CapturedParameterA}");
        }

        public bool Acquire() => this.AcquirePython(true, double.PositiveInfinity);
        public bool Acquire(bool block) => this.AcquirePython(block, double.PositiveInfinity);
        public bool Acquire(bool block, double timeoutSeconds) => this.AcquirePython(block, timeoutSeconds);

        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel)
        {
            var deadline = Deadline.After(timeout);
            bool abandoned = false, reclaim = false;
            while (true)
            {
                Lock();
                if (reclaim) abandoned |= ReclaimDead();
                int value = *Word(Value);
                if (value > 0)
                {
                    bool surplus = *Word(Surplus) > 0;
                    int slot = surplus ? -1 : SlotFor(RobustLock.Me, forTaking: true);
                    Begin(slot);
                    *Word(Value) = value - 1;
                    if (surplus) *Word(Surplus) -= 1;
                    else if (slot >= 0) AddPermits(slot, +1);
                    Commit();
                    Unlock();
                    return abandoned ? LockAcquisition.Abandoned : LockAcquisition.Acquired;
                }
                if (timeout == TimeSpan.Zero && !reclaim)
                {
                    // A non-blocking call still gets back what dead holders left, once.
                    Unlock();
                    reclaim = true;
                    continue;
                }
                int seq = Volatile.Read(ref *Word(Sequence));
                Interlocked.Increment(ref *Word(Sleepers));
                Unlock();
                bool slept;
                try { slept = timeout != TimeSpan.Zero && WordWait.Sleep(Word(Sequence), seq, deadline, cancel, WordWait.LivenessSliceMs); }
                finally { Interlocked.Decrement(ref *Word(Sleepers)); }
                if (!slept) return LockAcquisition.TimedOut;
                // Unchanged sequence: a liveness slice passed with no release. Check for dead holders next round.
                reclaim = Volatile.Read(ref *Word(Sequence)) == seq;
            }
        }

        /// <summary>Returns one permit. Bounded: an error past the maximum (CPython: ValueError).</summary>
        public void Release()
        {
            Lock();
            int value = *Word(Value);
            if (IsBounded && value >= ParameterA)
            {
                Unlock();
                throw new IpcSyncStateException(Name, $"The BoundedSemaphore '{Name}' was released too many times (its maximum is {ParameterA}).");
            }
            int slot = SlotFor(RobustLock.Me, forTaking: false);
            Begin(slot);
            *Word(Value) = value + 1;
            if (slot >= 0) AddPermits(slot, -1);
            else *Word(Surplus) += 1;   // held none: a produced permit, never taken off another holder
            Commit();
            Interlocked.Increment(ref *Word(Sequence));
            bool sleepers = Volatile.Read(ref *Word(Sleepers)) > 0;
            Unlock();
            if (sleepers) WordWait.Wake(Word(Sequence), 1);
        }

        public override string ToString() => IsClosed ? $"{Kind}('{Name}', closed)" : $"{Kind}('{Name}', value={CurrentValue}{(IsBounded ? $", maximum={ParameterA}" : "")})";

        /// <summary>Takes the guard; from a holder that died, first undoes the change it had not finished.</summary>
        private void Lock()
        {
            if (RobustLock.Acquire(LongWord(Guard), Deadline.Infinite, CancellationToken.None) == AcquireResult.Abandoned) Undo();
        }

        private void Unlock() => RobustLock.Release(LongWord(Guard));

        private long* Holder(int i) => LongWord(Slots + i * SlotSize + SlotHolder);
        private int* Permits(int i) => Word(Slots + i * SlotSize + SlotPermits);

        /// <summary>Under the guard: records what the change about to be made will overwrite (SLOT: the one slot it touches, or -1), then publishes it.</summary>
        private void Begin(int slot)
        {
            *Word(UndoValue) = *Word(Value);
            *Word(UndoSurplus) = *Word(Surplus);
            *Word(UndoSlot) = slot;
            if (slot >= 0)
            {
                *LongWord(UndoHolder) = *Holder(slot);
                *Word(UndoPermits) = *Permits(slot);
            }
            Interlocked.Exchange(ref *Word(UndoPending), 1);   // a full fence: the record is complete before any change
        }

        /// <summary>Under the guard: the change is complete (a release store: every change before it is visible first).</summary>
        private void Commit() => Volatile.Write(ref *Word(UndoPending), 0);

        /// <summary>Under a guard taken from a dead holder: restores what its unfinished change had overwritten.</summary>
        private void Undo()
        {
            if (Volatile.Read(ref *Word(UndoPending)) == 0) return;
            *Word(Value) = *Word(UndoValue);
            *Word(Surplus) = *Word(UndoSurplus);
            int slot = *Word(UndoSlot);
            if (slot >= 0 && slot < SlotCount)
            {
                *Holder(slot) = *LongWord(UndoHolder);
                *Permits(slot) = *Word(UndoPermits);
            }
            Commit();
        }

        /// <summary>
        /// Under the guard: the slot of HOLDER; when it has none and FORTAKING, a free one (or one left with no
        /// permits) for it; -1 when there is none (a release by a process that holds no recorded permit, or no free
        /// slot: a 65th holder is not tracked).
        /// </summary>
        private int SlotFor(long holder, bool forTaking)
        {
            int free = -1;
            for (int i = 0; i < SlotCount; i++)
            {
                if (*Holder(i) == holder) return *Permits(i) > 0 || forTaking ? i : -1;
                if (free < 0 && (*Holder(i) == 0 || *Permits(i) <= 0)) free = i;
            }
            return forTaking ? free : -1;
        }

        /// <summary>Under the guard: adds DELTA permits to this process's slot I (claiming it), freeing it at zero.</summary>
        private void AddPermits(int i, int delta)
        {
            int permits = Math.Max(*Holder(i) == RobustLock.Me ? *Permits(i) : 0, 0) + delta;
            *Holder(i) = permits > 0 ? RobustLock.Me : 0;
            *Permits(i) = Math.Max(permits, 0);
        }

        /// <summary>Under the guard: gives back the permits of holders known to be gone. True if any were recovered.</summary>
        private bool ReclaimDead()
        {
            bool any = false;
            for (int i = 0; i < SlotCount; i++)
            {
                long holder = *Holder(i);
                int permits = *Permits(i);
                if (holder == 0 || permits <= 0 || holder == RobustLock.Me || !Liveness.IsGone(holder)) continue;
                Begin(i);
                long value = (long)*Word(Value) + permits;
                *Word(Value) = IsBounded && value > ParameterA ? (int)ParameterA : (int)System.Math.Min(value, int.MaxValue);
                *Holder(i) = 0;
                *Permits(i) = 0;
                Commit();
                any = true;
            }
            return any;
        }
    }
}
