using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Takes a lock or a semaphore permit (by object or by name); release it with Exit-IpcLock. Running out of time is
    /// the timeout rule's IpcTimeout error: nothing is taken, nothing is output (use -ErrorAction Stop, or Use-IpcLock,
    /// so that code meant to run under the lock never runs without it).
    /// </summary>
    [Cmdlet(VerbsCommon.Enter, "IpcLock", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(ILockable))]
    public sealed class EnterIpcLockCommand : LockCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The lock, RLock, semaphore, condition, Value or Array.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public ILockable Lock { get; set; } = null!;

        /// <summary>The name of the lock (or semaphore…): opened for as long as it is held, and closed by Exit-IpcLock -Name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(ILockable), Lockable)]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Output the lock once taken.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            ILockable target;
            try { target = Target(Lock, Name, Lockable); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { WriteIpcError(e, Name ?? (object)Lock); return; }
            bool named = !ReferenceEquals(target, Lock);
            if (!Acquire(target, Timeout))
            {
                if (named) CloseNamed(target);
                return;
            }
            if (named)
            {
                // Held by name: the handle stays open until Exit-IpcLock releases it.
                KeepNamed(target);
                NamedLocks.Push(target);
            }
            if (PassThru) WriteObject(Lock ?? target);
        }
    }
}
