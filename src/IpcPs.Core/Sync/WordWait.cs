using System;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Sync
{
    /// <summary>
    /// The one place IpcPs blocks: a sleep on a shared word (<see cref="IWordWait"/>: a futex on Linux, a counted named
    /// semaphore on Windows), ended by a wake from any process, the deadline, a liveness slice, or cancellation. How
    /// cancellation ends a sleep at once is the platform's (Linux wakes every sleeper on the word, which re-check;
    /// Windows waits on the token's handle too); no wait ever polls with sleeps.
    /// </summary>
    internal static unsafe class WordWait
    {
        /// <summary>How often a waiter that may wait on a dead process re-checks liveness.</summary>
        public const int LivenessSliceMs = 200;

        private static readonly IWordWait Words = Platforms.Current.Words;

        /// <summary>
        /// Sleeps while *WORD == EXPECTED. False when the deadline has passed (checked first); true otherwise, which
        /// means only "re-check". SLICE caps one sleep (-1: no cap). Throws OperationCanceledException when cancelled.
        /// </summary>
        public static bool Sleep(int* word, int expected, Deadline deadline, CancellationToken cancel, int sliceMs = -1)
        {
            if (deadline.HasPassed) return false;
            cancel.ThrowIfCancellationRequested();
            BeforeWait.Run();
            if (Volatile.Read(ref *word) != expected) return true;   // the flush may have taken time: re-check first
            // The platform's wait ends on CANCEL itself (Linux: a wake-up registered on the token; Windows: its handle).
            Words.Wait(word, expected, deadline.RemainingMilliseconds(sliceMs), cancel);
            cancel.ThrowIfCancellationRequested();
            return true;
        }

        public static void Wake(int* word, int count) => Words.Wake(word, count);
    }
}
