using System;
using System.IO;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A warm spare's watch over its parent while it boots: stdin's end tells a spare its parent has gone only once the
    /// spare reads stdin (<see cref="ChildChannel.Connect"/>), seconds after it started; until then this thread checks
    /// every 50 ms that its parent is still there and exits (code 129) if not. Linux: its parent process is still the
    /// one that started it (/proc/self/stat's ppid). Windows, which has no such link: the parent's identity (pid and
    /// start time, so a reused pid is not taken for it) still names a running process. Started on import when
    /// IPCPS_SPARE_PARENT ("pid:start", set by <see cref="SpareChildren"/> only) names the parent, ended once the spare
    /// reads its request. On Windows a spare is never terminated from outside (<see cref="SpareChildren"/>'s End): this
    /// is how one still booting ends soon after its session, rather than once booted.
    /// </summary>
    internal static class SpareWatch
    {
        public const string ParentVariable = "IPCPS_SPARE_PARENT";

        private static volatile bool _connected;

        /// <summary>From now on stdin's end is watched instead (see <see cref="ChildChannel.Connect"/>).</summary>
        public static void Connected() => _connected = true;

        /// <summary>Whether this process was started as a warm spare (it had IPCPS_SPARE_PARENT when it imported the module).</summary>
        public static bool IsSpare { get; private set; }

        /// <summary>The value of <see cref="ParentVariable"/> for a spare of this process.</summary>
        public static string ParentValue() => ProcessIdentity.Current.ToString();

        public static void StartIfSpare()
        {
            string? text = Environment.GetEnvironmentVariable(ParentVariable);
            if (string.IsNullOrEmpty(text)) return;
            IsSpare = true;
            Environment.SetEnvironmentVariable(ParentVariable, null);   // not for this process's own children
            if (!ProcessIdentity.TryParse(text!, out var parent)) return;
            Func<bool> gone;
            if (Platforms.Current.IsWindows) gone = () => parent.IsGone;
            else if (ParentPid() == parent.Pid) gone = () => ParentPid() != parent.Pid;
            else return;   // gone already, or not our parent: stdin's end will tell
            new Thread(() =>
            {
                while (!_connected)
                {
                    if (gone()) Environment.Exit(ChildChannel.ParentGoneExitCode);
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
