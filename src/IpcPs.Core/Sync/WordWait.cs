using System;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Sync
{
    /// <summary>
    /// The one place IpcPs blocks: a futex sleep on a shared word, ended by a wake from any process, the deadline,
    /// a liveness slice, or cancellation. Cancellation wakes every sleeper on the word (they re-check and sleep
    /// again), so Ctrl+C ends a wait at once without any polling.
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
            int ms = deadline.RemainingMilliseconds(sliceMs);
            if (!cancel.CanBeCanceled) Words.Wait(word, expected, ms);
            else
                using (cancel.Register(WakeAll, (IntPtr)word))
                    if (!cancel.IsCancellationRequested)   // cancelled before the registration: its wake-up has already gone
                        Words.Wait(word, expected, ms);
            cancel.ThrowIfCancellationRequested();
            return true;
        }

        public static void Wake(int* word, int count) => Words.Wake(word, count);

        private static void WakeAll(object? word) => Words.Wake((int*)(IntPtr)word!, int.MaxValue);
    }
}
