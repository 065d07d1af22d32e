using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Waits until an event is set (by object or by name). Outputs nothing (the event with -PassThru); running out of
    /// time is the timeout rule's IpcTimeout error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcEvent", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(IIpcEvent))]
    public sealed class WaitIpcEventCommand : IpcCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The event.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public IIpcEvent Event { get; set; } = null!;

        /// <summary>The event's name, opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IIpcEvent), "an event")]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>Seconds or a [TimeSpan] to wait at most; forever when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Output the event once it is set.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            IIpcEvent e;
            try { e = Target(Event, Name, "an event"); }
            catch (Exception ex) when (ex is IpcException || ex is ArgumentException) { WriteIpcError(ex, Name ?? (object)Event); return; }
            bool set;
            try { set = e.Wait(Timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception ex) when (ex is IpcException || ex is ObjectDisposedException)
            {
                WriteIpcError(ex, e);
                return;
            }
            finally { if (!ReferenceEquals(e, Event)) CloseNamed(e); }
            if (!set) WriteTimeout($"The event '{e.Name}' was not set {Within(Timeout)}.", e.Name, Event ?? (object)e.Name);
            else if (PassThru) WriteObject(Event ?? Described(e));
        }
    }
}
