using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Clears events (CPython's clear()).</summary>
    [Cmdlet(VerbsCommon.Reset, "IpcEvent")]
    [OutputType(typeof(IpcEvent))]
    public sealed class ResetIpcEventCommand : ChangeIpcEventCmdlet
    {
        protected override void Change(IpcEvent e) => e.Clear();
    }
}
