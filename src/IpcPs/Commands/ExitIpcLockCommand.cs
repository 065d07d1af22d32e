using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Releases a lock or a semaphore permit taken with Enter-IpcLock (by object or by name).</summary>
    [Cmdlet(VerbsCommon.Exit, "IpcLock", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(void))]
    public sealed class ExitIpcLockCommand : LockCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The lock, RLock, semaphore, condition, Value or Array.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public ILockable Lock { get; set; } = null!;

        /// <summary>The name of a lock (or semaphore…) taken with Enter-IpcLock -Name; its handle is closed once released.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(ILockable), Lockable)]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        protected override void ProcessRecord()
        {
            // A described handle (Get-IpcObject) stands for its name: the lock was taken through a handle of its own.
            string? name = ParameterSetName == ByName ? Name : Lock is IpcObject o && !o.IsOpen && !o.IsClosed ? o.Name : null;
            if (name is null) { TryIpc(Lock.Release, Lock); return; }
            var held = NamedLocks.Pop(name);
            if (held != null)
            {
                if (TryIpc(held.Release, name)) CloseHandle(held);
                else NamedLocks.Restore(held);
                return;
            }
            ILockable target;
            try { target = OpenNamed<ILockable>(name, Lockable); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { WriteIpcError(e, name); return; }
            TryIpc(target.Release, name);
            CloseNamed(target);
        }
    }
}
