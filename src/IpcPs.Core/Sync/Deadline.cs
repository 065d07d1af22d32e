using System;
using System.Diagnostics;
using System.Threading;

namespace IpcPs.Core.Sync
{
    /// <summary>A point in monotonic time to stop waiting at; <see cref="Infinite"/> never comes.</summary>
    internal readonly struct Deadline
    {
        private readonly long _ticks;   // Stopwatch ticks; long.MaxValue = never

        private Deadline(long ticks) => _ticks = ticks;

        public static Deadline Infinite => new Deadline(long.MaxValue);

        /// <summary>
        /// From a TimeSpan: negative (Timeout.InfiniteTimeSpan) means no limit, as .NET and the cmdlets' -Timeout; beyond
        /// 10⁹ seconds (TimeSpan.MaxValue) too, as <see cref="AfterSeconds"/>: its ticks would overflow.
        /// </summary>
        public static Deadline After(TimeSpan timeout) =>
            timeout < TimeSpan.Zero || timeout == Timeout.InfiniteTimeSpan || timeout.TotalSeconds > 1e9
                ? Infinite
                : new Deadline(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency));

        /// <summary>From a Python method timeout in seconds: +∞ means no limit, a negative one is 0 (CPython acquire/wait).</summary>
        public static Deadline AfterSeconds(double seconds) =>
            double.IsNaN(seconds) ? throw new ArgumentException("A timeout cannot be NaN.")
            : double.IsPositiveInfinity(seconds) || seconds > 1e9 ? Infinite
            : new Deadline(Stopwatch.GetTimestamp() + (long)(Math.Max(seconds, 0) * Stopwatch.Frequency));

        public bool IsInfinite => _ticks == long.MaxValue;

        /// <summary>The earlier of this deadline and OTHER.</summary>
        public Deadline Min(Deadline other) => _ticks <= other._ticks ? this : other;

        public bool HasPassed => !IsInfinite && Stopwatch.GetTimestamp() >= _ticks;

        /// <summary>Milliseconds left, capped at CAP (for liveness checks); -1 when infinite and no cap.</summary>
        public int RemainingMilliseconds(int cap = -1)
        {
            if (IsInfinite) return cap;
            // Rounded up; whole seconds first, so that a deadline months away does not overflow (ticks × 1000 did past
            // ~107 days at 10⁹ ticks a second, and read as 0 left).
            long ticks = _ticks - Stopwatch.GetTimestamp(), f = Stopwatch.Frequency;
            long left = ticks <= 0 ? 0 : ticks / f * 1000 + ((ticks % f) * 1000 + f - 1) / f;
            if (cap >= 0 && left > cap) left = cap;
            return (int)Math.Min(left, int.MaxValue);
        }
    }
}
