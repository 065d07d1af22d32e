using System.Globalization;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>The fields IpcPs reads from /proc/PID/stat and /proc/PID/status (proc(5)). Pure text parsing.</summary>
    internal static class ProcStat
    {
        /// <summary>
        /// Parses "PID (COMM) STATE PPID …": STATE (field 3), the number of threads (field 20) and the start time in
        /// clock ticks since boot (field 22). COMM may hold spaces and ')', so fields are counted from the last ')'.
        /// False for text that is not such a line.
        /// </summary>
        public static bool TryParse(string text, out char state, out int threads, out long start)
        {
            state = '\0';
            threads = 0;
            start = 0;
            int close = text.LastIndexOf(')');
            if (close < 0 || close + 2 >= text.Length) return false;
            string[] f = text.Substring(close + 2).Split(' ');
            if (f.Length < 20 || f[0].Length != 1) return false;
            state = f[0][0];
            return int.TryParse(f[17], NumberStyles.None, CultureInfo.InvariantCulture, out threads)
                && long.TryParse(f[19], NumberStyles.None, CultureInfo.InvariantCulture, out start);
        }

        /// <summary>
        /// As <see cref="TryParse"/>, with the parent's pid (field 4: the parent process, a thread group id) and the
        /// session id (field 6) instead of the threads.
        /// </summary>
        public static bool TryParseTree(string text, out char state, out int parent, out int session, out long start)
        {
            parent = session = 0;
            if (!TryParse(text, out state, out _, out start)) return false;
            string[] f = text.Substring(text.LastIndexOf(')') + 2).Split(' ');
            return int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out parent)
                && int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out session);
        }

        /// <summary>The "Tgid:" line of /proc/PID/status: the process a task id belongs to (equal to the id for a process).</summary>
        public static bool TryParseTgid(string status, out int tgid)
        {
            tgid = 0;
            foreach (string line in status.Split('\n'))
            {
                if (!line.StartsWith("Tgid:", System.StringComparison.Ordinal)) continue;
                return int.TryParse(line.Substring(5).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out tgid);
            }
            return false;
        }
    }
}
