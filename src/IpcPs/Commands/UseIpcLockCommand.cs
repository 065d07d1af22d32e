using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Runs a script block while holding a lock, and always releases it — after an error or Ctrl+C too. If the lock
    /// cannot be taken in time, the block does not run and the command fails.
    /// </summary>
    [Cmdlet(VerbsOther.Use, "IpcLock")]
    [OutputType(typeof(object))]
    public sealed class UseIpcLockCommand : LockCmdlet
    {
        /// <summary>The lock, RLock or semaphore.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ILockable Lock { get; set; } = null!;

        /// <summary>The code to run under the lock.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait for the lock at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Arguments for the script block's param().</summary>
        [Parameter]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        protected override void EndProcessing()
        {
            AcquireOrThrow(Lock, Timeout);
            // Output waits for the release: commands later in the pipeline never run under the lock.
            InvokeBlock(ScriptBlock, ArgumentList, Lock.Release, outputAfterEnd: true);
        }
    }
}
