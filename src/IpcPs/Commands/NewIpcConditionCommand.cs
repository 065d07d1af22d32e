using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a condition variable shared between processes, over a lock (a new RLock when none is given).</summary>
    [Cmdlet(VerbsCommon.New, "IpcCondition", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcCondition))]
    public sealed class NewIpcConditionCommand : NewIpcObjectCmdlet
    {
        /// <summary>The Lock or RLock to use; a new RLock named NAME.lock when omitted.</summary>
        [Parameter]
        public IpcLock? Lock { get; set; }

        /// <summary>Open the condition if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override string Description => "Create condition";

        protected override IpcObject Create() => IpcCondition.Create(Name, Lock, OpenOrCreate);
    }
}
