using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Waits at a barrier (by object or by name) until every party has arrived. Outputs nothing (with -PassThru, this
    /// party's arrival index, 0 to Parties − 1, as CPython's wait() returns). Running out of time is the timeout rule's
    /// IpcTimeout error, and breaks the barrier (the other parties get BrokenBarrier).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "IpcBarrier", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(int))]
    public sealed class WaitIpcBarrierCommand : IpcCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The barrier.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public IIpcBarrier Barrier { get; set; } = null!;

        /// <summary>The barrier's name, opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IIpcBarrier), "a barrier")]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>Seconds or a [TimeSpan]; the barrier's default timeout when omitted. Running out breaks the barrier.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan? Timeout { get; set; }

        /// <summary>Output this party's arrival index (0 to Parties − 1).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            IIpcBarrier b;
            try { b = Target(Barrier, Name, "a barrier"); }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { WriteIpcError(e, Name ?? (object)Barrier); return; }
            int index;
            try { index = b.Wait(Timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (BrokenBarrierException e) when (e.TimedOut)
            {
                string within = Timeout is TimeSpan t ? Within(t) : $"within its default timeout{DefaultTimeout(b)}";
                WriteTimeout($"Not every party reached the barrier '{b.Name}' {within}; the barrier is now broken (Reset() it to use it again).", b.Name, Barrier ?? (object)b.Name);
                return;
            }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException) { ThrowIpcError(e, Barrier ?? (object)b.Name); return; }
            finally { if (!ReferenceEquals(b, Barrier)) CloseNamed(b); }
            if (PassThru) WriteObject(index);
        }

        private static string DefaultTimeout(IIpcBarrier b) =>
            System.Management.Automation.PSObject.AsPSObject(b).Properties["DefaultTimeout"]?.Value is double s ? $" ({s:0.###} s)" : "";
    }
}
