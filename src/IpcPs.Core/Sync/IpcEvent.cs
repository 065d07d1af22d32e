using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// An event flag shared between processes (CPython's multiprocessing.Event).
    /// State at offset 64: i32 state = generation &lt;&lt; 1 | flag, one word so that a waiter always sees the flag and
    /// the generation of the same Set (two words let a waiter see a late generation bump of a Set it had already
    /// seen, and answer False). Set bumps the generation as it sets the flag; Clear only clears the flag. Waiters sleep
    /// on this word, so a Set quickly followed by a Clear still wakes them (they answer the flag as they find it, as
    /// CPython does). 68: i32 sleepers, so Set makes the wake-up system call only when someone sleeps (raised before
    /// the futex wait, read after the state changes; both full fences: either Set sees the sleeper or the sleeper's
    /// futex wait sees the new state).
    /// A waiter spins for a few microseconds before sleeping: a peer that answers at once (ping-pong) is then met
    /// without two trips through the scheduler.
    /// </summary>
    public sealed unsafe class IpcEvent : SyncObject, IIpcEvent
    {
        private const int StateWord = StateOffset, Sleepers = StateOffset + 4;
        private static readonly long SpinTicks = Environment.ProcessorCount > 1 ? System.Diagnostics.Stopwatch.Frequency / 250_000 : 0;   // 4 µs

        private IpcEvent(string name) : base(name, IpcObjectKind.Event) { }

        internal static IpcEvent Describe(string name) => new IpcEvent(name);

        /// <summary>Creates an event, clear unless INITIALLYSET; with OPENORCREATE opens it instead if the name exists.</summary>
        public static IpcEvent Create(string? name, bool initiallySet = false, bool openOrCreate = false) =>
            Make(name, openOrCreate, IpcObjectKind.Event, IpcLock.SegmentSize, 0, 0, n => new IpcEvent(n),
                b => *(int*)((byte*)b + StateWord) = initiallySet ? 1 : 0).Handle;

        public bool IsSet() => (Volatile.Read(ref *LookWord(StateWord)) & 1) != 0;

        /// <summary>Set or Clear now (as IsSet(), as a property: for views, Where-Object and ConvertTo-Json).</summary>
        public IpcEventState State => IsSet() ? IpcEventState.Set : IpcEventState.Clear;

        /// <summary>Waiters asleep on the event now, in every process (a waiter in its first microseconds spins and is not counted).</summary>
        public int WaiterCount => Volatile.Read(ref *LookWord(Sleepers));

        /// <summary>Sets the flag and wakes every waiter, in every process.</summary>
        public void Set()
        {
            int* state = Word(StateWord);
            while (true)
            {
                int s = Volatile.Read(ref *state);
                if ((s & 1) != 0) return;
                if (Interlocked.CompareExchange(ref *state, (s + 2) | 1, s) == s) break;   // next generation, flag set
            }
            SignalWord.Wake(state, Word(Sleepers), int.MaxValue);
        }

        public void Clear()
        {
            int* state = Word(StateWord);
            int s;
            while (((s = Volatile.Read(ref *state)) & 1) != 0 && Interlocked.CompareExchange(ref *state, s & ~1, s) != s) { }
        }

        /// <summary>Waits until set. Returns the flag (CPython: wait(None) is True).</summary>
        public bool Wait() => Wait(Timeout.InfiniteTimeSpan, Core.IpcHost.CallerInterrupt);

        /// <summary>Waits at most TIMEOUTSECONDS (+∞: no limit; negative: 0); returns the flag, False on timeout.</summary>
        public bool Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);

        public bool Wait(TimeSpan timeout, CancellationToken cancel) => Wait(Deadline.After(timeout), cancel);

        private bool Wait(Deadline deadline, CancellationToken cancel)
        {
            int* state = Word(StateWord), sleepers = Word(Sleepers);
            int seen = Volatile.Read(ref *state);
            if ((seen & 1) != 0) return true;
            // The state word is the event's signal: any Set moves it (a set-then-clear pulse too, answered False).
            long spinUntil = 0;
            while (!SignalWord.Await(state, sleepers, seen, deadline, cancel, ref spinUntil, SpinTicks, -1) && !deadline.HasPassed) { }
            return (Volatile.Read(ref *state) & 1) != 0;
        }

        public override string ToString() => IsClosed ? $"Event('{Name}', closed)" : $"Event('{Name}', {(IsSet() ? "set" : "clear")})";
    }
}

namespace IpcPs
{
    /// <summary>Whether an event is set.</summary>
    public enum IpcEventState { Clear, Set }
}
