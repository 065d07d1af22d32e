using System.Threading;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Sync
{
    /// <summary>What an acquire ended with.</summary>
    internal enum AcquireResult { Acquired, Abandoned, TimedOut }

    /// <summary>
    /// A mutex in one shared 32-bit word that survives its holder's death.
    /// Word: 0 = free; otherwise bits 0..29 = the holder's pid, bit 30 = someone may be sleeping on the word.
    /// Uncontended acquire is one CAS (0 → pid), release one exchange (→ 0) plus a futex wake only when bit 30 was
    /// set. A waiter sleeps on the word in slices; after a slice in which the word did not change it checks that
    /// the holder's pid still names a live, non-zombie process, and if not, takes the word over with a CAS from the
    /// exact value it saw (so two waiters cannot both take it) and reports the lock as abandoned.
    /// </summary>
    internal static unsafe class RobustLock
    {
        public const int WaitersBit = 0x40000000;
        public const int PidMask = 0x3FFFFFFF;

        /// <summary>This process's pid as the word stores it.</summary>
        public static readonly int Me = ProcessIdentity.Current.Pid;

        public static AcquireResult Acquire(int* word, Deadline deadline, CancellationToken cancel)
        {
            if (Interlocked.CompareExchange(ref *word, Me, 0) == 0) return AcquireResult.Acquired;
            return AcquireSlow(word, deadline, cancel);
        }

        /// <summary>One attempt, never sleeping: free, or held by a dead process (then taken over).</summary>
        public static AcquireResult TryAcquire(int* word)
        {
            int v = Interlocked.CompareExchange(ref *word, Me, 0);
            if (v == 0) return AcquireResult.Acquired;
            return TakeOverIfDead(word, v) ? AcquireResult.Abandoned : AcquireResult.TimedOut;
        }

        /// <summary>Frees the word. False when it was not held.</summary>
        public static bool Release(int* word)
        {
            int v = Interlocked.Exchange(ref *word, 0);
            if (v == 0) return false;
            if ((v & WaitersBit) != 0) WordWait.Wake(word, 1);
            return true;
        }

        public static int HolderPid(int* word) => Volatile.Read(ref *word) & PidMask;

        private static AcquireResult AcquireSlow(int* word, Deadline deadline, CancellationToken cancel)
        {
            for (int spin = 0; spin < 20; spin++)
            {
                Thread.SpinWait(8 << (spin < 6 ? spin : 6));
                if (Volatile.Read(ref *word) == 0 && Interlocked.CompareExchange(ref *word, Me, 0) == 0) return AcquireResult.Acquired;
            }
            while (true)
            {
                int v = Volatile.Read(ref *word);
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
                if (!WordWait.Sleep(word, v, deadline, cancel, WordWait.LivenessSliceMs)) return AcquireResult.TimedOut;
                if (Volatile.Read(ref *word) == v && TakeOverIfDead(word, v)) return AcquireResult.Abandoned;
            }
        }

        private static bool TakeOverIfDead(int* word, int seen)
        {
            int holder = seen & PidMask;
            if (holder == 0 || holder == Me || Liveness.IsRunning(holder)) return false;
            return Interlocked.CompareExchange(ref *word, Me | (seen & WaitersBit), seen) == seen;
        }
    }
}
