using System.Threading;

namespace IpcPs.Core.Sync
{
    /// <summary>What an acquire ended with.</summary>
    internal enum AcquireResult { Acquired, Abandoned, TimedOut }

    /// <summary>
    /// A mutex in one shared, 8-byte aligned 64-bit word that survives its holder's death.
    /// Word: 0 = free; otherwise the holder's <see cref="HolderId"/> (pid in bits 0..29, the low 32 bits of its start
    /// time in bits 32..63) and bit 30 = someone may be sleeping. The futex word is the low half (at the word's own
    /// address: Linux targets are little-endian), which holds the pid and the waiters bit.
    /// Uncontended acquire is one 64-bit CAS (0 → me), release one exchange (→ 0) plus a futex wake only when bit 30
    /// was set: the holder's identity and the word change in one atomic step. A waiter sleeps on the low half in
    /// slices; after a slice in which the word did not change it checks that the holder still runs — same pid, same
    /// start time, a process and not a thread — and only if it is known to be gone (never when liveness cannot be
    /// told) takes the word over with a CAS from the exact value it saw (so two waiters cannot both take it) and
    /// reports the lock as abandoned. A holder whose pid was reused by another process (or a thread) is gone: its
    /// start time differs.
    /// </summary>
    internal static unsafe class RobustLock
    {
        public const long WaitersBit = 0x40000000;

        /// <summary>This process as the word stores it.</summary>
        public static readonly long Me = HolderId.Me;

        public static AcquireResult Acquire(long* word, Deadline deadline, CancellationToken cancel)
        {
            if (Interlocked.CompareExchange(ref *word, Me, 0) == 0) return AcquireResult.Acquired;
            return AcquireSlow(word, deadline, cancel);
        }

        /// <summary>One attempt, never sleeping: free, or held by a dead process (then taken over).</summary>
        public static AcquireResult TryAcquire(long* word)
        {
            long v = Interlocked.CompareExchange(ref *word, Me, 0);
            if (v == 0) return AcquireResult.Acquired;
            return TakeOverIfDead(word, v) ? AcquireResult.Abandoned : AcquireResult.TimedOut;
        }

        /// <summary>Frees the word. False when it was not held.</summary>
        public static bool Release(long* word)
        {
            long v = Interlocked.Exchange(ref *word, 0);
            if (v == 0) return false;
            if ((v & WaitersBit) != 0) WordWait.Wake((int*)word, 1);
            return true;
        }

        /// <summary>The holder's <see cref="HolderId"/> (0 when free), without the waiters bit.</summary>
        public static long Holder(long* word) => HolderId.Identity(Volatile.Read(ref *word));

        public static int HolderPid(long* word) => HolderId.Pid(Volatile.Read(ref *word));

        private static AcquireResult AcquireSlow(long* word, Deadline deadline, CancellationToken cancel)
        {
            for (int spin = 0; spin < 20; spin++)
            {
                Thread.SpinWait(8 << (spin < 6 ? spin : 6));
                if (Volatile.Read(ref *word) == 0 && Interlocked.CompareExchange(ref *word, Me, 0) == 0) return AcquireResult.Acquired;
            }
            while (true)
            {
                long v = Volatile.Read(ref *word);
                if (v == 0)
                {
                    // Taken while others may sleep: keep the waiters bit so our release wakes one of them.
                    if (Interlocked.CompareExchange(ref *word, Me | WaitersBit, 0) == 0) return AcquireResult.Acquired;
                    continue;
                }
                if ((v & WaitersBit) == 0)
                {
                    if (Interlocked.CompareExchange(ref *word, v | WaitersBit, v) != v) continue;
                    v |= WaitersBit;
                }
                // The futex compares the low half only; the slice re-reads the whole word.
                if (!WordWait.Sleep((int*)word, (int)v, deadline, cancel, WordWait.LivenessSliceMs)) return AcquireResult.TimedOut;
                if (Volatile.Read(ref *word) == v && TakeOverIfDead(word, v)) return AcquireResult.Abandoned;
            }
        }

        private static bool TakeOverIfDead(long* word, long seen)
        {
            long holder = HolderId.Identity(seen);
            if (holder == Me || !Liveness.IsGone(holder)) return false;
            return Interlocked.CompareExchange(ref *word, Me | (seen & WaitersBit), seen) == seen;
        }
    }
}
