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
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { Path.Combine(Path.GetDirectoryName(typeof(ChildRunspace).Assembly.Location)!, "IpcPs.psd1") });
            var host = new ChildHost();
            var runspace = RunspaceFactory.CreateRunspace(host, iss);
            // Each Invoke runs on the caller's thread: by default a runspace starts a thread per Invoke, which costs a
            // pool worker ~1.2 ms an item.
            runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
            runspace.Open();
            if (!string.IsNullOrEmpty(workingDirectory))
                runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(workingDirectory));
            runspace.SessionStateProxy.SetVariable(UsingVariable, usingValues ?? new Hashtable());
            return new ChildRunspace(host, runspace);
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
