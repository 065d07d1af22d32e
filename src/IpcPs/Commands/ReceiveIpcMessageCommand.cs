using System;
using System.Management.Automation;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Receives messages from a queue or a pipe end (by object or by name) and outputs each as one object. Nothing
    /// within -Timeout is the timeout rule's IpcTimeout error (after the messages that did come).
    /// </summary>
    [Cmdlet(VerbsCommunications.Receive, "IpcMessage", DefaultParameterSetName = "Count")]
    [OutputType(typeof(object))]
    public sealed class ReceiveIpcMessageCommand : IpcCmdlet
    {
        private const string CountSet = "Count", AllSet = "All", CountByName = "CountByName", AllByName = "AllByName";

        /// <summary>The queue or pipe end.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = CountSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = AllSet)]
        [Alias("Queue", "Connection")]
        public IMessageChannel Channel { get; set; } = null!;

        /// <summary>The queue's name (a pipe by name is its first end), opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = CountByName)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = AllByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IMessageChannel), "a queue or a pipe")]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = CountByName)]
        [Parameter(ParameterSetName = AllByName)]
        public object? Backend { get; set; }

        /// <summary>How many messages to receive (default 1).</summary>
        [Parameter(ParameterSetName = CountSet)]
        [Parameter(ParameterSetName = CountByName)]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Receive until a queue is empty, or until a pipe's other end closes.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AllSet)]
        [Parameter(Mandatory = true, ParameterSetName = AllByName)]
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
            IMessageChannel channel;
            try { channel = Target(Channel, Name, "a queue or a pipe"); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { ThrowIpcError(e, Name ?? (object)Channel); return; }
            try { Receive(channel); }
            finally { if (!ReferenceEquals(channel, Channel)) CloseNamed(channel); }
        }

        private void Receive(IMessageChannel channel)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            bool isPipe = channel is IpcConnection;
            var batches = All || Count > 1 ? channel as IBatchChannel : null;
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
                        any = channel.TryReceive(wait, StopToken, out var message);
                        if (any) got.Add(message);
                    }
                    else any = batches.TryReceiveMany(All ? batch : Math.Min(batch, Count - received), wait, StopToken, got) > 0;
                    if (!any)
                    {
                        if (!NoWait && !All)
                            WriteTimeout($"No message came from '{channel.Name}' {Within(Timeout)} ({received} of {Count} received).", channel.Name, channel);
                        else if (All && isPipe && !NoWait)
                            WriteTimeout($"The other end of '{channel.Name}' did not close {Within(Timeout)}.", channel.Name, channel);
                        return;
                    }
                }
                catch (OperationCanceledException) { throw new PipelineStoppedException(); }
                catch (ConnectionClosedException e)
                {
                    if (All) return;   // -All on a pipe: the end of the stream ends the output
                    ThrowIpcError(e, channel);
                    return;
                }
                catch (Exception e) when (e is IpcException || e is ObjectDisposedException || e is InvalidOperationException)
                {
                    foreach (var message in got) WriteObject(message);   // a batch's messages before a damaged one
                    // The damaged message took one receive; the ones the handle keeps after it go out before its error.
                    if (channel is IKeepingChannel keeping) WriteKept(keeping, channel, All ? int.MaxValue : Count - received - got.Count - 1);
                    ThrowIpcError(e, channel);
                    return;
                }
                foreach (var message in got) WriteObject(message);
                received += got.Count;
            }
        }

        /// <summary>
        /// Outputs up to MOST messages that the handle keeps (taken by this command's batch after a damaged message; see
        /// KeptMessages) before the command reports the damaged one: they are out of the queue or pipe, and a handle
        /// opened by -Name is closed after the command. They are never more than -Count still wants. A further damaged
        /// one among them is a non-terminating error in its place; only the first ends the command.
        /// </summary>
        private void WriteKept(IKeepingChannel keeping, IMessageChannel channel, int most)
        {
            for (int i = 0; i < most; i++)
            {
                object? message;
                try
                {
                    if (!keeping.TryReceiveKept(out message)) return;
                }
                catch (Exception e) when (e is IpcException || e is ObjectDisposedException || e is InvalidOperationException)
                {
                    WriteIpcError(e, channel);
                    continue;
                }
                WriteObject(message);
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
