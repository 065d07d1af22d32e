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
    /// every 50 ms that its parent is still there and has not ended it, and exits (code 129, through Environment.Exit:
    /// the runtime removes its files, its debugger pipes and diagnostics socket in the temp folder) if not. The parent
    /// ends a spare by closing its stdin (<see cref="SpareChildren"/>'s End), so stdin's writing end must still be open
    /// (Linux: poll's POLLHUP; Windows: PeekNamedPipe). And the parent must still be there: Linux, its parent process is
    /// still the one that started it (/proc/self/stat's ppid); Windows, which has no such link, the parent's identity
    /// (pid and start time, so a reused pid is not taken for it) still names a running process. Started on import when
    /// IPCPS_SPARE_PARENT ("pid:start", set by <see cref="SpareChildren"/> only) names the parent, ended once the spare
    /// reads its request.
    /// </summary>
    internal static class SpareWatch
    {
        public const string ParentVariable = "IPCPS_SPARE_PARENT";

        private static volatile bool _connected;

        /// <summary>From now on stdin's end is watched instead (see <see cref="ChildChannel.Connect"/>).</summary>
        public static void Connected() => _connected = true;

        /// <summary>Whether this process was started as a warm spare (it had IPCPS_SPARE_PARENT when it imported the module).</summary>
        public static bool IsSpare { get; private set; }

        /// <summary>The value of <see cref="ParentVariable"/> for a spare of this process (Linux watches the pid only: "pid:0").</summary>
        public static string ParentValue() => Platforms.Current.IsWindows
            ? ProcessIdentity.Current.ToString()
            : new ProcessIdentity(System.Diagnostics.Process.GetCurrentProcess().Id, 0).ToString();

        public static void StartIfSpare()
        {
            string? text = Environment.GetEnvironmentVariable(ParentVariable);
            if (string.IsNullOrEmpty(text)) return;
            IsSpare = true;
            Environment.SetEnvironmentVariable(ParentVariable, null);   // not for this process's own children
            if (!ProcessIdentity.TryParse(text!, out var parent)) return;
            if (Platforms.Current.IsWindows) _ended = () => StandardInput.Closed() || parent.IsGone;
            else
            {
                bool child = ParentPid() == parent.Pid;   // false: gone already (stdin is closed then), or not our parent
                _ended = () => StandardInput.Closed() || (child && ParentPid() != parent.Pid);
            }
            ExitIfEnded();   // ended while it loaded: before anything else runs (a readied folder, the warm-up)
            new Thread(() =>
            {
                while (!_connected)
                {
                    ExitIfEnded();
                    Thread.Sleep(50);
                }
            }) { IsBackground = true, Name = "IpcPs spare parent watcher" }.Start();
        }

        private static Func<bool>? _ended;

        /// <summary>Exits (code 129) if this spare's parent has gone or, on Windows, has ended it; nothing in a cold child.</summary>
        internal static void ExitIfEnded()
        {
            // _connected again after the check: a check begun before the spare read its request may end after it
            // (a peek at a synchronous stdin waits behind the main thread's read), and a taken spare is a user's child.
            if (!_connected && _ended != null && _ended() && !_connected) Environment.Exit(ChildChannel.ParentGoneExitCode);
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
