using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Releases a lock or a semaphore permit taken with Enter-IpcLock.</summary>
    [Cmdlet(VerbsCommon.Exit, "IpcLock")]
    [OutputType(typeof(void))]
    public sealed class ExitIpcLockCommand : IpcCmdlet
    {
        /// <summary>The lock, RLock or semaphore.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public ILockable Lock { get; set; } = null!;

        protected override void ProcessRecord() => TryIpc(Lock.Release, Lock);
    }
}
