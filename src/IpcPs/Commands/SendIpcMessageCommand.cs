using System;
using System.Management.Automation;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Sends each input object as one message to a queue or a pipe end (by object or by name). No room within
    /// -Timeout is the timeout rule's IpcTimeout error for that message; with -NoWait, a full queue is QueueFull.
    /// </summary>
    [Cmdlet(VerbsCommunications.Send, "IpcMessage", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(void))]
    public sealed class SendIpcMessageCommand : IpcCmdlet
    {
        private const string ByObject = "ByObject";
        private IMessageChannel? _channel;

        /// <summary>The queue or pipe end.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByObject)]
        [Alias("Queue", "Connection")]
        public IMessageChannel Channel { get; set; } = null!;

        /// <summary>The queue's name (a pipe by name is its first end), opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IMessageChannel), "a queue or a pipe")]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>The message. From the pipeline, each item is one message; given as an argument, an array is one message.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = ByObject)]
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = ByName)]
        [AllowNull, AllowEmptyString, AllowEmptyCollection]
        public object? InputObject { get; set; }

        /// <summary>A priority queue's priority: lower numbers come out first. On a priority queue, also taken from a piped object's Priority property.</summary>
        // Not ValueFromPipelineByPropertyName: the binder's lookup cost ~1 us for every piped item, more than sending
        // it, and bound the property on any channel, where a priority is an error; PipedPriority reads the property as
        // the binder would, only on a channel that takes a priority and only when -Priority was not given.
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
        private bool _priorityFromInput;

        protected override void BeginProcessing()
        {
            try { _channel = Target(Channel, Name, "a queue or a pipe"); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { ThrowIpcError(e, Name ?? (object)Channel); }
            // Elsewhere a Priority property is the message's own data: an object that has one goes to a FIFO queue as any other.
            _priorityFromInput = MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(Priority)) && _channel!.TakesPriority;
        }

        // Items the pipeline streams are sent in batches (Hosting/SendBatcher: a lone item goes at once, order is kept;
        // a batch holds items of one priority).
        protected override void ProcessRecord()
        {
            var channel = _channel!;
            if (_batcher is null && channel is IEncodedBatchChannel batches && MyInvocation.ExpectingInput)
                _batcher = new SendBatcher(batches, Depth > 0 ? Depth : (int?)null, NoWait ? TimeSpan.Zero : Timeout, StopToken, SendOne, () => Stopping);
            long? priority = _priorityFromInput ? PipedPriority(InputObject) : Priority;
            try
            {
                if (_batcher is null) SendOne(InputObject, priority, null);
                else _batcher.Add(InputObject, priority);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e) { ThrowIpcError(e, channel); }   // a batch's: nothing more can be sent
        }

        /// <summary>
        /// What ValueFromPipelineByPropertyName would bind to -Priority for ITEM: its Priority property (any case; a note
        /// property on a number too), converted as the binder converts ('7' → 7, 2.6 → 3); none when there is no such
        /// property, its getter fails or its value does not convert (the binder then leaves -Priority unbound, silently).
        /// </summary>
        private static long? PipedPriority(object? item)
        {
            if (item is null) return null;
            var property = PSObject.AsPSObject(item).Properties["Priority"];
            if (property is null) return null;
            try { return (long?)LanguagePrimitives.ConvertTo(property.Value, typeof(long?), System.Globalization.CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is PSInvalidCastException || e is GetValueException || e is ExtendedTypeSystemException) { return null; }
        }

        protected override void EndProcessing()
        {
            try { _batcher?.Flush(); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e) { ThrowIpcError(e, _channel); }
        }

        // Without EndProcessing (the command before failed; break, continue or exit) what is held is sent here, quietly
        // (SendBatcher.Dispose); a stopped pipeline drops it.
        protected override void OnDispose() => _batcher?.Dispose();

        /// <summary>
        /// One message, with its errors. ENCODED: the message as the batcher encoded it when it was handed over (what is
        /// sent then; MESSAGE only names it in an error); null: MESSAGE, encoded now.
        /// </summary>
        private void SendOne(object? message, long? priority, MessageBatch? encoded)
        {
            var channel = _channel!;
            var timeout = NoWait ? TimeSpan.Zero : Timeout;
            bool sent;
            try
            {
                sent = encoded is null
                    ? channel.TrySend(message, priority, Depth > 0 ? Depth : (int?)null, timeout, StopToken)
                    : ((IEncodedBatchChannel)channel).TrySendEncoded(encoded, priority, timeout, StopToken) > 0;
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (ConnectionClosedException e)
            {
                ThrowIpcError(e, channel);   // nothing more can be sent
                return;
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is InvalidOperationException)
            {
                WriteIpcError(e, message);
                return;
            }
            if (sent) return;
            string what = channel is IpcConnection ? $"The pipe '{channel.Name}'" : $"The queue '{channel.Name}'";
            if (NoWait) WriteIpcError(new QueueFullException(channel.Name), message);
            else WriteTimeout($"{what} had no room for the message {Within(Timeout)}.", channel.Name, message);
        }
    }
}
