using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Lets every -Timeout take seconds (any number, fractions allowed) or a [TimeSpan]. A negative number or
    /// [double]::PositiveInfinity means "wait forever", as Python's None.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class IpcTimeoutTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject pso ? pso.BaseObject : inputData;
            switch (value)
            {
                case TimeSpan ts: return FromTimeSpan(ts);
                case string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var parsed) && s.Contains(":"): return FromTimeSpan(parsed);
                case null: throw new ArgumentTransformationMetadataException("A timeout cannot be null.");
            }
            double seconds;
            try { seconds = Convert.ToDouble(value, CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is FormatException || e is InvalidCastException || e is OverflowException)
            {
                throw new ArgumentTransformationMetadataException($"'{value}' is not a timeout: give seconds (a number) or a [TimeSpan].", e);
            }
            return FromSeconds(seconds);
        }

        /// <summary>A [TimeSpan] as a timeout: negative, or as long as the longest a wait can take (~24.8 days: [TimeSpan]::MaxValue), is forever, as for seconds.</summary>
        private static TimeSpan FromTimeSpan(TimeSpan ts) =>
            ts < TimeSpan.Zero || ts.TotalSeconds >= int.MaxValue / 1000.0 ? Timeout.InfiniteTimeSpan : ts;

        internal static TimeSpan FromSeconds(double seconds)
        {
            if (double.IsNaN(seconds)) throw new ArgumentTransformationMetadataException("A timeout cannot be NaN.");
            if (seconds < 0 || double.IsPositiveInfinity(seconds) || seconds >= int.MaxValue / 1000.0) return Timeout.InfiniteTimeSpan;
            return TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }
    }
}
