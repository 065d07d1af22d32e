using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Every blocking wait ends promptly when its CancellationToken is cancelled (Ctrl+C in a cmdlet) — the sleeper is
    /// woken, not polled — and takes or loses nothing: no lock, permit, message or frame changes hands, and the object
    /// works as before. Timeouts end the same waits with False (or TimedOut, or the CPython exception) in time.
    /// </summary>
    public sealed class ProtocolCancellationTests
    {
        /// <summary>A cancellation must end a wait this fast (it wakes the sleeper; far less on an idle machine).</summary>
        private const double Prompt = 2;

        /// <summary>
        /// Starts WAIT on a thread, waits until ASLEEP says it sleeps, cancels, and returns how long the wait took to
        /// end with OperationCanceledException after the cancellation.
        /// </summary>
        private static TimeSpan Cancelled(Action<CancellationToken> wait, Func<bool> asleep, string what)
        {
            using var cts = new CancellationTokenSource();
            var task = Eventually.OnThread(() => { wait(cts.Token); return 0; });
            Eventually.True(() => asleep() || task.IsCompleted, $"{what} sleeps");
            Assert.False(task.IsCompleted, $"{what} ended before it was cancelled: {task.Exception?.InnerException}");
            var clock = Stopwatch.StartNew();
            cts.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => Eventually.Within(task, 30, what));
            var took = clock.Elapsed;
            Assert.True(took.TotalSeconds < Prompt, $"{what} took {took.TotalSeconds:F2} s to end after the cancellation.");
            return took;
        }

        private static void TimesOut(Func<bool> wait, double seconds, string what)
        {
            var clock = Stopwatch.StartNew();
            Assert.False(wait(), $"{what} did not time out");
            Assert.InRange(clock.Elapsed.TotalSeconds, seconds * 0.95, seconds + 5);
        }

        [Fact]
        public void ALockWaitTakesNothing()
        {
            using var l = IpcLock.Create(null);
            try
            {
                using var raw = new RawSegment(l.Name);
                int word = Layout.Const<IpcLock>("WordOffset");
                l.Acquire();
                Cancelled(t => l.TryAcquire(Timeout.InfiniteTimeSpan, t), () => (raw.Long(word) & RobustLock.WaitersBit) != 0, "a lock wait");
                Assert.Equal(HolderId.Me | RobustLock.WaitersBit, raw.Long(word));   // still ours, as it was
                TimesOut(() => l.TryAcquire(TimeSpan.FromSeconds(0.3), CancellationToken.None) != LockAcquisition.TimedOut, 0.3, "a lock wait");
                l.Release();
                Assert.Equal(0L, raw.Long(word));
            }
            finally { l.Unlink(); }
        }

        [Fact]
        public void ASemaphoreWaitTakesNoPermit()
        {
            using var s = IpcSemaphore.Create(null, 0);
            try
            {
                using var raw = new RawSegment(s.Name);
                int sleepers = Layout.Const<IpcSemaphore>("Sleepers");
                Cancelled(t => s.TryAcquire(Timeout.InfiniteTimeSpan, t), () => raw.Int(sleepers) == 1, "a semaphore wait");
                Assert.Equal(0, raw.Int(sleepers));
                Assert.Equal(0, s.CurrentValue);
                TimesOut(() => s.TryAcquire(TimeSpan.FromSeconds(0.3), CancellationToken.None) != LockAcquisition.TimedOut, 0.3, "a semaphore wait");
                s.Release();
                Assert.Equal(LockAcquisition.Acquired, s.TryAcquire(TimeSpan.Zero, CancellationToken.None));   // the permit is there, once
                Assert.Equal(LockAcquisition.TimedOut, s.TryAcquire(TimeSpan.Zero, CancellationToken.None));
            }
            finally { s.Unlink(); }
        }

        [Fact]
        public void AnEventWaitLeavesNoSleeper()
        {
            using var e = IpcEvent.Create(null);
            try
            {
                Cancelled(t => e.Wait(Timeout.InfiniteTimeSpan, t), () => e.WaiterCount == 1, "an event wait");
                Assert.Equal(0, e.WaiterCount);
                Assert.False(e.IsSet());
                TimesOut(() => e.Wait(0.3), 0.3, "an event wait");
            }
            finally { e.Unlink(); }
        }

        [Fact]
        public void AConditionWaitEndsHoldingTheLockAndFreesItsSlot()
        {
            using var c = IpcCondition.Create(null);
            try
            {
                bool heldAfter = false;
                Cancelled(t =>
                {
                    c.Acquire();
                    try { c.Wait(Timeout.InfiniteTimeSpan, t); }
                    finally
                    {
                        heldAfter = c.Lock.IsMine;   // as CPython: the lock is held again whatever ended the wait
                        c.Release();
                    }
                }, () => c.WaiterCount == 1, "a condition wait");
                Assert.True(heldAfter);
                Assert.Equal(0, c.WaiterCount);
                Assert.False(c.Lock.IsLocked);
                c.Acquire();
                TimesOut(() => c.Wait(0.3), 0.3, "a condition wait");
                Assert.True(c.Lock.IsMine);
                c.Release();
            }
            finally
            {
                c.Lock.Unlink();
                c.Unlink();
            }
        }

        [Fact]
        public void ABarrierWaitBreaksTheBarrier()
        {
            using var b = IpcBarrier.Create(null, 2);
            try
            {
                using var raw = new RawSegment(b.Name);
                int arrived = Layout.Const<IpcBarrier>("Arrived");
                // Documented: a party that stops waiting breaks the barrier, as a timeout does.
                Cancelled(t => b.Wait(Timeout.InfiniteTimeSpan, t), () => raw.Int(arrived) == 1, "a barrier wait");
                Assert.True(b.Broken);
                b.Reset();
                Assert.Throws<BrokenBarrierException>(() => b.Wait(0.3));
            }
            finally { b.Unlink(); }
        }

        [Fact]
        public void AQueueGetTakesNoMessageAndAPutLeavesNone()
        {
            using var q = IpcQueue.Create(null, maxSize: 1, capacity: IpcQueue.MinimumCapacity);
            IMessageChannel channel = q;
            try
            {
                Cancelled(t => channel.TryReceive(Timeout.InfiniteTimeSpan, t, out _), () => q.WaiterCount == 1, "a get");
                Assert.Equal(0, q.WaiterCount);
                Assert.Throws<QueueEmptyException>(() => q.Get(true, 0.3));
                q.Put("first");
                long used = q.UsedBytes;
                Cancelled(t => channel.TrySend("second", null, null, Timeout.InfiniteTimeSpan, t), () => q.PutWaiterCount == 1, "a put");
                Assert.Equal((1, used, 0), (q.QSize(), q.UsedBytes, q.PutWaiterCount));
                var clock = Stopwatch.StartNew();
                Assert.Throws<QueueFullException>(() => q.Put("third", true, 0.3));
                Assert.InRange(clock.Elapsed.TotalSeconds, 0.28, 5.3);
                Assert.Equal("first", q.Get(false));
                Assert.Throws<QueueEmptyException>(() => q.Get(false));
            }
            finally { q.Unlink(); }
        }

        [Fact]
        public void AJoinWaitChangesNoTask()
        {
            using var q = IpcQueue.Create(null, joinable: true);
            try
            {
                q.Put(1);
                Cancelled(t => q.Join(Timeout.InfiniteTimeSpan, t), () => q.JoinWaiterCount == 1, "a join");
                Assert.Equal(1, q.UnfinishedTasks);
                TimesOut(() => q.Join(0.3), 0.3, "a join");
                q.Get(false);
                q.TaskDone();
                Assert.True(q.Join(0));
            }
            finally { q.Unlink(); }
        }

        [Fact]
        public void APipeReceiveTakesNoFrameAndASendLeavesNone()
        {
            int ring = IpcConnection.MinimumBufferSize;
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: ring);
            using var receiver = ends[0];
            using var sender = ends[1];
            IMessageChannel rx = receiver, tx = sender;
            try
            {
                using var raw = new RawSegment(receiver.Name);
                int rings = Layout.Const<IpcConnection>("RingsOffset");
                int readers = rings + Layout.Const<IpcConnection>("ReaderSleepers"), writers = rings + Layout.Const<IpcConnection>("WriterSleepers");
                Cancelled(t => rx.TryReceive(Timeout.InfiniteTimeSpan, t, out _), () => raw.Int(readers) == 1, "a receive");
                Assert.False(receiver.Poll(0.3));
                // A frame that fills the ring, then one that cannot fit until it is read.
                var big = new byte[ring - 8];
                sender.SendBytes(big);
                Cancelled(t => tx.TrySend(new byte[100], null, null, Timeout.InfiniteTimeSpan, t), () => raw.Int(writers) == 1, "a send");
                var clock = Stopwatch.StartNew();
                Assert.False(tx.TrySend(new byte[100], null, null, TimeSpan.FromSeconds(0.3), CancellationToken.None));
                Assert.InRange(clock.Elapsed.TotalSeconds, 0.28, 5.3);
                Assert.Equal(big, receiver.RecvBytes());
                Assert.False(receiver.Poll(0));   // the cancelled and timed-out frames never went in, not even in part
                sender.SendBytes(new byte[] { 1, 2, 3 });
                Assert.Equal(new byte[] { 1, 2, 3 }, receiver.RecvBytes());
            }
            finally { receiver.Unlink(); }
        }
    }
}
