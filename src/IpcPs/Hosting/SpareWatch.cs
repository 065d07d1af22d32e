using System;
using System.IO;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A warm spare's watch over its parent while it boots: stdin's end tells a spare its parent has gone only once the
    /// spare reads stdin (<see cref="ChildChannel.Connect"/>), seconds after it started; until then this thread checks
    /// every 50 ms that its parent process is still the one that started it (Linux: /proc/self/stat's ppid) and exits
    /// (code 129) if not. Started on import when IPCPS_SPARE_PARENT names the parent (set by <see cref="SpareChildren"/>
    /// only), ended once the spare reads its request.
    /// </summary>
    internal static class SpareWatch
    {
        public const string ParentVariable = "IPCPS_SPARE_PARENT";

        private static volatile bool _connected;

        /// <summary>From now on stdin's end is watched instead (see <see cref="ChildChannel.Connect"/>).</summary>
        public static void Connected() => _connected = true;

        /// <summary>Whether this process was started as a warm spare (it had IPCPS_SPARE_PARENT when it imported the module).</summary>
        public static bool IsSpare { get; private set; }

        public static void StartIfSpare()
        {
            string? text = Environment.GetEnvironmentVariable(ParentVariable);
            if (string.IsNullOrEmpty(text)) return;
            IsSpare = true;
            Environment.SetEnvironmentVariable(ParentVariable, null);   // not for this process's own children
            if (!int.TryParse(text, out int parent) || ParentPid() != parent) return;
            new Thread(() =>
            {
                while (!_connected)
                {
                    if (ParentPid() != parent) Environment.Exit(ChildChannel.ParentGoneExitCode);
                    Thread.Sleep(50);
                }
            }) { IsBackground = true, Name = "IpcPs spare parent watcher" }.Start();
        }

        /// <summary>The parent's pid from /proc/self/stat (after the command name, which may hold spaces); -1 if unknown.</summary>
        private static int ParentPid()
        {
            try
            {
                string stat = File.ReadAllText("/proc/self/stat");
                int close = stat.LastIndexOf(')');
                var fields = stat.Substring(close + 2).Split(' ');
                return fields.Length > 1 && int.TryParse(fields[1], out int ppid) ? ppid : -1;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return -1; }
        }
    }
}
