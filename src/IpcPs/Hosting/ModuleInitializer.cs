using System;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On import: makes PowerShell Core's host (barrier actions, PSObject wrappers, the codec's fallback, the pipeline
    /// interrupt), makes SIGTERM detach this process from every object it holds before it ends — pwsh ends on SIGTERM
    /// without running the runtime's exit handlers, which would otherwise leave its objects orphaned — and makes the
    /// module importable by name in this process's other runspaces.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static int _registered;

        public void OnImport()
        {
            Core.IpcHost.Current = new PowerShellHost();
            SpareChildren.Imported();   // after a Remove-Module: spares may start again
            if (System.Threading.Interlocked.Exchange(ref _registered, 1) == 0)
            {
                Core.Platform.TerminationSignal.Add(Core.Lifecycle.ObjectLifecycle.DetachAll);
                SpareWatch.StartIfSpare();
                MakeImportableByName();
            }
        }

        /// <summary>
        /// Remove-Module: the warm spares end (they would load a module this session no longer uses), and none starts
        /// until the next import, not even a replacement already scheduled.
        /// </summary>
        public void OnRemove(PSModuleInfo module) => SpareChildren.Removed();

        /// <summary>
        /// ForEach-Object -Parallel, Start-ThreadJob and Start-Job start runspaces (or processes) that find modules
        /// through $env:PSModulePath only: a session that imported IpcPs by path left them unable to import it by name
        /// or to load its cmdlets on first use. The folder that holds this module's folder is put first in this
        /// process's PSModulePath (only this process and its children see it; nothing is written anywhere), so they
        /// get this very copy. Only when the folder is named as the module (IpcPs, or IpcPs/VERSION), which import by
        /// name requires.
        /// </summary>
        private static void MakeImportableByName()
        {
            try
            {
                string? folder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location);
                if (string.IsNullOrEmpty(folder)) return;
                if (Version.TryParse(Path.GetFileName(folder), out _)) folder = Path.GetDirectoryName(folder);
                if (folder is null || !string.Equals(Path.GetFileName(folder), "IpcPs", StringComparison.OrdinalIgnoreCase)) return;
                if (!File.Exists(Path.Combine(folder, "IpcPs.psd1")) && !Directory.EnumerateFiles(folder, "IpcPs.psd1", SearchOption.AllDirectories).Any()) return;
                string root = Path.GetDirectoryName(folder)!;
                string current = Environment.GetEnvironmentVariable("PSModulePath") ?? "";
                var entries = current.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries);
                if (entries.Any(e => string.Equals(Path.GetFullPath(e).TrimEnd(Path.DirectorySeparatorChar), root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))) return;
                Environment.SetEnvironmentVariable("PSModulePath", root + Path.PathSeparator + current);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException || e is System.Security.SecurityException)
            {
                /* import by name elsewhere stays as it was */
            }
        }
    }
}
