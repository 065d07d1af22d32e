using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A runspace of its own in a child process, with IpcPs imported, in which the user's scripts run through the
    /// PowerShell API. Unlike the pwsh console's own runspace, it hands every stream, progress included, to the
    /// PowerShell instance's collections, as they are written.
    /// </summary>
    internal sealed class ChildRunspace : IDisposable
    {
        /// <summary>The variable that holds the parent's $using: values (see <see cref="UsingVariables"/>).</summary>
        public const string UsingVariable = "__ipcUsing";

        private ChildRunspace(ChildHost host, Runspace runspace)
        {
            Host = host;
            Runspace = runspace;
        }

        public ChildHost Host { get; }
        public Runspace Runspace { get; }

        public static ChildRunspace Open(string? workingDirectory, Hashtable? usingValues)
        {
            var runspace = Open();
            runspace.Configure(workingDirectory, usingValues);
            return runspace;
        }

        /// <summary>The runspace, opened and run once (a warm spare does this before its request arrives).</summary>
        public static ChildRunspace Open()
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { Path.Combine(Path.GetDirectoryName(typeof(ChildRunspace).Assembly.Location)!, "IpcPs.psd1") });
            var host = new ChildHost();
            var runspace = RunspaceFactory.CreateRunspace(host, iss);
            // Each Invoke runs on the caller's thread: by default a runspace starts a thread per Invoke, which costs a
            // pool worker ~1.2 ms an item.
            runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
            runspace.Open();
            return new ChildRunspace(host, runspace);
        }

        /// <summary>
        /// Where the script runs, and the parent's $using: values. The location is set only when it is not that folder
        /// already (a warm spare's runspace is set ahead, see ChildChannel.WarmUp): setting it costs ~3 ms.
        /// </summary>
        public void Configure(string? workingDirectory, Hashtable? usingValues)
        {
            if (!string.IsNullOrEmpty(workingDirectory) && !IsLocation(workingDirectory!))
                Runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(workingDirectory));
            Runspace.SessionStateProxy.SetVariable(UsingVariable, usingValues ?? new Hashtable());
        }

        /// <summary>
        /// Whether the runspace's location is FOLDER, in the file system (compared as the request names it), and FOLDER
        /// still exists: a folder deleted since goes through SetLocation, which reports it as a cold child would.
        /// </summary>
        private bool IsLocation(string folder)
        {
            var here = Runspace.SessionStateProxy.Path.CurrentLocation;
            return here.Provider.Name == "FileSystem" && string.Equals(here.ProviderPath, folder, StringComparison.Ordinal)
                && Directory.Exists(folder);
        }

        /// <summary>Runs an empty statement once, so the first real script finds the pipeline machinery compiled.</summary>
        public void Warm()
        {
            using (var ps = Shell()) ps.AddScript("$null").Invoke();
        }

        /// <summary>A PowerShell instance on this runspace.</summary>
        public PowerShell Shell()
        {
            var ps = PowerShell.Create();
            ps.Runspace = Runspace;
            return ps;
        }

        public void Dispose() => Runspace.Dispose();
    }
}
