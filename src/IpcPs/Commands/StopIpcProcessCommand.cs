using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Stops child processes: SIGTERM, then SIGKILL after the grace period (at once with -Force).</summary>
    [Cmdlet(VerbsLifecycle.Stop, "IpcProcess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(IpcProcessJob))]
    public sealed class StopIpcProcessCommand : IpcCmdlet
    {
        /// <summary>The jobs Start-IpcProcess returned.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcProcessJob[] Job { get; set; } = null!;

        /// <summary>Kill at once (SIGKILL) instead of asking first.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>How long a polite stop may take before the child is killed. Default 5 seconds.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Output the stopped jobs.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var job in Job)
            {
                if (!ShouldProcess($"child process {job.Pid} (job {job.Id})", Force ? "Kill" : "Stop")) continue;
                job.Stop(Force, GracePeriod == System.Threading.Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : GracePeriod, StopToken);
                if (PassThru) WriteObject(job);
            }
        }
    }
}
