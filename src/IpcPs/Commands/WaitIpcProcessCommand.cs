using System;
using System.Management.Automation;
using System.Threading;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Waits for child processes to end and outputs those that ended (as Wait-Job does).</summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcProcess")]
    [OutputType(typeof(IpcProcessJob))]
    public sealed class WaitIpcProcessCommand : IpcCmdlet
    {
        private readonly System.Collections.Generic.List<IpcProcessJob> _jobs = new System.Collections.Generic.List<IpcProcessJob>();

        /// <summary>The jobs Start-IpcProcess returned.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcProcessJob[] Job { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait in all; forever when omitted. Jobs still running then are not output.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        protected override void ProcessRecord() => _jobs.AddRange(Job);

        protected override void EndProcessing()
        {
            var deadline = Timeout == System.Threading.Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + Timeout;
            foreach (var job in _jobs)
            {
                var left = deadline == DateTime.MaxValue ? System.Threading.Timeout.InfiniteTimeSpan
                    : deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero;
                if (job.WaitForExit(left, StopToken)) WriteObject(job);
                else if (StopToken.IsCancellationRequested) return;
            }
        }
    }
}
