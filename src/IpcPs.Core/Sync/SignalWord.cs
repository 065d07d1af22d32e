using System;
using System.Diagnostics;
using System.Threading;

namespace IpcPs.Core.Sync
{
    /// <summary>
    /// The one spin-then-sleep wait of IpcPs, for a signal: a 32-bit word that counts events (bumped by whoever makes
    /// something happen: a put, a get, a Set), with a count of its sleepers beside it. A waiter reads the signal where it
    /// decided to wait (under the object's lock, or with the state it judged), spins a few microseconds in case the
    /// event is about to come, then sleeps on the word (<see cref="WordWait"/>: a futex on Linux), counted in the
    /// sleepers word while it does. A waker bumps the signal, then — after a full fence (a lock release, an
    /// Interlocked) — wakes only if the sleepers word is not 0. One of the two always sees the other: the waiter raises
    /// the count before its futex wait compares the word, the waker reads the count after the bump. So an uncontended
    /// put, get or Set makes no system call at all.
    /// </summary>
    internal static unsafe class SignalWord
    {
        /// <summary>How long a waiter spins before sleeping: 10 µs with a second CPU to make the event, none without.</summary>
        public static readonly long DefaultSpinTicks = Environment.ProcessorCount > 1 ? Stopwatch.Frequency / 100_000 : 0;

        // Not too often: each read pulls the cache line the other side is writing.
        private const int SpinPause = 16;

        /// <summary>
        /// Waits until *SIGNAL moves on from SEEN: spins until SPINUNTIL (set from SPINTICKS on the first call of a
        /// wait, kept by the caller across calls), then sleeps at most SLICEMS (-1: until the deadline) counted in
        /// *SLEEPERS. True when the signal moved; false when it did not — the deadline passed, or a slice ended (the
        /// caller re-checks what it waits for, e.g. a dead peer). Throws OperationCanceledException when cancelled.
        /// </summary>
        public static bool Await(int* signal, int* sleepers, int seen, Deadline deadline, CancellationToken cancel,
            ref long spinUntil, long spinTicks, int sliceMs)
        {
            if (Volatile.Read(ref *signal) != seen) return true;
            if (deadline.HasPassed) return false;
            cancel.ThrowIfCancellationRequested();
            BeforeWait.Run();   // a batch this thread holds back goes out before it waits (it may be what the other side waits for)
            if (Volatile.Read(ref *signal) != seen) return true;
            if (spinUntil == 0) spinUntil = Stopwatch.GetTimestamp() + spinTicks;
            while (Stopwatch.GetTimestamp() < spinUntil)
            {
                if (Volatile.Read(ref *signal) != seen) return true;
                Thread.SpinWait(SpinPause);
            }
            Interlocked.Increment(ref *sleepers);
            try { WordWait.Sleep(signal, seen, deadline, cancel, sliceMs); }
            finally { Interlocked.Decrement(ref *sleepers); }
            return Volatile.Read(ref *signal) != seen;
        }

        /// <summary>
        /// After the signal was bumped and a full fence followed: wakes up to COUNT sleepers, if any are counted (no
        /// system call otherwise).
        /// </summary>
        public static void Wake(int* signal, int* sleepers, int count)
        {
            if (Volatile.Read(ref *sleepers) > 0) WordWait.Wake(signal, count);
        }
    }
}
