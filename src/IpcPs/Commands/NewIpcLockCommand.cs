using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a lock shared between processes (CPython's Lock; RLock with -Recursive).</summary>
    [Cmdlet(VerbsCommon.New, "IpcLock", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcLock))]
    public sealed class NewIpcLockCommand : NewIpcObjectCmdlet
    {
        /// <summary>A recursive lock (RLock): the thread holding it may take it again.</summary>
        [Parameter]
        public SwitchParameter Recursive { get; set; }

        /// <summary>Open the lock if the name exists (atomically: of racing callers exactly one creates it).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override string Description => Recursive ? "Create RLock" : "Create Lock";

        protected override IpcObject Create() => IpcLock.Create(Name, Recursive, OpenOrCreate);
    }
}
