using System;
using System.Globalization;
using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Semaphore accounting across real processes (docs/design.md, the Semaphore row): an acquire records its permit in
    /// its process's slot unless it takes a surplus one; a release by a holder gives back its own permit, one by a
    /// non-holder is surplus; a dead holder's recorded permits come back exactly once; produced permits never do.
    /// </summary>
    public sealed class ProtocolSemaphoreTests
    {
        private static readonly int Value = Layout.Const<IpcSemaphore>("Value"), Surplus = Layout.Const<IpcSemaphore>("Surplus"),
            Slots = Layout.Const<IpcSemaphore>("Slots"), SlotCount = Layout.Const<IpcSemaphore>("SlotCount"), SlotSize = Layout.Const<IpcSemaphore>("SlotSize"),
            SlotPermits = Layout.Const<IpcSemaphore>("SlotPermits"), UndoPending = Layout.Const<IpcSemaphore>("UndoPending");

        /// <summary>The permits the slots record for HOLDER (0 when it has no slot).</summary>
        private static int Recorded(RawSegment raw, long holder)
        {
            int permits = 0;
            for (int i = 0; i < SlotCount; i++)
                if (raw.Long(Slots + i * SlotSize) == holder) permits += raw.Int(Slots + i * SlotSize + SlotPermits);
            return permits;
        }

        private static long HolderOf(WorkerProcess w) => long.Parse(w.Call("holder"), CultureInfo.InvariantCulture);

        [Fact]
        public void ADeadHoldersPermitsComeBackExactlyOnce()
        {
            using var s = IpcSemaphore.Create(null, 2);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(s.Name);
                long worker = HolderOf(w);
                Assert.Equal("Acquired", w.Call($"acquire {s.Name} inf"));
                Assert.Equal("Acquired", w.Call($"acquire {s.Name} inf"));
                Assert.Equal(0, raw.Int(Value));
                Assert.Equal(2, Recorded(raw, worker));
                Assert.Equal(LockAcquisition.TimedOut, s.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None));   // alive: kept
                w.Kill();
                Assert.Equal(LockAcquisition.Abandoned, s.TryAcquire(TimeSpan.FromSeconds(10), CancellationToken.None));
                Assert.Equal(0, Recorded(raw, worker));
                Assert.Equal(1, s.CurrentValue);
                Assert.Equal(LockAcquisition.Acquired, s.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(LockAcquisition.TimedOut, s.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None));   // two in all, not more
                Assert.Equal(2, Recorded(raw, Core.Sync.HolderId.Me));
                s.Release();
                s.Release();
                Assert.Equal(2, s.CurrentValue);
                Assert.Equal(0, Recorded(raw, Core.Sync.HolderId.Me));
                Assert.Equal(0, raw.Int(Surplus));
                Assert.Equal(0, raw.Int(UndoPending));
            }
            finally { s.Unlink(); }
        }

        [Fact]
        public void AReleaseByANonHolderIsSurplusThatNoDeathGivesBack()
        {
            using var s = IpcSemaphore.Create(null, 0);
            using var producer = WorkerProcess.Start(new[] { "protocol" });
            using var consumer = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(s.Name);
                long c = HolderOf(consumer);
                producer.Call($"release {s.Name}");
                Assert.Equal(1, raw.Int(Value));
                Assert.Equal(1, raw.Int(Surplus));   // produced: recorded against nobody
                Assert.Equal(0, Recorded(raw, HolderOf(producer)));
                Assert.Equal("Acquired", consumer.Call($"acquire {s.Name} 10"));
                Assert.Equal(0, raw.Int(Value));
                Assert.Equal(0, raw.Int(Surplus));
                Assert.Equal(0, Recorded(raw, c));   // a surplus permit is taken untracked
                consumer.Kill();
                // The consumer took a produced permit with it: nothing comes back.
                Assert.Equal(LockAcquisition.TimedOut, s.TryAcquire(TimeSpan.FromSeconds(0.6), CancellationToken.None));
                Assert.Equal(0, s.CurrentValue);
            }
            finally { s.Unlink(); }
        }

        [Fact]
        public void AHoldersReleaseGivesBackItsOwnPermitAndNoOtherHolders()
        {
            using var s = IpcSemaphore.Create(null, 2);
            using var a = WorkerProcess.Start(new[] { "protocol" });
            using var b = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                using var raw = new RawSegment(s.Name);
                long idA = HolderOf(a), idB = HolderOf(b);
                Assert.Equal("Acquired", a.Call($"acquire {s.Name} inf"));
                Assert.Equal("Acquired", b.Call($"acquire {s.Name} inf"));
                Assert.Equal((1, 1, 0), (Recorded(raw, idA), Recorded(raw, idB), raw.Int(Value)));
                a.Call($"release {s.Name}");
                Assert.Equal((0, 1, 1, 0), (Recorded(raw, idA), Recorded(raw, idB), raw.Int(Value), raw.Int(Surplus)));
                // This process holds none: its release is a produced permit, and B's slot is left alone.
                s.Release();
                Assert.Equal((1, 2, 1), (Recorded(raw, idB), raw.Int(Value), raw.Int(Surplus)));
                b.Kill();
                // Three permits in all: the two free now, then B's, which comes back to a waiter.
                Assert.Equal(LockAcquisition.Acquired, s.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(LockAcquisition.Acquired, s.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                Assert.Equal(LockAcquisition.Abandoned, s.TryAcquire(TimeSpan.FromSeconds(10), CancellationToken.None));
                Assert.Equal(0, Recorded(raw, idB));
                Assert.Equal(LockAcquisition.TimedOut, s.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None));
            }
            finally { s.Unlink(); }
        }

        [Fact]
        public void ABoundedSemaphoreRefusesAReleasePastItsMaximum()
        {
            using var s = IpcSemaphore.Create(null, 1, maximum: 1);
            try
            {
                Assert.Throws<IpcSyncStateException>(() => s.Release());
                Assert.Equal(1, s.CurrentValue);
                Assert.True(s.Acquire(false));
                s.Release();
                Assert.Equal(1, s.CurrentValue);
                using var raw = new RawSegment(s.Name);
                Assert.Equal(0, raw.Int(UndoPending));
            }
            finally { s.Unlink(); }
        }
    }
}
