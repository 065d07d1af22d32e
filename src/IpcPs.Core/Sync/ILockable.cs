using System;
using System.Threading;

namespace IpcPs
{
    /// <summary>What Enter-IpcLock, Exit-IpcLock and Use-IpcLock work with: a lock, a recursive lock or a semaphore.</summary>
    public interface ILockable
    {
        string Name { get; }
        IpcObjectKind Kind { get; }

        /// <summary>Takes it, waiting at most TIMEOUT (infinite: Timeout.InfiniteTimeSpan); CANCEL ends the wait.</summary>
        LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel);

        void Release();
    }

    internal static class LockableExtensions
    {
        /// <summary>Python's acquire(block, timeout): True/False, and AbandonedLockException (holding it) when abandoned.</summary>
        public static bool AcquirePython(this ILockable l, bool block, double timeoutSeconds)
        {
            // CPython: no timeout (here +∞) waits forever, a negative one counts as 0, block=False ignores it.
            var timeout = !block ? TimeSpan.Zero
                : double.IsNaN(timeoutSeconds) ? throw new ArgumentException("A timeout cannot be NaN.")
                : double.IsPositiveInfinity(timeoutSeconds) || timeoutSeconds > int.MaxValue / 1000.0 ? Timeout.InfiniteTimeSpan
                : TimeSpan.FromSeconds(Math.Max(timeoutSeconds, 0));
            var result = l.TryAcquire(timeout, timeout == TimeSpan.Zero ? CancellationToken.None : Core.IpcHost.CallerInterrupt);
            if (result == LockAcquisition.Abandoned) throw new AbandonedLockException(l.Name, l.Kind.ToString());
            return result == LockAcquisition.Acquired;
        }
    }
}
