using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Sets events: every waiter, in every process, wakes.</summary>
    [Cmdlet(VerbsCommon.Set, "IpcEvent", DefaultParameterSetName = "ByObject")]
    [OutputType(typeof(IIpcEvent))]
    public sealed class SetIpcEventCommand : ChangeIpcEventCmdlet
    {
        protected override void Change(IIpcEvent e) => e.Set();
    }
}
