using System;
using System.Diagnostics;
using System.IO;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>Process liveness from /proc/PID/stat: alive when the file exists, the state is not zombie/dead and the start time matches.</summary>
    internal sealed class LinuxProcesses : IProcessTable
    {
        private readonly Lazy<ProcessIdentity> _current;

        public LinuxProcesses() =>
            _current = new Lazy<ProcessIdentity>(() => Find(Process.GetCurrentProcess().Id) ?? throw new InvalidOperationException("/proc is not readable."));

        public ProcessIdentity Current => _current.Value;

        public bool IsAlive(ProcessIdentity process) => Find(process.Pid) is ProcessIdentity now && now.Start == process.Start;

        public ProcessIdentity? Find(int pid)
        {
            string text;
            try { text = File.ReadAllText("/proc/" + pid + "/stat"); }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
            // "PID (COMM) STATE PPID ..." — COMM may hold spaces and ')', so fields are counted from the last ')'.
            int close = text.LastIndexOf(')');
            if (close < 0) return null;
            string[] f = text.Substring(close + 2).Split(' ');
            if (f.Length < 20 || f[0] == "Z" || f[0] == "X") return null;
            return long.TryParse(f[19], out long start) ? new ProcessIdentity(pid, start) : (ProcessIdentity?)null;
        }
    }
}
