using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Runs a script block in the caller's scope while holding a lock (by object or by name), and always releases it —
    /// after an error or Ctrl+C too. If the lock cannot be taken in time, the block does not run: the timeout rule's
    /// IpcTimeout error.
    /// </summary>
    [Cmdlet(VerbsOther.Use, "IpcLock", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(object))]
    public sealed class UseIpcLockCommand : LockCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The lock, RLock, semaphore, condition, Value or Array.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByObject)]
        public ILockable Lock { get; set; } = null!;

        /// <summary>The name of the lock (or semaphore…), opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(ILockable), Lockable)]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>The code to run under the lock.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait for the lock at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Arguments for the script block's param().</summary>
        [Parameter]
        [Alias("Args")]
        [HandleArgumentTransformation]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        protected override void EndProcessing()
        {
            ILockable target;
            try { target = Target(Lock, Name, Lockable); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { ThrowIpcError(e, Name ?? (object)Lock); return; }
            if (!Acquire(target, Timeout)) return;
            // Output waits for the release: commands later in the pipeline never run under the lock.
            InvokeBlock(ScriptBlock, ArgumentList, target.Release, outputAfterEnd: true);
        }
    }
}
