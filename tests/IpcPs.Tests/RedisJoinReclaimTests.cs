// These tests run Join on a thread, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Join reclaims expired deliveries itself, as a Get does first: past MaxDeliveries to the dead letters, else back to
    /// the queue. It used to wait for a Get to do it, so with no consumer left a delivery nobody could mark done any more
    /// held Join to its timeout (or for ever).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisJoinReclaimTests : RedisTestBase
    {
        public RedisJoinReclaimTests(RedisFixture f) : base(f, "jr_") { }

        [Fact]
        public void Join_dead_letters_a_delivery_past_MaxDeliveries_that_expired_with_no_Get()
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMilliseconds(300), MaxDeliveries = 1 });
            q.Put("poison");
            Assert.Equal("poison", q.GetDelivery(true, 5).Message);   // no TaskDone: its consumer is gone
            using var joiner = (RedisQueue)B.Open(q.Name, IpcObjectKind.Queue);
            Assert.True(joiner.Join(20), "Join waited although the only delivery expired at its last allowed delivery");
            var c = q.GetCounts();
            Assert.Equal((0L, 0L, 0L, 1L), (c.Ready, c.InFlight, c.Unfinished, c.DeadLetterCount));
            Assert.Equal("poison", q.GetDeadLetter());
            Assert.Throws<DeliveryExpiredException>(() => q.TaskDone());   // too late: it was dead-lettered
            q.Unlink();
        }

        [Fact]
        public void Join_puts_an_expired_delivery_back_below_MaxDeliveries_and_waits_until_it_is_got_and_done()
        {
            // 2 s: the second delivery is marked done well within it (at its expiry Join would dead-letter it, rightly).
            using var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromSeconds(2), MaxDeliveries = 2 });
            q.Put("again");
            Assert.Equal(1, q.GetDelivery(true, 5).DeliveryCount);
            using var joiner = (RedisQueue)B.Open(q.Name, IpcObjectKind.Queue);
            var join = Task.Run(() => joiner.Join(30));
            // Join, the only caller, takes it back to the queue at its expiry (read here without a script, which would reclaim it too).
            var ready = RedisBackend.Key(q.Name, "r");
            var waiting = Stopwatch.StartNew();
            while (Db.ListLength(ready) == 0)
            {
                Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), "the expired delivery never went back to the queue without a Get");
                Assert.False(join.IsCompleted, "Join returned while the message was unfinished");
                Thread.Sleep(10);
            }
            Assert.False(join.Wait(300), "Join returned while the message was back in the queue");
            var second = q.GetDelivery(true, 5);
            Assert.Equal(("again", 2L), (second.Message, second.DeliveryCount));
            Assert.False(join.IsCompleted, "Join returned while the second delivery was in flight");
            q.TaskDone(second);
            Assert.True(join.Wait(20000) && join.Result, "Join did not return after the TaskDone");
            Assert.Equal(0, q.DeadLetterCount);
            q.Unlink();
        }

        [Fact]
        public void A_waiting_Join_checks_again_at_the_deadline_of_the_earliest_delivery_not_in_a_loop()
        {
            using var server = new RedisServer();   // its own: the script calls counted are this test's
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            using var q = b.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromSeconds(1.5), MaxDeliveries = 1 });
            q.Put(1);
            q.GetDelivery(true, 5);
            long before = server.ScriptCalls();
            var waited = Stopwatch.StartNew();
            Assert.True(q.Join(20));
            waited.Stop();
            long calls = server.ScriptCalls() - before;
            // A step at the start and one at the deadline (a few more if a timer ends early or the notifier wakes it); a
            // loop would have made hundreds in the wait.
            Assert.True(calls <= 10, $"Join ran {calls} scripts in {waited.ElapsedMilliseconds} ms");
            Assert.Equal(1, q.DeadLetterCount);
            q.Unlink();
        }

        [Fact]
        public void A_waiting_Join_reclaims_at_most_4_times_a_second_whatever_the_visibility_timeout()
        {
            // A visibility timeout of 1 ms and a message nobody takes: Join's hint is the visibility timeout, and its
            // steps (a script that writes) ran every few milliseconds (~6 ms: hundreds in the wait).
            using var server = new RedisServer();
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            using var q = b.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMilliseconds(1) });
            q.Put(1);
            long before = server.ScriptCalls();
            var waited = Stopwatch.StartNew();
            Assert.False(q.Join(1.5));
            waited.Stop();
            long calls = server.ScriptCalls() - before;
            Assert.True(calls <= 4 * (waited.ElapsedMilliseconds / 1000.0) + 3, $"Join ran {calls} scripts in {waited.ElapsedMilliseconds} ms");
            q.Unlink();
        }
    }
}
