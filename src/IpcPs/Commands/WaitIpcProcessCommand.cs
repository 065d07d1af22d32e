using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Waits for child processes to end: all of them, or with -Any the first. Outputs nothing (with -PassThru, the jobs
    /// that ended); a job still running when the timeout passes is the timeout rule's IpcTimeout error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcProcess")]
    [OutputType(typeof(IpcProcessJob))]
    public sealed class WaitIpcProcessCommand : IpcCmdlet
    {
        private readonly List<IpcProcessJob> _jobs = new List<IpcProcessJob>();

        /// <summary>The jobs Start-IpcProcess returned.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcProcessJob[] Job { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait in all; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Return as soon as any one of the jobs has ended (Wait-Job -Any).</summary>
        [Parameter]
        public SwitchParameter Any { get; set; }

        /// <summary>Output the jobs that ended (with -Any, the first to end).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord() => _jobs.AddRange(Job.Where(j => j != null && !_jobs.Contains(j)));

        protected override void EndProcessing()
        {
            if (_jobs.Count == 0) return;
            var deadline = Timeout == System.Threading.Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + Timeout;
            if (Any) { WaitAny(deadline); return; }
            foreach (var job in _jobs)
            {
                if (job.WaitForExit(Left(deadline), StopToken)) { if (PassThru) WriteObject(job); continue; }
                if (StopToken.IsCancellationRequested) throw new PipelineStoppedException();
                WriteTimeout($"The child process {job.Pid} (job {job.Id}) did not end {Within(Timeout)}.", job.Name, job);
            }
        }

        private void WaitAny(DateTime deadline)
        {
            using (var any = new ManualResetEventSlim(false))
            {
                Action ended = any.Set;
                foreach (var job in _jobs) job.Ended += ended;
                try
                {
                    // Subscribed first, then looked: a job that ends in between is seen by one of the two.
                    var first = _jobs.FirstOrDefault(j => j.HasEnded);
                    if (first is null)
                    {
                        try { any.Wait(Left(deadline), StopToken); }
                        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
                        first = _jobs.FirstOrDefault(j => j.HasEnded);
                    }
                    if (first is null) WriteTimeout($"None of the {_jobs.Count} child processes ended {Within(Timeout)}.", null, _jobs.ToArray());
                    else if (PassThru) WriteObject(first);
                }
                finally { foreach (var job in _jobs) job.Ended -= ended; }
            }
        }

        private static TimeSpan Left(DateTime deadline) =>
            deadline == DateTime.MaxValue ? System.Threading.Timeout.InfiniteTimeSpan
            : deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero;
    }
}
