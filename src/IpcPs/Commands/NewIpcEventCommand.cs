using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates an event flag shared between processes (CPython's Event).</summary>
    [Cmdlet(VerbsCommon.New, "IpcEvent", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcEvent))]
    public sealed class NewIpcEventCommand : NewBackendObjectCmdlet
    {
        /// <summary>Create it set.</summary>
        [Parameter]
        public SwitchParameter Set { get; set; }

        /// <summary>Open the event if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override IpcObjectKind BackendKind => IpcObjectKind.Event;

        protected override IpcBackendOptions BackendOptions() => new IpcBackendOptions { OpenOrCreate = OpenOrCreate, InitiallySet = Set };

        protected override string Description => "Create event";

        protected override IpcObject Create() => IpcEvent.Create(Name, Set, OpenOrCreate);
    }
}
