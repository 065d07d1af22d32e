// The raw commands that damage and read keys wait for their tasks: blocking waits are the point of these tests.
#pragma warning disable xUnit1031

using System;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// An operation on an object one of whose keys holds another type (replaced by hand or by another program) fails with
    /// IpcObjectCorrupt naming that key, and changes nothing: Redis keeps the writes a script made before a WRONGTYPE stopped
    /// it, so a script that met the damaged key after its first write left the object half changed (a queue's sequence
    /// raised and its message not stored, a message popped and lost, a delivery taken out of flight and put nowhere, a lock's
    /// holder deleted). Each test damages the one key the operation meets after its first write and compares every key of
    /// the object, read with raw commands, before and after.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisPartialWriteTests : RedisTestBase
    {
        public RedisPartialWriteTests(RedisFixture f) : base(f, "pw_") { }

        /// <summary>Replaces KEY by a key of TYPE ("string", "hash", "list"), as a user's DEL then SET would.</summary>
        private void Damage(RedisKey key, string type)
        {
            RedisRaw.Sync(Db.KeyDeleteAsync(key));
            _ = type switch
            {
                "string" => RedisRaw.Sync(Db.StringSetAsync(key, "x")),
                "hash" => RedisRaw.Sync(Db.HashSetAsync(key, "x", "y")),
                "list" => RedisRaw.Sync(Db.ListRightPushAsync(key, "x")) > 0,
                _ => throw new ArgumentException(type),
            };
        }

        /// <summary>
        /// Damages NAME's key PART (made a TYPE), runs OPERATION, and checks that it failed with IpcObjectCorrupt naming that
        /// key and that no key of the object changed.
        /// </summary>
        private void AssertFailsAndChangesNothing(string name, string part, string type, Action operation)
        {
            var key = part == "" ? RedisBackend.MetaKey(name) : RedisBackend.Key(name, part);
            Damage(key, type);
            string before = RedisRaw.Snapshot(Db, name);
            var e = Assert.Throws<IpcObjectCorruptException>(operation);
            Assert.Contains($"'{key}' in Redis is a {type}", e.Message);
            Assert.Equal(before, RedisRaw.Snapshot(Db, name));
        }

        private RedisQueue NewQueue(QueueOrder order, bool joinable, int maxDeliveries = 0) =>
            B.Queue(NewName(), new IpcBackendOptions { Order = order, Joinable = joinable, MaxDeliveries = maxDeliveries, VisibilityTimeout = TimeSpan.FromMinutes(5) });

        [Theory]
        [InlineData(QueueOrder.Priority, false, "b", "string")]   // the sequence raised, then the bodies' hash met
        [InlineData(QueueOrder.Priority, false, "r", "list")]     // … the body stored, then the ready sorted set met
        [InlineData(QueueOrder.Fifo, true, "b", "string")]
        [InlineData(QueueOrder.Fifo, true, "r", "hash")]
        [InlineData(QueueOrder.Lifo, true, "r", "string")]
        [InlineData(QueueOrder.Priority, true, "p", "string")]    // … body and id stored, then the priorities' hash met
        public void A_Put_that_meets_a_key_of_another_type_stores_nothing_and_raises_no_counter(QueueOrder order, bool joinable, string part, string type)
        {
            using var q = NewQueue(order, joinable);
            try
            {
                q.Put("first");
                AssertFailsAndChangesNothing(q.Name, part, type, () => q.PutMany(new object[] { "a", "b" }));
            }
            finally { B.Remove(q.Name); }
        }

        [Theory]
        [InlineData(QueueOrder.Priority, false)]   // the message popped, then its body's hash met: lost
        [InlineData(QueueOrder.Fifo, true)]        // the message popped, counted and put in flight, then its body met
        [InlineData(QueueOrder.Priority, true)]
        public void A_Get_whose_bodies_key_is_of_another_type_takes_nothing(QueueOrder order, bool joinable)
        {
            using var q = NewQueue(order, joinable);
            try
            {
                q.PutMany(new object[] { 1, 2 });
                AssertFailsAndChangesNothing(q.Name, "b", "string", () => q.Get(false));
            }
            finally { B.Remove(q.Name); }
        }

        [Theory]
        [InlineData(QueueOrder.Fifo, 0, "r", "hash")]        // the delivery taken out of flight, then the ready list met
        [InlineData(QueueOrder.Priority, 0, "r", "list")]
        [InlineData(QueueOrder.Priority, 0, "p", "string")]  // … then its priority's hash met
        [InlineData(QueueOrder.Fifo, 1, "x", "hash")]        // past MaxDeliveries: … then the dead letters' list met
        [InlineData(QueueOrder.Fifo, 1, "b", "list")]        // … then its body's hash met
        public void A_Get_that_returns_an_expired_delivery_to_a_key_of_another_type_changes_nothing(QueueOrder order, int maxDeliveries, string part, string type)
        {
            using var q = NewQueue(order, joinable: true, maxDeliveries);
            try
            {
                q.PutMany(new object[] { 1, 2 });
                var d = q.GetDelivery(false, 0);
                // Its visibility deadline moved into the past, as time would: the next Get returns it first.
                var inFlight = RedisBackend.Key(q.Name, "f");
                RedisRaw.Sync(Db.SortedSetAddAsync(inFlight, d.Id, 0, SortedSetWhen.Exists));
                Assert.Equal(0, RedisRaw.Sync(Db.SortedSetScoreAsync(inFlight, d.Id)));
                AssertFailsAndChangesNothing(q.Name, part, type, () => q.Get(false));
            }
            finally { B.Remove(q.Name); }
        }

        [Theory]
        [InlineData(QueueOrder.Fifo, "b")]       // out of flight, then its body's hash met: neither done nor delivered again
        [InlineData(QueueOrder.Fifo, "p")]       // … body and count deleted, then the priorities' hash met
        [InlineData(QueueOrder.Priority, "b")]
        public void A_TaskDone_that_meets_a_key_of_another_type_leaves_the_delivery_in_flight(QueueOrder order, string part)
        {
            using var q = NewQueue(order, joinable: true);
            try
            {
                q.PutMany(new object[] { 1, 2 });
                var d = q.GetDelivery(false, 0);
                AssertFailsAndChangesNothing(q.Name, part, "string", () => q.TaskDone(d));
            }
            finally { B.Remove(q.Name); }
        }

        [Fact]
        public void A_lock_Release_whose_meta_key_is_of_another_type_leaves_the_holder_key()
        {
            using var l = B.Lock(NewName());
            try
            {
                Assert.True(l.Acquire(false));
                // The holder deleted, then the meta hash met: the lock was free while the release was reported failed.
                AssertFailsAndChangesNothing(l.Name, "", "string", () => l.Release());
            }
            finally { B.Remove(l.Name); }
        }
    }
}
