using System.Threading;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Blocking on a 32-bit word of shared memory, woken from any process, with futex semantics: a sleeper sleeps only
    /// while the word equals the value it expects (checked after it is registered, so a wake-up that follows a change
    /// of the word is never lost), and a wake-up reaches sleepers that were registered when it was made. Linux: futex.
    /// Windows: a sleepers count per word and a named semaphore per generation of sleepers (docs/design.md, "Waits on
    /// Windows"); there a wake of fewer than all sleepers may reach one that registered just after the call instead,
    /// so such partial wakes are used only on words whose sleepers all wait for the same thing (a lock, a semaphore's
    /// permits, a queue's messages).
    /// </summary>
    internal unsafe interface IWordWait
    {
        /// <summary>
        /// Sleeps while *ADDRESS == EXPECTED, at most TIMEOUT ms (-1: no limit), or until CANCEL is cancelled (the caller
        /// checks the token afterwards). False only on timeout; may return early (a spurious wake-up: re-check).
        /// </summary>
        bool Wait(int* address, int expected, int timeoutMilliseconds, CancellationToken cancel);

        /// <summary>Wakes up to COUNT sleepers on ADDRESS (int.MaxValue: all).</summary>
        void Wake(int* address, int count);
    }

    /// <summary>For tests only: a fault injection into <see cref="IWordWait.Wait"/>.</summary>
    internal static class WordWaitTesting
    {
        /// <summary>
        /// Run by a cancellable wait between its last look at its token and its sleep — the window where a cancel's
        /// wake-up can come before the sleeper is asleep (Linux: FUTEX_WAKE reaches only sleepers already queued). Null
        /// outside tests: one static read per cancellable wait.
        /// </summary>
        public static System.Action? SleepStarting;
    }
}
