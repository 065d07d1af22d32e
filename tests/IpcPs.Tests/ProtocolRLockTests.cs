using System;
using System.Threading;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// RLock ownership (docs/design.md, the RLock row): the caller owns it when the word, the owner process and the owner
    /// thread all name it; recursion is counted for that thread only; a new owner never inherits a dead owner's thread.
    /// </summary>
    public sealed class ProtocolRLockTests
    {
        private static readonly int Word = Layout.Const<IpcLock>("WordOffset"), Count = Layout.Const<IpcLock>("CountOffset"),
            ThreadField = Layout.Const<IpcLock>("ThreadOffset"), Owner = Layout.Const<IpcLock>("OwnerOffset");

        /// <summary>A holder that is gone whatever happens to pids meanwhile: this process's pid with another start time.</summary>
        private static readonly long Gone = HolderId.Of(HolderId.MyPid, HolderId.Start(HolderId.Me) + 12345L);

        [Fact]
        public void RecursionIsCountedForTheOwningThreadOnly()
        {
            using var l = IpcLock.Create(null, recursive: true);
            try
            {
                using var raw = new RawSegment(l.Name);
                for (int i = 0; i < 3; i++) Assert.True(l.Acquire());
                Assert.Equal(3, l.RecursionCount);
                Assert.Equal(3, raw.Int(Count));
                Assert.Equal(Environment.CurrentManagedThreadId, raw.Int(ThreadField));
                Assert.Equal(HolderId.Me, raw.Long(Owner));
                Assert.Equal(HolderId.Me, raw.Long(Word));

                // Another thread of the same process: not the owner.
                var other = Eventually.Within(Eventually.OnThread(() =>
                {
                    var release = Record.Exception(() => l.Release());
                    return (l.IsMine, l.RecursionCount, release, l.TryAcquire(TimeSpan.Zero, CancellationToken.None),
                        l.TryAcquire(TimeSpan.FromSeconds(0.2), CancellationToken.None));
                }), 10, "the other thread");
                Assert.False(other.IsMine);
                Assert.Equal(0, other.RecursionCount);
                Assert.IsType<IpcSyncStateException>(other.release);
                Assert.Equal(LockAcquisition.TimedOut, other.Item4);
                Assert.Equal(LockAcquisition.TimedOut, other.Item5);
                Assert.Equal(3, raw.Int(Count));

                l.Release();
                l.Release();
                Assert.Equal(1, l.RecursionCount);
                Assert.Equal(HolderId.Me | RobustLock.WaitersBit, raw.Long(Word));   // the other thread slept on it
                l.Release();
                Assert.Equal(0L, raw.Long(Word));
                Assert.Equal(0L, raw.Long(Owner));   // cleared first: no thread can think it owns a free lock
                Assert.Throws<IpcSyncStateException>(() => l.Release());
            }
            finally { l.Unlink(); }
        }

        /// <summary>
        /// The state right after a holder died: the word and the owner process name the dead process, the thread field its
        /// thread — here this very thread's managed id, which the dead process could well have had. This thread does not
        /// own it; taking it over counts one, not the dead owner's recursion plus one.
        /// </summary>
        [Fact]
        public void ANewOwnerNeverInheritsADeadOwnersThread()
        {
            using var l = IpcLock.Create(null, recursive: true);
            try
            {
                using var raw = new RawSegment(l.Name);
                raw.Long(Word) = Gone;
                raw.Int(Count) = 5;
                raw.Int(ThreadField) = Environment.CurrentManagedThreadId;
                raw.Long(Owner) = Gone;
                Assert.False(l.IsMine);
                Assert.Equal(0, l.RecursionCount);
                Assert.Throws<IpcSyncStateException>(() => l.Release());
                Assert.Equal(LockAcquisition.Abandoned, l.TryAcquire(TimeSpan.FromSeconds(5), CancellationToken.None));
                Assert.True(l.IsMine);
                Assert.Equal(1, l.RecursionCount);
                Assert.Equal(HolderId.Me, raw.Long(Owner));
                l.Release();
                Assert.Equal(0L, raw.Long(Word));
            }
            finally { l.Unlink(); }
        }

        [Fact]
        public void ARecursiveHolderThatDiesIsTakenOverWithACountOfOne()
        {
            using var l = IpcLock.Create(null, recursive: true);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                Assert.Equal("Acquired", w.Call($"acquire {l.Name} inf"));
                Assert.Equal("Acquired", w.Call($"acquire {l.Name} inf"));
                using (var raw = new RawSegment(l.Name)) Assert.Equal(2, raw.Int(Count));
                w.Kill();
                Assert.Throws<AbandonedLockException>(() => l.Acquire(true, 10));   // CPython-shaped: raised, and held
                Assert.Equal(1, l.RecursionCount);
                l.Release();
                Assert.False(l.IsLocked);
            }
            finally { l.Unlink(); }
        }
    }
}
