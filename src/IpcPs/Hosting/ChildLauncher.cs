using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Starts a child pwsh the way the current one was started: the pwsh executable itself, or, under a .NET tool,
    /// "dotnet …/pwsh.dll". The child runs <see cref="Bootstrap"/>, which imports this very module and hands the
    /// request to <see cref="ChildChannel"/>.
    /// </summary>
    internal static class ChildLauncher
    {
        /// <summary>The child's script: the user's script runs in a runspace of its own (<see cref="ChildChannel.Run"/>).</summary>
        private const string Bootstrap = @"
$ErrorActionPreference = 'Stop'
Import-Module -Name '{0}'
[System.Environment]::Exit({1})
";

        /// <summary>
        /// The entry point of a Start-IpcProcess child: one static call, bound by PowerShell before the child is ready
        /// (a second member call on its result, ".Run()", was bound after the request came: ~2 ms of a warm start).
        /// </summary>
        public const string JobEntry = "[IpcPs.Hosting.ChildChannel]::Serve()";

        private static readonly System.Collections.Generic.List<Process> Started = new System.Collections.Generic.List<Process>();

        /// <summary>
        /// Starts INFO (a child pwsh of IpcPs: a job's, a spare, a pool worker, a manager) and notes it among this
        /// process's own children (<see cref="RunningChildren"/>). WHAT names it for messages. Every failure to start it is
        /// an <see cref="IpcPlatformException"/> with the errno: no descriptor left for its pipes (EMFILE, ENFILE), no
        /// process (EAGAIN: RLIMIT_NPROC reached, or the system's limit), no memory (ENOMEM), an executable or folder
        /// that cannot be used (ENOENT, EACCES). What was opened is closed, and nothing started. On Windows the child
        /// inherits its three pipe ends and nothing else of this process, and OUTLIVES (a -Detached child, a detached
        /// manager) leaves this session's job object (<see cref="Core.Platform.Windows.WindowsChildStart"/>: an
        /// <see cref="IpcNotSupportedException"/> where the job would end it and does not let it leave).
        /// </summary>
        public static Process Start(ProcessStartInfo info, string what, bool outlives = false)
        {
            Process process;
            try
            {
                bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
                // Process.Start cannot ask to leave the session's job: the same refusal where the job would end the child.
                if (windows && outlives && !WindowsChildProcess.Available && Core.Platform.Windows.WindowsChildStart.DetachedWouldEndWithJob(out string reason))
                    throw new IpcNotSupportedException($"The {what} cannot be started detached: {reason}.");
                process = windows && WindowsChildProcess.Available
                    ? WindowsChildProcess.Start(info, outlives, what)
                    : Process.Start(info) ?? throw new InvalidOperationException($"The {what} did not start.");
            }
            catch (System.ComponentModel.Win32Exception e)   // NativeErrorCode: errno on Unix, the Win32 error on Windows
            {
                throw new IpcPlatformException($"Starting the {what}", e.NativeErrorCode, null, e);
            }
            lock (Started)
            {
                Started.RemoveAll(HasEnded);   // the list holds the children that run, not every one ever started
                Started.Add(process);
            }
            return process;
        }

        /// <summary>Whether this process runs in a Windows job object (whose spares cannot leave it: a detached start is cold).</summary>
        public static bool InJob() => RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && Core.Platform.Windows.WindowsChildStart.InJob();

        /// <summary>
        /// The ids of this process's IpcPs children that have not ended. Each ends by itself, with what it started, once
        /// this process has gone (it watches its stdin; a detached one stays). Its id is its own as long as it has not
        /// been reaped, which is what "not ended" says here.
        /// </summary>
        public static System.Collections.Generic.HashSet<int> RunningChildren()
        {
            lock (Started)
            {
                Started.RemoveAll(HasEnded);
                var pids = new System.Collections.Generic.HashSet<int>();
                foreach (var p in Started) pids.Add(p.Id);
                return pids;
            }
        }

        private static bool HasEnded(Process p)
        {
            try { return p.HasExited; }
            catch (Exception) { return true; }   // disposed: its owner is done with it
        }

        /// <summary>A child pwsh that imports the module and exits with what ENTRY (a PowerShell expression) returns.</summary>
        public static ProcessStartInfo StartInfo(string modulePath, string workingDirectory, string entry = JobEntry, bool outOfTree = false)
        {
            var (exe, prefix) = PwshCommand();
            string script = string.Format(Bootstrap, modulePath.Replace("'", "''"), entry);
            // OUTOFTREE (a -Detached child): through the platform's launcher (setsid(1) on Linux), so that it is out of
            // this process's tree from its start, not only once it has booted (IProcessTable.OutOfTreeLauncher).
            string? launcher = outOfTree ? Core.Platform.Platforms.Current.Processes.OutOfTreeLauncher : null;
            if (launcher != null)
            {
                prefix = "\"" + exe + "\" " + prefix;
                exe = launcher;
            }
            var info = PwshStartInfo(exe, prefix, script);
            info.WorkingDirectory = workingDirectory;
            return info;
        }

        /// <summary>
        /// EXE, with PREFIX (the arguments that must come first), running SCRIPT as a pwsh with no profile: every standard
        /// stream redirected, its output and error read as UTF-8, no window. What a child and a manager process share.
        /// </summary>
        internal static ProcessStartInfo PwshStartInfo(string exe, string prefix, string script) => new ProcessStartInfo
        {
            FileName = exe,
            Arguments = prefix + "-NoProfile -NonInteractive -NoLogo -OutputFormat Text -EncodedCommand "
                + Convert.ToBase64String(Encoding.Unicode.GetBytes(script)),
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            CreateNoWindow = true,
        };

        /// <summary>The manifest of the IpcPs that CMDLET belongs to: what a child imports.</summary>
        public static string ModuleManifest(System.Management.Automation.PSCmdlet cmdlet) =>
            Path.Combine(cmdlet.MyInvocation.MyCommand.Module?.ModuleBase ?? Path.GetDirectoryName(typeof(IpcObject).Assembly.Location)!, "IpcPs.psd1");

        /// <summary>
        /// Ends PROCESS, a child whose start failed half-way (no descriptor left for a reader's thread, a pipe end not
        /// handed over), never left running unwatched: its stdin is closed, which ends it (booting or not, with its
        /// request or not), and it is reaped as a spare is (<see cref="SpareChildren.EndChild"/>): not killed at once.
        /// </summary>
        internal static void Abandon(Process process)
        {
            int pid;
            try { pid = process.Id; }
            catch (InvalidOperationException) { return; }   // disposed: ended already
            SpareChildren.EndChild(process, pid);
        }

        // Environment.ProcessPath (.NET 6+: readlink of /proc/self/exe, kept) needs no descriptor; MainModule reads
        // /proc/self/maps, and finds nothing when no descriptor is left. Windows PowerShell has only the latter.
        private static readonly System.Reflection.PropertyInfo? ProcessPathProperty = typeof(Environment).GetProperty("ProcessPath");

        /// <summary>The executable, and the arguments that must come first (the quoted pwsh.dll under dotnet).</summary>
        internal static (string Exe, string Prefix) PwshCommand()
        {
            string exe = ProcessPathProperty?.GetValue(null) as string ?? Process.GetCurrentProcess().MainModule?.FileName
                ?? throw new InvalidOperationException("Cannot tell which executable runs this PowerShell.");
            string file = Path.GetFileNameWithoutExtension(exe);
            if (!file.Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return (exe, "");
            string dll = Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("PowerShell runs under dotnet, but its pwsh.dll cannot be found.");
            return (exe, "\"" + dll + "\" ");
        }
    }
}
