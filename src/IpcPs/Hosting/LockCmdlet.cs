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
            if (result == LockAcquisition.TimedOut)
                ThrowIpcError(new IpcTimeoutException($"Could not take the {lockable.Kind} '{lockable.Name}' within {timeout.TotalSeconds:0.###} s.", lockable.Name), lockable);
            if (result == LockAcquisition.Abandoned)
                WriteWarning(new AbandonedLockException(lockable.Name, lockable.Kind.ToString()).Message);
        }
    }
}
