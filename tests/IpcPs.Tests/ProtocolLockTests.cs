using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The robust lock word across real processes (docs/design.md, "The robust word"): an uncontended acquire is one
    /// word naming the holder, a sleeper sets the waiters bit and is woken by the release, a waiter takes the lock over
    /// only from a holder that is gone (never from a live one), one waiter only is told it was abandoned, mutual
    /// exclusion holds, and any process may release a Lock (CPython).
    /// </summary>
    public sealed class ProtocolLockTests
    {
        private static readonly int Word = Layout.Const<IpcLock>("WordOffset");
        private static readonly TimeSpan Answer = TimeSpan.FromSeconds(15);

        [Fact]
        public void AnUncontendedAcquireIsOneWordNamingThisProcess()
        {
            using var l = IpcLock.Create(null);
            try
            {
                using var raw = new RawSegment(l.Name);
                Assert.Equal(0L, raw.Long(Word));
                Assert.True(l.Acquire());
                Assert.Equal(HolderId.Me, raw.Long(Word));   // no waiters bit: nobody waited
                Assert.Equal(HolderId.MyPid, raw.Int(Word) & (int)HolderId.PidMask);   // the futex half (low 32 bits, first) holds the pid
                Assert.Equal(HolderId.MyPid, l.HolderPid);
                l.Release();
                Assert.Equal(0L, raw.Long(Word));
                Assert.Throws<IpcSyncStateException>(() => l.Release());   // releasing a free lock is an error
                Assert.Equal(LockAcquisition.Acquired, l.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(LockAcquisition.TimedOut, l.TryAcquire(TimeSpan.Zero, CancellationToken.None));   // a Lock is not recursive
                l.Release();
            }
            finally { l.Unlink(); }
        }

        [Fact]
        public void ASleeperSetsTheWaitersBitAndTheReleaseWakesIt()
        {
            using var l = IpcLock.Create(null);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(l.Name);
                long worker = long.Parse(w.Call("holder"), CultureInfo.InvariantCulture);
                l.Acquire();
                w.Send($"acquire {l.Name} inf");
                Eventually.True(() => (raw.Long(Word) & RobustLock.WaitersBit) != 0, "the waiting process set the waiters bit");
                Assert.Equal(HolderId.Me | RobustLock.WaitersBit, raw.Long(Word));
                l.Release();
                Assert.Equal("ok Acquired", w.Next(Answer));
                // Taken after sleeping: the bit stays, so its release wakes any other sleeper.
                Assert.Equal(worker | RobustLock.WaitersBit, raw.Long(Word));
                w.Call($"release {l.Name}");
                Assert.Equal(0L, raw.Long(Word));
            }
            finally { l.Unlink(); }
        }

        [Fact]
        public void AWaiterTakesTheLockOverOnlyFromAHolderThatIsGone()
        {
            using var l = IpcLock.Create(null);
            using var holder = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(l.Name);
                long id = long.Parse(holder.Call("holder"), CultureInfo.InvariantCulture);
                Assert.Equal("Acquired", holder.Call($"acquire {l.Name} inf"));
                // Alive: a waiter times out, and the word still names the holder.
                Assert.Equal(LockAcquisition.TimedOut, l.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None));
                Assert.Equal(LockAcquisition.TimedOut, l.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(id, HolderId.Identity(raw.Long(Word)));
                holder.Kill();
                var clock = Stopwatch.StartNew();
                Assert.Equal(LockAcquisition.Abandoned, l.TryAcquire(TimeSpan.FromSeconds(10), CancellationToken.None));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The takeover took {clock.Elapsed.TotalSeconds:F1} s (a liveness slice is 0.2 s).");
                Assert.Equal(HolderId.Me, HolderId.Identity(raw.Long(Word)));
                l.Release();
                // Reported once: the next acquire is a plain one.
                Assert.Equal(LockAcquisition.Acquired, l.TryAcquire(TimeSpan.FromSeconds(1), CancellationToken.None));
                l.Release();
            }
            finally { l.Unlink(); }
        }

        [Fact]
        public void OneWaiterOnlyIsToldTheLockWasAbandoned()
        {
            using var l = IpcLock.Create(null);
            using var holder = WorkerProcess.Start(new[] { "protocol" });
            using var a = WorkerProcess.Start(new[] { "protocol" });
            using var b = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(l.Name);
                long idA = long.Parse(a.Call("holder"), CultureInfo.InvariantCulture), idB = long.Parse(b.Call("holder"), CultureInfo.InvariantCulture);
                Assert.Equal("Acquired", holder.Call($"acquire {l.Name} inf"));
                a.Send($"acquire {l.Name} 30");
                b.Send($"acquire {l.Name} 30");
                Eventually.True(() => (raw.Long(Word) & RobustLock.WaitersBit) != 0, "a waiter set the waiters bit");
                holder.Kill();
                long winner = 0;
                Eventually.True(() => (winner = HolderId.Identity(raw.Long(Word))) == idA || winner == idB, "a waiter took the lock over");
                var (first, second) = winner == idA ? (a, b) : (b, a);
                Assert.Equal("ok Abandoned", first.Next(Answer));
                first.Call($"release {l.Name}");
                Assert.Equal("ok Acquired", second.Next(Answer));
                second.Call($"release {l.Name}");
                Assert.Equal(0L, raw.Long(Word) & ~RobustLock.WaitersBit);
            }
            finally { l.Unlink(); }
        }

        /// <summary>Three processes and this one add to a plain counter under the lock: no increment is lost, no one is ever inside with another.</summary>
        [Theory]
        [InlineData(IpcObjectKind.Lock)]
        [InlineData(IpcObjectKind.RLock)]
        [InlineData(IpcObjectKind.Semaphore)]
        public void MutualExclusionHoldsAcrossProcesses(IpcObjectKind kind)
        {
            const int Processes = 3, Each = 10_000;
            ILockable l = kind == IpcObjectKind.Semaphore ? IpcSemaphore.Create(null, 1) : IpcLock.Create(null, recursive: kind == IpcObjectKind.RLock);
            using var counter = SharedMemory.Create(null, 64);
            var workers = Enumerable.Range(0, Processes).Select(_ => WorkerProcess.Start(new[] { "protocol" })).ToArray();
            try
            {
                foreach (var w in workers) w.Send($"count {l.Name} {counter.Name} {Each}");
                int mine = ProtocolWorker.Count(l, counter.Name, Each);
                var violations = workers.Select(w => w.Next(TimeSpan.FromSeconds(120))).ToArray();
                Assert.All(violations, v => Assert.Equal("ok 0", v));
                Assert.Equal(0, mine);
                using var raw = new RawSegment(counter.Name);
                Assert.Equal((Processes + 1) * Each, raw.Int(0));
            }
            finally
            {
                foreach (var w in workers) w.Dispose();
                ((IpcObject)l).Unlink();
                ((IpcObject)l).Close();
                counter.Unlink();
            }
        }

        [Fact]
        public void AnyProcessMayReleaseALock()
        {
            using var l = IpcLock.Create(null);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                l.Acquire();
                w.Call($"release {l.Name}");
                Assert.False(l.IsLocked);
                Assert.StartsWith("error IpcSyncStateException", ReleaseAgain(w, l.Name));
            }
            finally { l.Unlink(); }
        }

        private static string ReleaseAgain(WorkerProcess w, string name)
        {
            w.Send($"release {name}");
            return w.Next(Answer);
        }
    }
}
