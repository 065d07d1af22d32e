using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Takes a lock or a semaphore permit; a timeout is a terminating error. Release it with Exit-IpcLock.</summary>
    [Cmdlet(VerbsCommon.Enter, "IpcLock")]
    [OutputType(typeof(ILockable))]
    public sealed class EnterIpcLockCommand : LockCmdlet
    {
        /// <summary>The lock, RLock or semaphore.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public ILockable Lock { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Output the lock once taken.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            AcquireOrThrow(Lock, Timeout);
            if (PassThru) WriteObject(Lock);
        }
    }
}
