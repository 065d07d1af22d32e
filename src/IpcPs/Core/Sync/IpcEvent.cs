using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// An event flag shared between processes (CPython's multiprocessing.Event).
    /// State at offset 64: i32 flag (0 clear, 1 set); 68: i32 generation, bumped by every Set that changes the flag —
    /// the futex word waiters sleep on, so a Set quickly followed by a Clear still wakes them (they then return the
    /// flag as it is, False, as CPython does).
    /// </summary>
    public sealed unsafe class IpcEvent : SyncObject
    {
        private const int Flag = StateOffset, Generation = StateOffset + 4;

        private IpcEvent(string name) : base(name, IpcObjectKind.Event) { }

        internal static IpcEvent Describe(string name) => new IpcEvent(name);

        /// <summary>Creates an event, clear unless INITIALLYSET; with OPENORCREATE opens it instead if the name exists.</summary>
        public static IpcEvent Create(string? name, bool initiallySet = false, bool openOrCreate = false) =>
            Make(name, openOrCreate, IpcObjectKind.Event, IpcLock.SegmentSize, 0, 0, n => new IpcEvent(n),
                b => *(int*)((byte*)b + Flag) = initiallySet ? 1 : 0).Handle;

        public bool IsSet() => Volatile.Read(ref *Word(Flag)) != 0;

        /// <summary>Sets the flag and wakes every waiter, in every process.</summary>
        public void Set()
        {
            if (Interlocked.Exchange(ref *Word(Flag), 1) != 0) return;
            Interlocked.Increment(ref *Word(Generation));
            WordWait.Wake(Word(Generation), int.MaxValue);
        }

        public void Clear() => Volatile.Write(ref *Word(Flag), 0);

        /// <summary>Waits until set. Returns the flag (CPython: wait(None) is True).</summary>
        public bool Wait() => Wait(Timeout.InfiniteTimeSpan, CancellationToken.None);

        /// <summary>Waits at most TIMEOUTSECONDS (+∞: no limit; negative: 0); returns the flag, False on timeout.</summary>
        public bool Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), CancellationToken.None);

        public bool Wait(TimeSpan timeout, CancellationToken cancel) => Wait(Deadline.After(timeout), cancel);

        private bool Wait(Deadline deadline, CancellationToken cancel)
        {
            int* flag = Word(Flag), generation = Word(Generation);
            while (true)
            {
                int g = Volatile.Read(ref *generation);
                if (Volatile.Read(ref *flag) != 0) return true;
                if (!WordWait.Sleep(generation, g, deadline, cancel) || Volatile.Read(ref *generation) != g)
                    return Volatile.Read(ref *flag) != 0;
            }
        }

        public override string ToString() => IsClosed ? $"Event('{Name}', closed)" : $"Event('{Name}', {(IsSet() ? "set" : "clear")})";
    }
}
