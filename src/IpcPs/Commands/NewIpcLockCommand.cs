using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a lock shared between processes (CPython's Lock; RLock with -Recursive).</summary>
    [Cmdlet(VerbsCommon.New, "IpcLock", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcLock))]
    public sealed class NewIpcLockCommand : IpcCmdlet
    {
        /// <summary>The lock's name; generated when omitted.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>A recursive lock (RLock): the thread holding it may take it again.</summary>
        [Parameter]
        public SwitchParameter Recursive { get; set; }

        /// <summary>Open the lock if the name exists (atomically: of racing callers exactly one creates it).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", Recursive ? "Create RLock" : "Create Lock")) return;
            try { WriteObject(IpcLock.Create(Name, Recursive, OpenOrCreate)); }
            catch (System.Exception e) when (e is IpcException || e is System.ArgumentException) { ThrowIpcError(e, Name); }
        }
    }
}
