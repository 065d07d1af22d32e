using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// futex(2) on a word of a MAP_SHARED mapping, without FUTEX_PRIVATE_FLAG: the kernel keys the wait on the
    /// physical page, so a FUTEX_WAKE in one process wakes a FUTEX_WAIT in another.
    /// </summary>
    internal sealed unsafe class LinuxFutex : IWordWait
    {
        private const int FUTEX_WAIT = 0, FUTEX_WAKE = 1;
        private static readonly long SysFutex = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202;

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec { public long Seconds; public long Nanoseconds; }

        [DllImport("libc", SetLastError = true)]
        private static extern long syscall(long number, int* address, int op, int value, Timespec* timeout, int* address2, int value3);

        /// <summary>
        /// Cancellation registers a callback that does FUTEX_WAKE(all) on the word: the waiter wakes, its caller sees
        /// the token cancelled and throws; other sleepers on the word re-check and sleep again. A wake reaches only
        /// sleepers already queued in the kernel, and a cancel may come after the waiter looked at its token but before
        /// it is queued: so the wake is made again (<see cref="CancelWaker"/>) until the wait has returned. An
        /// uncancellable wait registers nothing (the hot path: one futex call).
        /// </summary>
        public bool Wait(int* address, int expected, int timeoutMilliseconds, CancellationToken cancel)
        {
            if (!cancel.CanBeCanceled) return FutexWait(address, expected, timeoutMilliseconds);
            var waker = new CancelWaker(this, address);
            try
            {
                using (cancel.Register(w => ((CancelWaker)w!).Cancelled(), waker))
                {
                    // Cancelled before the registration: its wake-up has already gone, so do not sleep.
                    if (cancel.IsCancellationRequested) return true;
                    WordWaitTesting.SleepStarting?.Invoke();
                    return FutexWait(address, expected, timeoutMilliseconds);
                }
            }
            finally { waker.Ended(); }
        }

        /// <summary>
        /// A cancelled wait's wake-up, made at the cancel and again after 1 ms, doubling up to <see cref="MaxAgainMs"/>,
        /// until the wait has returned: a cancel that came between the waiter's look at its token and its entry into
        /// the kernel woke nobody, and the waiter then slept on to its timeout (CI run 38: a 60 s wait not ended by its
        /// cancel within 30 s). Never after the wait has returned (<see cref="Ended"/>, under the same gate): the word's
        /// mapping may be gone then. The repeats run only for a cancelled wait that has not returned yet.
        /// </summary>
        private sealed class CancelWaker
        {
            private const int MaxAgainMs = 64;
            private readonly LinuxFutex _futex;
            private readonly int* _address;
            private readonly object _gate = new object();
            private bool _ended;
            private Timer? _again;
            private int _delayMs = 1;

            public CancelWaker(LinuxFutex futex, int* address)
            {
                _futex = futex;
                _address = address;
            }

            /// <summary>The token's callback (on the cancelling thread).</summary>
            public void Cancelled()
            {
                lock (_gate)
                {
                    if (_ended) return;
                    WakeAll();
                    _again = new Timer(_ => Again(), null, _delayMs, Timeout.Infinite);
                }
            }

            private void Again()
            {
                lock (_gate)
                {
                    if (_ended) return;
                    WakeAll();
                    _delayMs = Math.Min(_delayMs * 2, MaxAgainMs);
                    _again?.Change(_delayMs, Timeout.Infinite);
                }
            }

            /// <summary>The wait has returned: no wake-up is made from now on.</summary>
            public void Ended()
            {
                lock (_gate)
                {
                    _ended = true;
                    _again?.Dispose();
                }
            }

            // A timer's callback must not throw (it would end the process); the waiter's own error, if any, is its own.
            private void WakeAll()
            {
                try { _futex.Wake(_address, int.MaxValue); }
                catch (IpcPlatformException) { }
            }
        }

        private static bool FutexWait(int* address, int expected, int timeoutMilliseconds)
        {
            Timespec ts;
            Timespec* pts = null;
            if (timeoutMilliseconds >= 0)
            {
                ts.Seconds = timeoutMilliseconds / 1000;
                ts.Nanoseconds = (timeoutMilliseconds % 1000) * 1_000_000L;
                pts = &ts;
            }
            if (syscall(SysFutex, address, FUTEX_WAIT, expected, pts, null, 0) == 0) return true;
            int e = Marshal.GetLastWin32Error();
            if (e == Errno.ETIMEDOUT) return false;
            if (e == Errno.EAGAIN || e == Errno.EINTR) return true;   // the word had changed, or a signal: re-check
            throw new IpcPlatformException("futex wait", e, null);
        }

        public void Wake(int* address, int count)
        {
            if (syscall(SysFutex, address, FUTEX_WAKE, count, null, null, 0) < 0)
                throw new IpcPlatformException("futex wake", Marshal.GetLastWin32Error(), null);
        }
    }
}
