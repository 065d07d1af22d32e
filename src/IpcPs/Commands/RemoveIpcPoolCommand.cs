using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Ends a pool's workers (politely, then by force after a few seconds) and releases their pipes.</summary>
    [Cmdlet(VerbsCommon.Remove, "IpcPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class RemoveIpcPoolCommand : IpcCmdlet
    {
        /// <summary>The pools New-IpcPool returned.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcPool[] Pool { get; set; } = null!;

        protected override void ProcessRecord()
        {
            foreach (var pool in Pool)
                if (ShouldProcess($"pool of {pool.Size} workers ({string.Join(", ", pool.Pids)})", "Remove")) pool.Dispose();
        }
    }
}
