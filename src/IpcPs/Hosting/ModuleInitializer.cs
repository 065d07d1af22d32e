using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On import: makes PowerShell Core's host (barrier actions, PSObject wrappers, the codec's fallback), and makes SIGTERM detach this process from
    /// every object it holds before it ends — pwsh ends on SIGTERM without running the runtime's exit handlers, which
    /// would otherwise leave its objects orphaned.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        private static int _registered;

        public void OnImport()
        {
            Core.IpcHost.Current = new PowerShellHost();
            if (System.Threading.Interlocked.Exchange(ref _registered, 1) == 0)
                Core.Platform.TerminationSignal.Add(Core.Lifecycle.ObjectLifecycle.DetachAll);
        }
    }
}
