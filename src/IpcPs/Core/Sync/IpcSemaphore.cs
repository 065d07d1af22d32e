using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A counting semaphore shared between processes (CPython's Semaphore; BoundedSemaphore when it has a maximum).
    /// Permits held by a process that dies are given back: a waiter notices within a fraction of a second and is
    /// told the permit was abandoned.
    /// State at offset 64 (all i32): 64 guard (<see cref="RobustLock"/>, held only for a few instructions while the
    /// fields below change); 68 value; 72 sleepers; 76 sequence (futex word, bumped by every release); 80 surplus.
    /// 128..639: 64 holder slots {i32 pid, i32 permits}: which processes hold how many permits. A release by a
    /// process holding none takes a permit off another holder's slot, or, when no one holds any, counts it as
    /// surplus: a permit produced rather than returned (a producer/consumer count). Acquires use surplus first,
    /// untracked. So a consumer that takes produced permits and exits never has them given back. One rare case can
    /// still over-count by one: a release by a non-holder takes the permit off a live holder's slot while another
    /// holder that dies later is given back its own.
    /// A 65th concurrent holder process is not tracked (its permits cannot be recovered if it dies).
    /// Parameter A: the maximum value (bounded), or -1.
    /// </summary>
    public sealed unsafe class IpcSemaphore : SyncObject, ILockable
    {
        private const int Guard = StateOffset, Value = StateOffset + 4, Sleepers = StateOffset + 8, Sequence = StateOffset + 12, Surplus = StateOffset + 16;
        private const int Slots = 128, SlotCount = 64;

        private IpcSemaphore(string name, IpcObjectKind kind) : base(name, kind) { }

        internal static IpcSemaphore Describe(string name, IpcObjectKind kind) => new IpcSemaphore(name, kind);

        /// <summary>Creates a semaphore of INITIAL permits; with MAXIMUM (≥ initial) a bounded one.</summary>
        public static IpcSemaphore Create(string? name, int initial = 1, int? maximum = null, bool openOrCreate = false)
        {
            if (initial < 0) throw new ArgumentOutOfRangeException(nameof(initial), initial, "A semaphore's initial value must be 0 or more.");
            if (maximum is int max && (max < 1 || max < initial))
                throw new ArgumentOutOfRangeException(nameof(maximum), max, $"A semaphore's maximum must be at least 1 and at least its initial value ({initial}).");
            var kind = maximum is null ? IpcObjectKind.Semaphore : IpcObjectKind.BoundedSemaphore;
            return Make(name, openOrCreate, kind, IpcLock.SegmentSize, maximum ?? -1, 0, n => new IpcSemaphore(n, kind),
                b => *(int*)((byte*)b + Value) = initial).Handle;
        }

        /// <summary>Permits available now (CPython: get_value()).</summary>
        public int CurrentValue => Volatile.Read(ref *Word(Value));

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
                    *Word(Value) = value - 1;
                    if (*Word(Surplus) > 0) *Word(Surplus) -= 1;
                    else Track(RobustLock.Me, +1);
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
            *Word(Value) = value + 1;
            if (!Track(RobustLock.Me, -1) && !TakeFromAnyHolder()) *Word(Surplus) += 1;
            Interlocked.Increment(ref *Word(Sequence));
            bool sleepers = Volatile.Read(ref *Word(Sleepers)) > 0;
            Unlock();
            if (sleepers) WordWait.Wake(Word(Sequence), 1);
        }

        public override string ToString() => IsClosed ? $"{Kind}('{Name}', closed)" : $"{Kind}('{Name}', value={CurrentValue}{(IsBounded ? $", maximum={ParameterA}" : "")})";

        private void Lock() => RobustLock.Acquire(Word(Guard), Deadline.Infinite, CancellationToken.None);
        private void Unlock() => RobustLock.Release(Word(Guard));

        private int* Slot(int i) => (int*)(Base + Slots + i * 8);

        /// <summary>Adds DELTA to PID's slot (taking a free or dead one if needed). False when PID has no permits to give back.</summary>
        private bool Track(int pid, int delta)
        {
            int free = -1;
            for (int i = 0; i < SlotCount; i++)
            {
                int* slot = Slot(i);
                if (slot[0] == pid)
                {
                    if (slot[1] + delta < 0) return false;
                    slot[1] += delta;
                    if (slot[1] == 0) slot[0] = 0;
                    return true;
                }
                if (free < 0 && (slot[0] == 0 || slot[1] == 0)) free = i;
            }
            if (delta < 0) return false;
            if (free >= 0)
            {
                Slot(free)[0] = pid;
                Slot(free)[1] = delta;
            }
            return true;
        }

        private bool TakeFromAnyHolder()
        {
            for (int i = 0; i < SlotCount; i++)
            {
                int* slot = Slot(i);
                if (slot[0] != 0 && slot[1] > 0)
                {
                    if (--slot[1] == 0) slot[0] = 0;
                    return true;
                }
            }
            return false;
        }

        /// <summary>Gives back the permits of holders that have died. True if any were recovered.</summary>
        private bool ReclaimDead()
        {
            bool any = false;
            for (int i = 0; i < SlotCount; i++)
            {
                int* slot = Slot(i);
                if (slot[0] == 0 || slot[1] == 0 || slot[0] == RobustLock.Me || Liveness.IsRunning(slot[0])) continue;
                int value = *Word(Value) + slot[1];
                *Word(Value) = IsBounded && value > ParameterA ? (int)ParameterA : value;
                slot[0] = 0;
                slot[1] = 0;
                any = true;
            }
            return any;
        }
    }
}
