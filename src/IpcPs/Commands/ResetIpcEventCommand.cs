using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Clears events (CPython's clear()).</summary>
    [Cmdlet(VerbsCommon.Reset, "IpcEvent")]
    [OutputType(typeof(IpcEvent))]
    public sealed class ResetIpcEventCommand : IpcCmdlet
    {
        /// <summary>The events to clear.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcEvent[] Event { get; set; } = null!;

        /// <summary>Output the events.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var e in Event)
                if (TryIpc(e.Clear, e) && PassThru) WriteObject(e);
        }
    }
}
