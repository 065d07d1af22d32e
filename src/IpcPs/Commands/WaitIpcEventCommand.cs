using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Waits until an event is set: outputs $true, or $false when the timeout passes first.</summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcEvent")]
    [OutputType(typeof(bool))]
    public sealed class WaitIpcEventCommand : IpcCmdlet
    {
        /// <summary>The event.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcEvent Event { get; set; } = null!;

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        protected override void ProcessRecord()
        {
            bool set;
            try { set = Event.Wait(Timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException)
            {
                ThrowIpcError(e, Event);
                return;
            }
            WriteObject(set);
        }
    }
}
