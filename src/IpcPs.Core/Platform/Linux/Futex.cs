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
        /// the token cancelled and throws; other sleepers on the word re-check and sleep again. An uncancellable wait
        /// registers nothing (the hot path: one futex call).
        /// </summary>
        public bool Wait(int* address, int expected, int timeoutMilliseconds, CancellationToken cancel)
        {
            if (!cancel.CanBeCanceled) return FutexWait(address, expected, timeoutMilliseconds);
            using (cancel.Register(WakeAll, (IntPtr)address))
                // Cancelled before the registration: its wake-up has already gone, so do not sleep.
                return cancel.IsCancellationRequested || FutexWait(address, expected, timeoutMilliseconds);
        }

        private void WakeAll(object? address) => Wake((int*)(IntPtr)address!, int.MaxValue);

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
