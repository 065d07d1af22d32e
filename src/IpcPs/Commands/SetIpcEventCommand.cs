using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Sets events: every waiter, in every process, wakes.</summary>
    [Cmdlet(VerbsCommon.Set, "IpcEvent")]
    [OutputType(typeof(IpcEvent))]
    public sealed class SetIpcEventCommand : IpcCmdlet
    {
        /// <summary>The events to set.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcEvent[] Event { get; set; } = null!;

        /// <summary>Output the events.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var e in Event)
                if (TryIpc(e.Set, e) && PassThru) WriteObject(e);
        }
    }
}
