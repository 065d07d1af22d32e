using System;
using System.Linq;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A Redis queue's GetMany that meets a damaged body (written straight into the queue's data key, as any Redis client
    /// could) behaves as that many Gets (docs/design.md, "Damaged messages in a batch"), as a local queue's does
    /// (BatchDamageTests): every good message once and in order, the damaged one failing once.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisBatchDamageTests : RedisTestBase
    {
        private static readonly byte[] NotAMessage = { 0xEE, 1, 2 };
        public RedisBatchDamageTests(RedisFixture f) : base(f, "bd_") { }

        [Fact]
        public void A_plain_queue_GetMany_delivers_every_good_message_once_and_in_order()
        {
            using var q = B.Queue(NewName());
            try
            {
                q.PutMany(Enumerable.Range(0, 10).ToArray());
                B.Database.ListSetByIndex(RedisBackend.Key(q.Name, "r"), 4, NotAMessage);   // a plain Fifo keeps bodies in the list
                Assert.Equal(new object[] { 0, 1, 2, 3 }, q.GetMany(10, 1));
                Assert.Equal(6, q.QSize());   // this handle's now: out of Redis
                Assert.False(q.Empty());
                Assert.Throws<MessageFormatException>(() => q.GetMany(10, 1));
                Assert.Equal(5, q.Get(false));
                IMessageChannel ch = q;   // Receive-IpcMessage's path
                Assert.True(ch.TryReceive(TimeSpan.Zero, TestContext.Current.CancellationToken, out var six));
                Assert.Equal(6, six);
                Assert.Equal(new object[] { 7, 8, 9 }, q.GetMany(10, 1));
                Assert.True(q.Empty());
                Assert.Empty(q.GetMany(10, 0));
            }
            finally { q.Unlink(); }
        }

        [Fact]
        public void A_joinable_queue_hands_out_kept_deliveries_as_got_only_when_they_are_delivered()
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMinutes(5) });
            try
            {
                q.PutMany(Enumerable.Range(0, 6).ToArray());
                var db = B.Database;
                string id = db.ListGetByIndex(RedisBackend.Key(q.Name, "r"), 2)!;   // a joinable queue lists ids, bodies by id
                db.HashSet(RedisBackend.Key(q.Name, "b"), id, NotAMessage);
                Assert.Equal(new object[] { 0, 1 }, q.GetMany(10, 1));
                Assert.Equal(6, q.InFlight);   // every delivery of that round trip is in flight
                q.TaskDone();
                q.TaskDone();
                Assert.Throws<TaskDoneException>(() => q.TaskDone());   // the kept ones are not got yet
                Assert.Throws<MessageFormatException>(() => q.GetMany(10, 1));
                Assert.Equal(new object[] { 3, 4, 5 }, q.GetMany(10, 1));
                Assert.Equal(5, q.LastDelivery!.Message);
                Assert.Equal(1, q.LastDelivery.DeliveryCount);
                for (int i = 0; i < 3; i++) q.TaskDone();
                Assert.Equal(1, q.Unfinished);   // the damaged one, in flight until its visibility timeout
            }
            finally { q.Unlink(); }
        }
    }
}
