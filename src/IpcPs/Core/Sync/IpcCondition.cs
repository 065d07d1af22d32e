using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A condition variable shared between processes (CPython's multiprocessing.Condition), over an IpcLock or
    /// IpcRLock (a new RLock named NAME.lock when none is given).
    /// State at offset 64 (i32): 64 waiters (sleeping or about to); 68 tickets (wake-ups handed out by Notify and
    /// not yet taken); 72 sequence (futex word, bumped by every Notify). 128: the lock's name (u16 length + UTF-8).
    /// A waiter counts itself in while holding the lock, so no Notify can miss it; Notify(n) hands out at most
    /// min(n, waiters - tickets) tickets, and each woken waiter takes exactly one, so Notify(n) wakes n waiters.
    /// </summary>
    public sealed unsafe class IpcCondition : SyncObject, ILockable
    {
        private const int Waiters = StateOffset, Tickets = StateOffset + 4, Sequence = StateOffset + 8;
        private const int LockName = 128, LockNameCapacity = 260;
        private IpcLock? _lock;

        private IpcCondition(string name) : base(name, IpcObjectKind.Condition) { }

        internal static IpcCondition Describe(string name) => new IpcCondition(name);

        /// <summary>Creates a condition over LOCK (a new RLock "NAME.lock" when null).</summary>
        public static IpcCondition Create(string? name, IpcLock? @lock = null, bool openOrCreate = false)
        {
            name = name is null ? Core.IpcName.Generate() : Core.IpcName.Validate(name);
            // The condition keeps its own handle on the lock, closed with the condition.
            var l = @lock is null ? IpcLock.Create(name + ".lock", recursive: true, openOrCreate: openOrCreate) : (IpcLock)IpcObjects.Open(@lock.Name, @lock.Kind);
            try
            {
                var c = Make(name, openOrCreate, IpcObjectKind.Condition, IpcLock.SegmentSize, 0, 0, n => new IpcCondition(n),
                    b => WriteString(b, LockName, LockNameCapacity, l.Name)).Handle;
                c._lock = l;
                return c;
            }
            catch
            {
                l.Close();
                throw;
            }
        }

        /// <summary>The lock this condition uses (opened by name on first use in another process).</summary>
        public IpcLock Lock => _lock ??= (IpcLock)IpcObjects.Open(ReadString(LockName, LockNameCapacity));

        public bool Acquire() => Lock.Acquire();
        public bool Acquire(bool block, double timeoutSeconds) => Lock.Acquire(block, timeoutSeconds);
        public void Release() => Lock.Release();

        /// <summary>Takes the condition's lock (so Enter-IpcLock and Use-IpcLock work on a condition, as Python's "with cond:").</summary>
        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel) => Lock.TryAcquire(timeout, cancel);

        /// <summary>Sleepers counted now.</summary>
        public int WaiterCount => Volatile.Read(ref *Word(Waiters));

        /// <summary>Releases the lock completely, waits for Notify, re-takes it. True if notified, False on timeout.</summary>
        public bool Wait() => Wait(Deadline.Infinite, CancellationToken.None);
        public bool Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), CancellationToken.None);
        public bool Wait(TimeSpan timeout, CancellationToken cancel) => Wait(Deadline.After(timeout), cancel);

        /// <summary>Waits until PREDICATE is true; returns its last value (false on timeout).</summary>
        public bool WaitFor(Func<bool> predicate, double timeoutSeconds = double.PositiveInfinity) =>
            WaitFor(predicate, Deadline.AfterSeconds(timeoutSeconds), CancellationToken.None);

        public bool WaitFor(Func<bool> predicate, TimeSpan timeout, CancellationToken cancel) =>
            WaitFor(predicate, Deadline.After(timeout), cancel);

        /// <summary>Wakes up to N waiters. The caller must hold the lock.</summary>
        public void Notify(int n = 1)
        {
            if (!Lock.IsMine) throw new IpcSyncStateException(Name, $"Cannot notify the condition '{Name}': this caller does not hold its lock.");
            if (n <= 0) return;
            int* tickets = Word(Tickets);
            while (true)
            {
                int t = Volatile.Read(ref *tickets);
                int k = Math.Min(n, Volatile.Read(ref *Word(Waiters)) - t);
                if (k <= 0) return;
                if (Interlocked.CompareExchange(ref *tickets, t + k, t) != t) continue;
                Interlocked.Increment(ref *Word(Sequence));
                WordWait.Wake(Word(Sequence), k);
                return;
            }
        }

        public void NotifyAll() => Notify(int.MaxValue);

        public override string ToString() => $"Condition('{Name}', lock '{Lock.Name}', {WaiterCount} waiting)";

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
            Interlocked.Increment(ref *Word(Waiters));
            int seq = Volatile.Read(ref *Word(Sequence));
            int saved = l.ReleaseAll();
            bool woken = false;
            try
            {
                while (!(woken = TakeTicket()))
                {
                    if (!WordWait.Sleep(Word(Sequence), seq, deadline, cancel)) break;
                    seq = Volatile.Read(ref *Word(Sequence));
                }
            }
            finally
            {
                if (!woken)
                {
                    // Timed out or cancelled: count ourselves out; a ticket handed out for us meanwhile is taken back
                    // so tickets never exceed waiters.
                    int left = Interlocked.Decrement(ref *Word(Waiters));
                    int* tickets = Word(Tickets);
                    int t;
                    while ((t = Volatile.Read(ref *tickets)) > left && Interlocked.CompareExchange(ref *tickets, t - 1, t) != t) { }
                }
                l.Reacquire(saved, CancellationToken.None);   // as CPython: the lock is always held again on return
            }
            return woken;
        }

        private bool TakeTicket()
        {
            int* tickets = Word(Tickets);
            while (true)
            {
                int t = Volatile.Read(ref *tickets);
                if (t <= 0) return false;
                if (Interlocked.CompareExchange(ref *tickets, t - 1, t) == t)
                {
                    Interlocked.Decrement(ref *Word(Waiters));
                    return true;
                }
            }
        }

        private protected override void OnClose() => _lock?.Close();
    }
}
