using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a condition variable shared between processes, over a lock (a new RLock when none is given).</summary>
    [Cmdlet(VerbsCommon.New, "IpcCondition", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcCondition))]
    public sealed class NewIpcConditionCommand : IpcCmdlet
    {
        /// <summary>The condition's name; generated when omitted.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>The Lock or RLock to use; a new RLock named NAME.lock when omitted.</summary>
        [Parameter]
        public IpcLock? Lock { get; set; }

        /// <summary>Open the condition if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", "Create condition")) return;
            try { WriteObject(IpcCondition.Create(Name, Lock, OpenOrCreate)); }
            catch (System.Exception e) when (e is IpcException || e is System.ArgumentException) { ThrowIpcError(e, Name); }
        }
    }
}
