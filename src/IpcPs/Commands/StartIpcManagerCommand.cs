using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Starts a manager: a pwsh process that owns shared objects (dicts, lists, namespaces, queues, locks, custom
    /// types) and serves them to any number of clients over a Unix socket (default) or TCP, each connection
    /// authenticated with the auth key. Outputs the <see cref="IpcManager"/>; Stop-IpcManager shuts it down.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "IpcManager")]
    [OutputType(typeof(IpcManager))]
    public sealed class StartIpcManagerCommand : ManagerStartCmdlet
    {
        protected override void EndProcessing() => WriteObject(StartManager());
    }
}
