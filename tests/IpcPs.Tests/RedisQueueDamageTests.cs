using System;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A queue whose stored counts or deadlines were damaged by hand (or by another program) is reported, never waited on:
    /// a Join, Get or Put with no timeout fails with IpcObjectCorrupt naming the key or field, where it waited forever (or,
    /// for a Join whose count was lowered, returned at once): a joinable queue's 'unfinished' out of line with the messages
    /// ready and in flight; an in-flight delivery due back later than any Get sets; a 'vis' past a year; a bounded queue's
    /// 'max' fractional, or lowered below a batch its handle let through. Each operation runs on a task, bounded at 30 s,
    /// and is cancelled if it is still waiting then. Every key of the queue (value and expiry) is compared before and after.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisQueueDamageTests : RedisTestBase
    {
        private static readonly IpcBackendOptions Joinable = new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromHours(1) };

        public RedisQueueDamageTests(RedisFixture f) : base(f, "qd_") { }

        /// <summary>A joinable queue with one message ready and one in flight (due back in an hour): unfinished 2.</summary>
        private RedisQueue OneReadyOneInFlight(QueueOrder order = QueueOrder.Fifo)
        {
            var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, Order = order, VisibilityTimeout = TimeSpan.FromHours(1) });
            q.PutMany(new object[] { "a", "b" });
            Assert.Equal("a", q.Get(false));
            Assert.Equal((1L, 2L), (q.InFlight, q.Unfinished));
            return q;
        }

        [Theory]
        [InlineData(QueueOrder.Fifo, "5")]     // raised: Join waited for three messages no queue holds
        [InlineData(QueueOrder.Fifo, "-1")]    // below zero: no TaskDone ever makes it 0
        [InlineData(QueueOrder.Priority, "3")]
        [InlineData(QueueOrder.Fifo, "0")]     // lowered: Join answered "all done" with two messages not done
        public void A_joinable_queue_whose_unfinished_is_not_ready_plus_in_flight_is_reported_by_Join(QueueOrder order, string unfinished)
        {
            using var q = OneReadyOneInFlight(order);
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(q.Name), "unfinished", unfinished);
                string what = $"its field 'unfinished' in Redis is {unfinished}, not the 2 messages ready and in flight";
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => q.Join(Timeout.InfiniteTimeSpan, stop), what);
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => q.Join(TimeSpan.FromSeconds(5), stop), what);   // not a timeout
            }
            finally { B.Remove(q.Name); }
        }

        [Fact]
        public void An_empty_joinable_queue_whose_unfinished_was_raised_is_reported_by_Join()
        {
            using var q = B.Queue(NewName(), Joinable);
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(q.Name), "unfinished", "1");
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => q.Join(Timeout.InfiniteTimeSpan, stop),
                                                   "its field 'unfinished' in Redis is 1, not the 0 messages ready and in flight");
            }
            finally { B.Remove(q.Name); }
        }

        [Theory]
        [InlineData("ZADD", "1000000000000000")]   // some 30,000 years ahead: a Get slept ~24.8 days at a time, a Join for ever
        [InlineData("ZINCRBY", "172800000")]       // two days more than a Get set, with a visibility timeout of an hour
        [InlineData("ZADD", "+inf")]
        public void A_delivery_due_back_later_than_any_Get_sets_is_reported_by_Get_and_Join(string command, string score)
        {
            using var q = B.Queue(NewName(), Joinable);
            var f = RedisBackend.Key(q.Name, "f");
            try
            {
                q.Put("a");
                Assert.Equal("a", q.Get(false));   // in flight, due back in an hour; nothing ready
                RedisRaw.Command(Db, command, f, score, q.LastDelivery!.Id!);
                string what = $"its key '{f}' in Redis holds a delivery due back more than the visibility timeout and a day from now";
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => ((IMessageChannel)q).TryReceive(Timeout.InfiniteTimeSpan, stop, out _), what);
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => q.Join(Timeout.InfiniteTimeSpan, stop), what);
            }
            finally { B.Remove(q.Name); }
        }

        [Fact]
        public void A_delivery_due_back_within_the_visibility_timeout_and_a_day_is_waited_for()
        {
            using var q = B.Queue(NewName(), Joinable);
            try
            {
                q.Put("a");
                Assert.Equal("a", q.Get(false));
                RedisRaw.Command(Db, "ZINCRBY", RedisBackend.Key(q.Name, "f"), "3600000", q.LastDelivery!.Id!);   // two hours: a clock stepped back
                Assert.Throws<QueueEmptyException>(() => q.Get(false));
                Assert.False(q.Join(0));
            }
            finally { B.Remove(q.Name); }
        }

        [Fact]
        public void A_joinable_queue_whose_vis_is_past_a_year_is_reported_by_Get_before_it_sets_a_deadline()
        {
            using var q = B.Queue(NewName(), Joinable);
            try
            {
                q.Put("a");
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(q.Name), "vis", "1000000000000000");
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => ((IMessageChannel)q).TryReceive(Timeout.InfiniteTimeSpan, stop, out _),
                                                   "its field 'vis' in Redis is out of range (1 to 31536000000)");
            }
            finally { B.Remove(q.Name); }
        }

        [Fact]
        public void A_bounded_queue_whose_max_is_fractional_is_reported_by_Put()
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { MaxSize = 2 });
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(q.Name), "max", "0.5");   // no count fits under it: a Put waited for room for ever
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, stop => ((IMessageChannel)q).TrySend("a", null, null, Timeout.InfiniteTimeSpan, stop),
                                                   "its field 'max' in Redis is missing or not a number");
            }
            finally { B.Remove(q.Name); }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void A_bounded_queue_whose_max_was_lowered_below_a_batch_is_reported_by_PutMany(bool joinable)
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { MaxSize = 10, Joinable = joinable });
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(q.Name), "max", "2");   // the handle read 10: it let a batch of 3 through
                RedisRaw.AssertCorruptAndUnchanged(Db, q.Name, _ => q.PutMany(new object[] { 1, 2, 3 }),
                                                   "its field 'max' in Redis is 2, fewer than the 3 messages of this put");
            }
            finally { B.Remove(q.Name); }
        }
    }
}
