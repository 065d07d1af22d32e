using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Waits at a barrier until every party has arrived; outputs this party's arrival index.</summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcBarrier")]
    [OutputType(typeof(int))]
    public sealed class WaitIpcBarrierCommand : IpcCmdlet
    {
        /// <summary>The barrier.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcBarrier Barrier { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan]; the barrier's default timeout when omitted. Running out breaks the barrier.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan? Timeout { get; set; }

        protected override void ProcessRecord()
        {
            try { WriteObject(Barrier.Wait(Timeout, StopToken)); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException) { ThrowIpcError(e, Barrier); }
        }
    }
}
