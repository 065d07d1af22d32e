using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Barrier rounds and breaking (docs/design.md, the Barrier row): each round gives every party one arrival index and
    /// moves the generation once; a timeout, an abort or a dead party breaks it for every waiter; Reset restores it.
    /// </summary>
    public sealed class ProtocolBarrierTests
    {
        private static readonly int Arrived = Layout.Const<IpcBarrier>("Arrived"), Generation = Layout.Const<IpcBarrier>("Generation"),
            Waiting = Layout.Const<IpcBarrier>("Waiting"), FailedGeneration = Layout.Const<IpcBarrier>("FailedGeneration");

        [Fact]
        public void EveryRoundGivesEachPartyOneIndexAndMovesTheGenerationOnce()
        {
            using var b = IpcBarrier.Create(null, 3);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(b.Name);
                long worker = long.Parse(w.Call("holder"), CultureInfo.InvariantCulture);
                for (int round = 0; round < 3; round++)
                {
                    Assert.Equal(round, raw.Int(Generation));
                    w.Send($"barrier {b.Name} 30");
                    Eventually.True(() => raw.Int(Arrived) == 1, "the worker arrived");
                    Assert.Equal(worker, raw.Long(Waiting));   // the waiting party's process, watched for death
                    var other = Eventually.OnThread(() => b.Wait(30));
                    Eventually.True(() => raw.Int(Arrived) == 2 || other.IsCompleted, "the thread arrived");
                    int mine = b.Wait(30);
                    int theirs = Eventually.Within(other, 30, "the thread's wait");
                    int workers = int.Parse(w.Next(TimeSpan.FromSeconds(15)).Substring(3), CultureInfo.InvariantCulture);
                    Assert.Equal(new[] { 0, 1, 2 }, new[] { mine, theirs, workers }.OrderBy(i => i));
                    Assert.Equal(0, raw.Int(Arrived));
                }
                Assert.Equal(3, raw.Int(Generation));
                Assert.Equal(-1, raw.Int(FailedGeneration));
            }
            finally { b.Unlink(); }
        }

        [Fact]
        public void ATimeoutBreaksTheRoundForEveryPartyUntilReset()
        {
            using var b = IpcBarrier.Create(null, 3);
            try
            {
                var other = Eventually.OnThread(() => b.Wait(30));
                using (var raw = new RawSegment(b.Name)) Eventually.True(() => raw.Int(Arrived) == 1, "the thread arrived");
                var clock = Stopwatch.StartNew();
                Assert.Throws<BrokenBarrierException>(() => b.Wait(0.3));
                Assert.Throws<BrokenBarrierException>(() => Eventually.Within(other, 5, "the other party"));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
                Assert.True(b.Broken);
                Assert.Throws<BrokenBarrierException>(() => b.Wait(1));   // broken until reset
                b.Reset();
                Assert.False(b.Broken);
                var parties = Enumerable.Range(0, 3).Select(_ => Eventually.OnThread(() => b.Wait(30))).ToArray();
                Assert.Equal(new[] { 0, 1, 2 }, parties.Select(p => Eventually.Within(p, 30, "a party")).OrderBy(i => i));
            }
            finally { b.Unlink(); }
        }

        [Fact]
        public void APartyThatDiesWhileWaitingBreaksTheBarrier()
        {
            using var b = IpcBarrier.Create(null, 3);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                w.Send($"barrier {b.Name} 60");
                using (var raw = new RawSegment(b.Name)) Eventually.True(() => raw.Int(Arrived) == 1, "the worker arrived");
                w.Kill();
                var clock = Stopwatch.StartNew();
                // Without the dead party's death being noticed this would wait its whole 30 s.
                Assert.Throws<BrokenBarrierException>(() => b.Wait(30));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"The death was noticed after {clock.Elapsed.TotalSeconds:F1} s.");
                Assert.True(b.Broken);
            }
            finally { b.Unlink(); }
        }
    }
}
