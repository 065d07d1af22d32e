using System;
using System.Diagnostics;
using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The event's one word (docs/design.md, the Event row): generation &lt;&lt; 1 | flag. Set bumps the generation with the
    /// flag, Clear keeps the generation, so a waiter sleeping on the word is woken by any Set, a set-then-clear pulse too.
    /// </summary>
    public sealed class ProtocolEventTests
    {
        private static readonly int State = Layout.Const<IpcEvent>("StateWord"), Sleepers = Layout.Const<IpcEvent>("Sleepers");

        [Fact]
        public void SetBumpsTheGenerationWithTheFlagAndClearKeepsIt()
        {
            using var e = IpcEvent.Create(null);
            try
            {
                using var raw = new RawSegment(e.Name);
                Assert.Equal(0, raw.Int(State));
                e.Set();
                Assert.Equal(1 << 1 | 1, raw.Int(State));
                e.Set();   // already set: nothing moves
                Assert.Equal(1 << 1 | 1, raw.Int(State));
                e.Clear();
                Assert.Equal(1 << 1, raw.Int(State));
                e.Clear();
                Assert.Equal(1 << 1, raw.Int(State));
                e.Set();
                Assert.Equal(2 << 1 | 1, raw.Int(State));
                Assert.True(e.IsSet());
                Assert.True(e.Wait(0));
            }
            finally { e.Unlink(); }
        }

        [Fact]
        public void APulseWakesEveryWaiterInEveryProcess()
        {
            using var e = IpcEvent.Create(null);
            using var a = WorkerProcess.Start(new[] { "protocol" });
            using var b = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(e.Name);
                a.Send($"event-wait {e.Name} inf");
                b.Send($"event-wait {e.Name} inf");
                Eventually.True(() => raw.Int(Sleepers) == 2, "both waiters sleep on the event");
                Assert.Equal(2, e.WaiterCount);
                e.Set();
                e.Clear();
                // Without a wait limit: only a wake-up ends these waits. Each answers the flag as it finds it.
                Assert.Matches("^ok (True|False)$", a.Next(TimeSpan.FromSeconds(15)));
                Assert.Matches("^ok (True|False)$", b.Next(TimeSpan.FromSeconds(15)));
                Assert.Equal(0, raw.Int(Sleepers));
                Assert.False(e.IsSet());
            }
            finally { e.Unlink(); }
        }

        [Fact]
        public void AWaitTimesOutWithFalseAndLeavesNoSleeper()
        {
            using var e = IpcEvent.Create(null);
            try
            {
                var clock = Stopwatch.StartNew();
                Assert.False(e.Wait(0.3));
                Assert.InRange(clock.Elapsed.TotalSeconds, 0.29, 5);
                Assert.False(e.Wait(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(0, e.WaiterCount);
            }
            finally { e.Unlink(); }
        }

        [Fact]
        public void ASetReachesAWaiterInAnotherProcess()
        {
            using var e = IpcEvent.Create(null);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                w.Send($"event-wait {e.Name} 20");
                Eventually.True(() => e.WaiterCount == 1, "the waiter sleeps on the event");
                e.Set();
                Assert.Equal("ok True", w.Next(TimeSpan.FromSeconds(15)));
                // Set stays set: a later wait returns at once.
                Assert.Equal("True", w.Call($"event-wait {e.Name} 0"));
            }
            finally { e.Unlink(); }
        }
    }
}
