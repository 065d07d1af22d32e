using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Waits until every item put on a joinable queue has been marked done (CPython's JoinableQueue.join()).</summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcQueue")]
    [OutputType(typeof(bool))]
    public sealed class WaitIpcQueueCommand : IpcCmdlet
    {
        /// <summary>The joinable queue.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcQueue Queue { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        protected override void ProcessRecord()
        {
            bool done;
            try { done = Queue.Join(Timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                ThrowIpcError(e, Queue);
                return;
            }
            WriteObject(done);
        }
    }
}
