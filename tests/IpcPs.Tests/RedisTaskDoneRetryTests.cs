using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// TaskDone() marks the oldest delivery this handle got. One that fails without an answer from the server
    /// (BackendUnavailable: nothing sent, safe to retry) must leave that delivery the oldest: the retry marks it, not
    /// the next one (which left the first in flight, delivered again after its visibility timeout, and Join waiting).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisTaskDoneRetryTests
    {
        public RedisTaskDoneRetryTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void A_task_done_that_failed_unsent_marks_the_same_delivery_when_tried_again()
        {
            using var server = new RedisServer(appendOnly: true);   // the queue survives the restart
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            using var q = b.Queue("td" + Guid.NewGuid().ToString("N").Substring(0, 10), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMinutes(10) });
            q.Put("first");
            q.Put("second");
            var first = q.GetDelivery(true, 5);
            var second = q.GetDelivery(true, 5);
            Assert.Equal("first", first.Message);

            server.Kill();
            var until = Stopwatch.StartNew();
            while (b.IsConnected) { Assert.True(until.Elapsed < TimeSpan.FromSeconds(20), "the client never saw the server go"); Thread.Sleep(10); }
            Assert.Throws<IpcBackendUnavailableException>(() => q.TaskDone());   // nothing sent: safe to retry
            server.Start();
            // The client's reconnection, waited for (a call would wait only the 5 s operation timeout for it).
            until.Restart();
            while (!b.IsConnected) { Assert.True(until.Elapsed < TimeSpan.FromSeconds(60), "the client never reconnected"); Thread.Sleep(10); }

            q.TaskDone();   // the retry: the first delivery
            Assert.Equal(1, q.InFlight);
            q.TaskDone(second);   // by receipt: the second is still outstanding
            Assert.Equal(0, q.Unfinished);
            Assert.True(q.Join(5));
            q.Unlink();
        }
    }
}
