using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates an event flag shared between processes (CPython's Event).</summary>
    [Cmdlet(VerbsCommon.New, "IpcEvent", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcEvent))]
    public sealed class NewIpcEventCommand : IpcCmdlet
    {
        /// <summary>The event's name; generated when omitted.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>Create it set.</summary>
        [Parameter]
        public SwitchParameter Set { get; set; }

        /// <summary>Open the event if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", "Create event")) return;
            try { WriteObject(IpcEvent.Create(Name, Set, OpenOrCreate)); }
            catch (System.Exception e) when (e is IpcException || e is System.ArgumentException) { ThrowIpcError(e, Name); }
        }
    }
}
