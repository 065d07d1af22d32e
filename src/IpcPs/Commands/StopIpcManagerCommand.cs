using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Shuts a manager down: every object it owns is destroyed, its socket directory removed, its process ended.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "IpcManager", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class StopIpcManagerCommand : IpcCmdlet
    {
        /// <summary>The manager (from Start-IpcManager or Connect-IpcManager).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcManager[] Manager { get; set; } = null!;

        protected override void ProcessRecord()
        {
            foreach (var m in Manager)
                if (ShouldProcess($"manager at {m.Address}", "Shut down"))
                    TryIpc(() => ManagerControl.Stop(m), m);
        }
    }
}
