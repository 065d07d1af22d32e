using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Shared by Enter-IpcLock and Use-IpcLock: take a lock in time or fail, and report abandonment.</summary>
    public abstract class LockCmdlet : IpcCmdlet
    {
        /// <summary>Takes LOCK within TIMEOUT. A timeout is a terminating error; an abandoned lock is taken with a warning.</summary>
        protected void AcquireOrThrow(ILockable lockable, TimeSpan timeout)
        {
            LockAcquisition result;
            try { result = lockable.TryAcquire(timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException)
            {
                ThrowIpcError(e, lockable);
                return;
            }
            if (result == LockAcquisition.TimedOut)
                ThrowIpcError(new IpcTimeoutException($"Could not take the {lockable.Kind} '{lockable.Name}' within {timeout.TotalSeconds:0.###} s.", lockable.Name), lockable);
            if (result != LockAcquisition.Abandoned) return;
            try { WriteWarning(new AbandonedLockException(lockable.Name, lockable.Kind.ToString()).Message); }
            catch
            {
                lockable.Release();   // -WarningAction Stop turned the warning into an error: the command failed, so it must not keep the lock
                throw;
            }
        }
    }
}
