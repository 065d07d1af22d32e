using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Shared by Set-IpcEvent and Reset-IpcEvent: apply one change to each event (by object or by name), optionally pass it on.</summary>
    public abstract class ChangeIpcEventCmdlet : IpcCmdlet
    {
        private const string ByObject = "ByObject";

        /// <summary>The events.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public IIpcEvent[] Event { get; set; } = null!;

        /// <summary>Names of the events, each opened for the command.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [NameArgumentTransformation(typeof(IIpcEvent), "an event", ObjectParameterTakesMany = true)]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string[] Name { get; set; } = null!;

        /// <summary>Where -Name is looked up: a backend URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName)]
        public object? Backend { get; set; }

        /// <summary>Output the events.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected abstract void Change(IIpcEvent e);

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByName) foreach (var name in Name) Apply(null, name);
            else foreach (var e in Event) Apply(e, null);
        }

        private void Apply(IIpcEvent? given, string? name)
        {
            IIpcEvent e;
            try { e = Target(given, name, "an event"); }
            catch (Exception ex) when (ex is IpcException || ex is ArgumentException) { WriteIpcError(ex, name ?? (object?)given); return; }
            try
            {
                // By name, the object passed on is described: the handle opened here closes with the command.
                if (TryIpc(() => Change(e), e) && PassThru) WriteObject(given ?? Described(e));
            }
            finally { if (!ReferenceEquals(e, given)) CloseNamed(e); }
        }
    }
}
