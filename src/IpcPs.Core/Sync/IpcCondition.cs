using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A condition variable shared between processes (CPython's multiprocessing.Condition), over an IpcLock or
    /// RLock (a new RLock named NAME.lock when none is given). Every handle on the condition also holds its lock.
    /// State: 64 i32 next waiter number; 68 i32 sequence (futex word, bumped by every Notify that wakes someone);
    /// 128 the lock's name (u16 length + UTF-8); 1024..3071 128 waiter slots of 16 bytes {i32 state (0 free,
    /// 1 waiting, 2 notified), i32 pid, i32 number, u32 the low 32 bits of the waiter's start time}: a slot whose
    /// pid now names another process (or a thread) is a dead waiter's.
    /// A waiter takes a slot and a number while holding the lock, so no Notify can miss it. Notify(n), also under the
    /// lock, marks the n oldest waiting slots notified (skipping and freeing those whose process has died); a waiter
    /// returns True only for its own slot, so a notification can neither go to a later waiter nor be lost on a
    /// departed one. A waiter that times out frees its slot with a CAS 1 → 0; if that fails it was notified.
    /// </summary>
    public sealed unsafe class IpcCondition : SyncObject, ILockable
    {
        private const int NextNumber = StateOffset, Sequence = StateOffset + 4;
        private const int LockNameOffset = 128, LockNameCapacity = 260;
        private const int Slots = 1024, SlotCount = 128, SlotSize = 16;
        private const int SlotState = 0, SlotPid = 4, SlotNumber = 8, SlotStart = 12;
        private const int Free = 0, Waiting = 1, Notified = 2;
        private IpcLock? _lock;

        private IpcCondition(string name) : base(name, IpcObjectKind.Condition) { }

        internal static IpcCondition Describe(string name) => new IpcCondition(name);

        /// <summary>Creates a condition over LOCK (a new RLock "NAME.lock" when null). With OPENORCREATE an existing condition is opened, with its own lock.</summary>
        public static IpcCondition Create(string? name, IpcLock? @lock = null, bool openOrCreate = false)
        {
            name = name is null ? Core.IpcName.Generate() : Core.IpcName.Validate(name);
            if (openOrCreate && Core.Platform.Platforms.Current.SharedMemory.Exists(name))
                return (IpcCondition)IpcObjects.Open(name, IpcObjectKind.Condition);
            // The condition keeps its own handle on the lock, closed with the condition.
            var l = @lock is null ? IpcLock.Create(name + ".lock", recursive: true, openOrCreate: openOrCreate) : (IpcLock)IpcObjects.Open(@lock.Name, @lock.Kind);
            try
            {
                var (c, created) = Make(name, openOrCreate, IpcObjectKind.Condition, IpcLock.SegmentSize, 0, 0, n => new IpcCondition(n),
                    b => WriteString(b, LockNameOffset, LockNameCapacity, l.Name));
                if (created) c._lock = l;
                else l.Close();   // lost a race to another creator: use the lock its segment names
                return c;
            }
            catch
            {
                l.Close();
                throw;
            }
        }

        /// <summary>The name of the lock this condition uses (reading it opens nothing).</summary>
        public string LockName { get { _ = LookBase; return _lockName; } }

        /// <summary>
        /// The lock this condition uses. On an attached condition it is held with it; on a described one (Get-IpcObject)
        /// it is described too, so reading it (Format-List *, ConvertTo-Json) holds nothing: its first use that acts
        /// (an acquire) attaches the lock, and the condition's own first use attaches both.
        /// </summary>
        public IpcLock Lock
        {
            get
            {
                var l = Volatile.Read(ref _lock);
                if (l != null) return l;
                _ = LookBase;   // the lock's name is captured (a look: attaches nothing)
                var any = IsOpen ? IpcObjects.Open(_lockName) : IpcObjects.Get(_lockName);
                if (!(any is IpcLock found))
                {
                    any.Close();
                    throw Corrupt($"the lock it names, '{_lockName}', is a {any.Kind}");
                }
                var raced = Interlocked.CompareExchange(ref _lock, found, null);
                if (raced == null) return found;
                found.Close();
                return raced;
            }
        }

        public bool Acquire() => Lock.Acquire();
        public bool Acquire(bool block, double timeoutSeconds) => Lock.Acquire(block, timeoutSeconds);
        public void Release() => Lock.Release();

        /// <summary>Takes the condition's lock (so Enter-IpcLock and Use-IpcLock work on a condition, as Python's "with cond:").</summary>
        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel) => Lock.TryAcquire(timeout, cancel);

        /// <summary>Waiters not yet notified.</summary>
        public int WaiterCount
        {
            get
            {
                int n = 0;
                byte* b = LookBase;
                for (int i = 0; i < SlotCount; i++) if (Volatile.Read(ref *(int*)(b + Slots + i * SlotSize + SlotState)) == Waiting) n++;
                return n;
            }
        }

        /// <summary>Releases the lock completely, waits for Notify, re-takes it. True if notified, False on timeout.</summary>
        public bool Wait() => Wait(Deadline.Infinite, Core.IpcHost.CallerInterrupt);
        public bool Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);
        public bool Wait(TimeSpan timeout, CancellationToken cancel) => Wait(Deadline.After(timeout), cancel);

        /// <summary>Waits until PREDICATE is true; returns its last value (false on timeout).</summary>
        public bool WaitFor(Func<bool> predicate, double timeoutSeconds = double.PositiveInfinity) =>
            WaitFor(predicate, Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);

        public bool WaitFor(Func<bool> predicate, TimeSpan timeout, CancellationToken cancel) =>
            WaitFor(predicate, Deadline.After(timeout), cancel);

        /// <summary>Wakes the N longest-waiting waiters. The caller must hold the lock.</summary>
        public void Notify(int n = 1)
        {
            if (!Lock.IsMine) throw new IpcSyncStateException(Name, $"Cannot notify the condition '{Name}': this caller does not hold its lock.");
            int woken = 0;
            while (woken < n)
            {
                int oldest = -1, oldestNumber = 0;
                for (int i = 0; i < SlotCount; i++)
                {
                    if (Volatile.Read(ref *State(i)) != Waiting) continue;
                    int number = *Field(i, SlotNumber);
                    if (oldest < 0 || number - oldestNumber < 0) { oldest = i; oldestNumber = number; }
                }
                if (oldest < 0) break;
                bool alive = !Liveness.IsGone(*Field(oldest, SlotPid), *(uint*)Field(oldest, SlotStart));   // unknown counts as alive
                // A dead waiter's slot is freed and skipped; a waiter that timed out meanwhile makes the CAS fail.
                if (Interlocked.CompareExchange(ref *State(oldest), alive ? Notified : Free, Waiting) == Waiting && alive) woken++;
            }
            if (woken == 0) return;
            Interlocked.Increment(ref *Word(Sequence));
            WordWait.Wake(Word(Sequence), int.MaxValue);
        }

        public void NotifyAll() => Notify(int.MaxValue);

        public override string ToString() => IsClosed ? $"Condition('{Name}', closed)" : $"Condition('{Name}', lock '{LockName}', {WaiterCount} waiting)";

        private string _lockName = "";

        /// <summary>Captures the lock's name once: it decides what this handle opens and holds.</summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            _lockName = CapturedString(segment, LockNameOffset, LockNameCapacity, "its lock's name");
        }

        private protected override void OnAttached() => Lock.Open();   // every attached handle on the condition holds its lock

        private protected override void OnClose() => Interlocked.Exchange(ref _lock, null)?.Close();

        private int* Field(int i, int field) => (int*)(Base + Slots + i * SlotSize + field);
        private int* State(int i) => Field(i, SlotState);

        private bool WaitFor(Func<bool> predicate, Deadline deadline, CancellationToken cancel)
        {
            bool result = predicate();
            while (!result)
            {
                if (deadline.HasPassed) return false;
                Wait(deadline, cancel);
                result = predicate();
            }
            return result;
        }

        private bool Wait(Deadline deadline, CancellationToken cancel)
        {
            var l = Lock;
            if (!l.IsMine) throw new IpcSyncStateException(Name, $"Cannot wait on the condition '{Name}': this caller does not hold its lock.");
            int* slot = TakeSlot();
            int seq = Volatile.Read(ref *Word(Sequence));
            int saved;
            try { saved = l.ReleaseAll(); }
            catch
            {
                Volatile.Write(ref *slot, Free);
                throw;
            }
            bool woken = false, cancelled = false;
            var reacquired = LockAcquisition.Acquired;
            try
            {
                while (!(woken = Volatile.Read(ref *slot) == Notified))
                {
                    if (!WordWait.Sleep(Word(Sequence), seq, deadline, cancel)) break;
                    seq = Volatile.Read(ref *Word(Sequence));
                }
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
                throw;
            }
            finally
            {
                // Leave: a CAS from Waiting frees the slot; if it fails, a notification arrived at the last moment.
                if (!woken && Interlocked.CompareExchange(ref *slot, Free, Waiting) == Notified) woken = true;
                if (woken) Volatile.Write(ref *slot, Free);   // a freed slot may already be another waiter's: only a notified one is still ours
                reacquired = l.Reacquire(saved, CancellationToken.None);   // as CPython: the lock is always held again on return
                // A waiter that is stopped, or that will throw for an abandoned lock, passes its notification on.
                if (woken && (cancelled || reacquired == LockAcquisition.Abandoned)) Notify(1);
            }
            if (reacquired == LockAcquisition.Abandoned) throw new AbandonedLockException(l.Name, l.Kind.ToString());
            return woken;
        }

        /// <summary>Under the lock: a free slot (pruning dead waiters if there is none), numbered in arrival order.</summary>
        private int* TakeSlot()
        {
            for (int pass = 0; pass < 2; pass++)
            {
                for (int i = 0; i < SlotCount; i++)
                {
                    int* slot = State(i);
                    if (Volatile.Read(ref *slot) != Free) continue;
                    *Field(i, SlotPid) = HolderId.MyPid;
                    *(uint*)Field(i, SlotStart) = HolderId.Start(HolderId.Me);
                    *Field(i, SlotNumber) = (*Word(NextNumber))++;
                    Volatile.Write(ref *slot, Waiting);
                    return slot;
                }
                for (int i = 0; i < SlotCount; i++)
                {
                    int st = Volatile.Read(ref *State(i));
                    // A dead process's slot, waiting or notified (it died before taking its notification), is freed.
                    if (st != Free && Liveness.IsGone(*Field(i, SlotPid), *(uint*)Field(i, SlotStart)))
                        Interlocked.CompareExchange(ref *State(i), Free, st);
                }
            }
            throw new IpcSyncStateException(Name, $"The condition '{Name}' already has {SlotCount} waiters, the most it can hold.");
        }
    }
}
