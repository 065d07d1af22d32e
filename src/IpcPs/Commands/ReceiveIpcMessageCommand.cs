using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Receives messages from a queue or a pipe end and outputs each as one object.</summary>
    [Cmdlet(VerbsCommunications.Receive, "IpcMessage", DefaultParameterSetName = "Count")]
    [OutputType(typeof(object))]
    public sealed class ReceiveIpcMessageCommand : IpcCmdlet
    {
        /// <summary>The queue or pipe end.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [Alias("Queue", "Connection")]
        public IMessageChannel Channel { get; set; } = null!;

        /// <summary>How many messages to receive (default 1).</summary>
        [Parameter(ParameterSetName = "Count")]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Receive until a queue is empty, or until a pipe's other end closes.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "All")]
        public SwitchParameter All { get; set; }

        /// <summary>Seconds or a [TimeSpan]: the longest the whole command waits; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Do not wait: output only what is there now.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        // Batches: with -Count N or -All, a queue or pipe hands over what is there at once (GetMany/RecvMany), in batches
        // that double from 1 to 1,024, so a later command that stops the pipeline early (Select-Object -First) finds at
        // most as many messages taken and not output as it has already had.
        private const int MaxBatch = 1024;

        protected override void ProcessRecord()
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            bool isPipe = Channel is IpcConnection;
            var batches = All || Count > 1 ? Channel as IBatchChannel : null;
            var got = new System.Collections.Generic.List<object?>();
            for (int received = 0, batch = 1; All || received < Count; batch = Math.Min(batch * 2, MaxBatch))
            {
                // A queue drained with -All is not waited on; everything else waits what is left of -Timeout.
                TimeSpan wait = NoWait || (All && !isPipe) ? TimeSpan.Zero : Remaining(started);
                got.Clear();
                try
                {
                    bool any;
                    if (batches is null)
                    {
                        any = Channel.TryReceive(wait, StopToken, out var message);
                        if (any) got.Add(message);
                    }
                    else any = batches.TryReceiveMany(All ? batch : Math.Min(batch, Count - received), wait, StopToken, got) > 0;
                    if (!any)
                    {
                        if (!NoWait && !All)
                            WriteError(new ErrorRecord(new TimeoutException($"No message came from '{Channel.Name}' within the timeout ({received} of {Count} received)."),
                                ErrorRecords.IpcReceiveTimeout, ErrorCategory.OperationTimeout, Channel));
                        else if (All && isPipe && !NoWait)
                            WriteError(new ErrorRecord(new TimeoutException($"The other end of '{Channel.Name}' did not close within the timeout."),
                                ErrorRecords.IpcReceiveTimeout, ErrorCategory.OperationTimeout, Channel));
                        return;
                    }
                }
                catch (OperationCanceledException) { throw new PipelineStoppedException(); }
                catch (ConnectionClosedException e)
                {
                    if (All) return;   // -All on a pipe: the end of the stream ends the output
                    ThrowIpcError(e, Channel);
                    return;
                }
                catch (Exception e) when (e is IpcException || e is ObjectDisposedException || e is InvalidOperationException)
                {
                    foreach (var message in got) WriteObject(message);   // a batch's messages before a damaged one
                    ThrowIpcError(e, Channel);
                    return;
                }
                foreach (var message in got) WriteObject(message);
                received += got.Count;
            }
        }

        private TimeSpan Remaining(System.Diagnostics.Stopwatch started)
        {
            if (Timeout < TimeSpan.Zero) return System.Threading.Timeout.InfiniteTimeSpan;
            var left = Timeout - started.Elapsed;
            return left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);   // never Zero: that means "do not wait", and -Timeout 0 gets one try
        }
    }
}
