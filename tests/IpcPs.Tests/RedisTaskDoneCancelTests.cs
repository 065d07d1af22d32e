// These tests run TaskDone on threads, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// TaskDone() ends on the caller's interrupt (Ctrl+C), as a Get does, while it waits for the server's answer and while
    /// it waits for another TaskDone of its handle; it used to hold its handle's lock through a wait only the operation
    /// timeout ended (then BackendOutcomeUnknown). The delivery it was marking stays the handle's oldest, and nothing is
    /// marked twice.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisTaskDoneCancelTests
    {
        public RedisTaskDoneCancelTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void A_task_done_waiting_for_its_answer_or_its_lock_ends_on_cancellation_and_marks_nothing_twice()
        {
            using var server = new RedisServer();
            using var proxy = new RedisReplyHoldingProxy(server.Port);
            using var b = RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{proxy.Port}", TimeSpan.FromSeconds(5));
            using var q = b.Queue("tdc" + Guid.NewGuid().ToString("N").Substring(0, 10), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMinutes(10) });
            q.Put("warm-up");
            q.Get(true, 5);
            q.TaskDone();   // the server has TaskDone's script: the one held below runs (not answered NOSCRIPT)
            q.Put("first");
            q.Put("second");
            var first = q.GetDelivery(true, 5);
            q.GetDelivery(true, 5);

            proxy.HoldRepliesAfter(first.Id!);   // the TaskDone of the first runs; its answer does not come
            using var cancelAnswer = new CancellationTokenSource();
            using var cancelLock = new CancellationTokenSource();
            var waitingForAnswer = Task.Run(() => q.MarkOldestDone(cancelAnswer.Token));
            Assert.True(proxy.Held.Wait(TimeSpan.FromSeconds(20)), "the TaskDone never reached the server");
            var waitingForLock = Task.Run(() => q.MarkOldestDone(cancelLock.Token));
            Assert.False(waitingForLock.Wait(200), "a second TaskDone did not wait for the first");

            cancelLock.Cancel();
            Assert.IsAssignableFrom<OperationCanceledException>(Failure(waitingForLock));
            Assert.False(waitingForAnswer.IsCompleted, "the first TaskDone ended when the second was cancelled");
            cancelAnswer.Cancel();
            Assert.IsAssignableFrom<OperationCanceledException>(Failure(waitingForAnswer));   // not BackendOutcomeUnknown, 5 s on

            proxy.Release();
            // The first delivery, whose TaskDone ran and whose answer was dropped, is still this handle's oldest: trying
            // again finds it marked (refused, not marked twice), and the next TaskDone marks the second.
            Assert.Throws<DeliveryExpiredException>(() => q.TaskDone());
            Assert.Equal(1, q.InFlight);
            q.TaskDone();
            Assert.Equal(0, q.Unfinished);
            Assert.Throws<TaskDoneException>(() => q.TaskDone());
            Assert.True(q.Join(5));
            q.Unlink();
        }

        [Fact]
        public void A_task_done_that_starts_with_its_interrupt_raised_marks_as_ever()
        {
            // A script's finally block runs while its pipeline stops, the caller's interrupt raised: its TaskDone must
            // still mark the work it finished (it used to throw OperationCanceledException at once and mark nothing).
            using var server = new RedisServer();
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            using var q = b.Queue("tdc" + Guid.NewGuid().ToString("N").Substring(0, 10), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMinutes(10) });
            q.Put("work");
            q.Get(true, 5);
            using var stopped = new CancellationTokenSource();
            stopped.Cancel();
            q.MarkOldestDone(stopped.Token);
            Assert.Equal(0, q.Unfinished);
            Assert.True(q.Join(5));
            q.Unlink();
        }

        /// <summary>What T failed with, waited for at most 30 s (a TaskDone that did not fail is a failure of the test).</summary>
        private static Exception Failure(Task t)
        {
            Assert.True(((IAsyncResult)t).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the TaskDone did not end");
            if (t.IsCanceled) return new OperationCanceledException();
            Assert.True(t.IsFaulted, "the TaskDone succeeded");
            return t.Exception!.InnerException!;
        }
    }
}
