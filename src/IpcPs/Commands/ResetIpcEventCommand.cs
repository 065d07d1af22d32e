using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Clears events (CPython's clear()).</summary>
    [Cmdlet(VerbsCommon.Reset, "IpcEvent", DefaultParameterSetName = "ByObject")]
    [OutputType(typeof(IIpcEvent))]
    public sealed class ResetIpcEventCommand : ChangeIpcEventCmdlet
    {
        protected override void Change(IIpcEvent e) => e.Clear();
    }
}
