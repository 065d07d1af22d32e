using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Sends each input object as one message to a queue or a pipe end.</summary>
    [Cmdlet(VerbsCommunications.Send, "IpcMessage")]
    [OutputType(typeof(void))]
    public sealed class SendIpcMessageCommand : IpcCmdlet
    {
        /// <summary>The queue or pipe end.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("Queue", "Connection")]
        public IMessageChannel Channel { get; set; } = null!;

        /// <summary>The message. From the pipeline, each item is one message; given as an argument, an array is one message.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [AllowNull, AllowEmptyString, AllowEmptyCollection]
        public object? InputObject { get; set; }

        /// <summary>A priority queue's priority: lower numbers come out first.</summary>
        [Parameter]
        public long? Priority { get; set; }

        /// <summary>Seconds or a [TimeSpan] to wait at most for room; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Do not wait for room: a full queue is an error for that message.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        /// <summary>How deep objects that are not primitives are serialized, for these messages (default: the channel's, 2).</summary>
        [Parameter]
        [ValidateRange(1, 100)]
        public int Depth { get; set; }

        private SendBatcher? _batcher;

        // Items the pipeline streams are sent in batches (Hosting/SendBatcher: a lone item goes at once, order is kept).
        protected override void ProcessRecord()
        {
            if (_batcher is null && Channel is IBatchChannel batches && MyInvocation.ExpectingInput)
                _batcher = new SendBatcher(batches, Priority, Depth > 0 ? Depth : (int?)null, NoWait ? TimeSpan.Zero : Timeout, StopToken, SendOne);
            try
            {
                if (_batcher is null) SendOne(InputObject);
                else _batcher.Add(InputObject);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e) { ThrowIpcError(e, Channel); }   // a batch's: nothing more can be sent
        }

        protected override void EndProcessing()
        {
            try { _batcher?.Flush(); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e) { ThrowIpcError(e, Channel); }
        }

        protected override void OnDispose() => _batcher?.Dispose();

        private void SendOne(object? message)
        {
            bool sent;
            try { sent = Channel.TrySend(message, Priority, Depth > 0 ? Depth : (int?)null, NoWait ? TimeSpan.Zero : Timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e)
            {
                ThrowIpcError(e, Channel);   // nothing more can be sent
                return;
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is InvalidOperationException)
            {
                WriteIpcError(e, message);
                return;
            }
            if (sent) return;
            if (Channel is IpcConnection)
                WriteError(new ErrorRecord(new TimeoutException($"The pipe '{Channel.Name}' had no room for the message within the timeout."),
                    ErrorRecords.IpcTimeout, ErrorCategory.OperationTimeout, message));
            else WriteIpcError(new QueueFullException(Channel.Name), message);
        }
    }
}
