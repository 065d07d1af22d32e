using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Waits until every item put on a joinable queue has been marked done (CPython's JoinableQueue.join()). Outputs
    /// nothing (the queue with -PassThru); running out of time is the timeout rule's IpcTimeout error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcQueue", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(IJoinableChannel))]
    public sealed class WaitIpcQueueCommand : IpcCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The joinable queue.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public IJoinableChannel Queue { get; set; } = null!;

        /// <summary>The queue's name, opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IJoinableChannel), "a queue")]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Output the queue once every item is done.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            IJoinableChannel q;
            try { q = Target(Queue, Name, "a queue"); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { WriteIpcError(e, Name ?? (object)Queue); return; }
            bool done;
            long unfinished = 0;
            try
            {
                done = q.Join(Timeout, StopToken);
                if (!done) unfinished = Unfinished(q);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException || e is InvalidOperationException)
            {
                WriteIpcError(e, q);
                return;
            }
            finally { if (!ReferenceEquals(q, Queue)) CloseNamed(q); }
            if (!done) WriteTimeout($"The items put on the queue '{q.Name}' were not all done {Within(Timeout)} ({unfinished} unfinished).", q.Name, Queue ?? (object)q.Name);
            else if (PassThru) WriteObject(Queue ?? Described(q));
        }

        /// <summary>How many items are not done: a local queue's UnfinishedTasks, a Redis queue's Unfinished.</summary>
        private static long Unfinished(IJoinableChannel q) => q switch
        {
            IpcQueue local => local.UnfinishedTasks,
            _ => System.Management.Automation.PSObject.AsPSObject(q).Properties["Unfinished"]?.Value is long n ? n : -1,
        };
    }
}
