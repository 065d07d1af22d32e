using System;
using System.Globalization;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Lifecycle
{
    /// <summary>
    /// A process as the registry records it: its pid and its start time (clock ticks since boot on Linux). The start
    /// time tells a live process from a later one that reused the pid, so a dead holder is never taken for alive.
    /// Text form: "PID:START".
    /// </summary>
    internal readonly struct ProcessIdentity : IEquatable<ProcessIdentity>
    {
        public ProcessIdentity(int pid, long start) { Pid = pid; Start = start; }

        public int Pid { get; }
        public long Start { get; }

        /// <summary>
        /// True only when the process is known to have ended (or its pid now names another process or a thread).
        /// When liveness cannot be told (no descriptor left…) it is not gone: a holder is never dropped on a guess.
        /// </summary>
        public bool IsGone => Platforms.Current.Processes.Check(Pid, Start, -1) == ProcessState.Gone;

        public static ProcessIdentity Current => Platforms.Current.Processes.Current;

        public static bool TryParse(string text, out ProcessIdentity id)
        {
            id = default;
            int colon = text.IndexOf(':');
            if (colon <= 0) return false;
            if (!int.TryParse(text.Substring(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return false;
            if (!long.TryParse(text.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long start)) return false;
            id = new ProcessIdentity(pid, start);
            return true;
        }

        public override string ToString() => Pid.ToString(CultureInfo.InvariantCulture) + ":" + Start.ToString(CultureInfo.InvariantCulture);
        public bool Equals(ProcessIdentity other) => Pid == other.Pid && Start == other.Start;
        public override bool Equals(object? obj) => obj is ProcessIdentity p && Equals(p);
        public override int GetHashCode() => Pid ^ Start.GetHashCode();
    }
}
