using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>Deadlines far away: what every wait computes its sleeps from (a review found both overflows).</summary>
    public class DeadlineTests
    {
        [Fact]
        public void A_deadline_months_away_has_time_left()
        {
            // 200 days: ticks × 1000 overflowed past ~107 days at 10⁹ ticks a second, and read as nothing left.
            var far = Deadline.After(TimeSpan.FromDays(200));
            Assert.False(far.HasPassed);
            Assert.Equal(int.MaxValue, far.RemainingMilliseconds());
            Assert.Equal(5000, far.RemainingMilliseconds(5000));
            var years = Deadline.AfterSeconds(9e8);   // ~28 years, the longest a Python-style timeout keeps
            Assert.Equal(int.MaxValue, years.RemainingMilliseconds());
        }

        [Fact]
        public void The_longest_TimeSpan_is_no_limit()
        {
            // Its ticks at the Stopwatch's frequency overflowed a long: a deadline in the past, a wait that gave up at once.
            Assert.True(Deadline.After(TimeSpan.MaxValue).IsInfinite);
            Assert.True(Deadline.After(TimeSpan.FromSeconds(2e9)).IsInfinite);
            Assert.False(Deadline.After(TimeSpan.FromSeconds(1e9)).IsInfinite);
        }

        [Fact]
        public void A_near_deadline_rounds_its_milliseconds_up_and_ends_at_zero()
        {
            var soon = Deadline.After(TimeSpan.FromMilliseconds(1500));
            int left = soon.RemainingMilliseconds();
            Assert.InRange(left, 1, 1500);
            var past = Deadline.After(TimeSpan.Zero);
            SpinWait.SpinUntil(() => past.HasPassed);
            Assert.Equal(0, past.RemainingMilliseconds());
        }
    }
}
