// These tests exercise blocking APIs from threads, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>Redis queues against a real redis-server: orders, bounds, exactly-once, at-least-once, dead letters, Join.</summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisQueueTests : RedisTestBase
    {
        public RedisQueueTests(RedisFixture f) : base(f) { }

        [Fact]
        public void Orders_bounds_and_the_channel_interface()
        {
            using var fifo = B.Queue(NewName());
            using var lifo = B.Queue(NewName(), new IpcBackendOptions { Order = QueueOrder.Lifo });
            using var prio = B.Queue(NewName(), new IpcBackendOptions { Order = QueueOrder.Priority });
            foreach (var i in new object[] { 1, "two", 3.5 }) { fifo.Put(i); lifo.Put(i); }
            Assert.Equal(new object[] { 1, "two", 3.5 }, new[] { fifo.Get(), fifo.Get(), fifo.Get() });
            Assert.Equal(new object[] { 3.5, "two", 1 }, new[] { lifo.Get(), lifo.Get(), lifo.Get() });
            prio.PutWithPriority("c", 5); prio.PutWithPriority("a", -2); prio.PutWithPriority("b1", 1); prio.PutWithPriority("b2", 1);
            Assert.Equal(new object[] { "a", "b1", "b2", "c" }, new[] { prio.Get(), prio.Get(), prio.Get(), prio.Get() });
            Assert.Throws<QueueEmptyException>(() => fifo.GetNoWait());
            Assert.Throws<InvalidOperationException>(() => fifo.PutWithPriority(1, 1));

            // Bounded: the third put waits for room, and a get (another handle) wakes it.
            using var bounded = B.Queue(NewName(), new IpcBackendOptions { MaxSize = 2 });
            bounded.Put(1); bounded.Put(2);
            Assert.True(bounded.Full());
            Assert.Throws<QueueFullException>(() => bounded.PutNoWait(3));
            var putter = Task.Run(() => bounded.Put(3, true, 10));
            Assert.False(putter.Wait(300));
            using var other = (RedisQueue)B.Open(bounded.Name, IpcObjectKind.Queue);
            Assert.Equal(1, other.Get());
            Assert.True(putter.Wait(5000));
            Assert.Equal(2, bounded.QSize());

            // The channel interface Send-/Receive-IpcMessage use, with a byte[] kept as it is.
            IMessageChannel ch = fifo;
            Assert.True(ch.TrySend(new byte[] { 1, 2, 3 }, null, null, TimeSpan.Zero, CancellationToken.None));
            Assert.True(ch.TryReceive(TimeSpan.FromSeconds(1), CancellationToken.None, out var m));
            Assert.Equal(new byte[] { 1, 2, 3 }, m);
            Assert.False(ch.TryReceive(TimeSpan.Zero, CancellationToken.None, out _));
            foreach (var q in new[] { fifo, lifo, prio, bounded }) q.Unlink();
        }

        [Fact]
        public void A_blocked_get_wakes_on_a_put_and_ends_on_cancellation()
        {
            using var q = B.Queue(NewName());
            using var other = (RedisQueue)B.Open(q.Name, IpcObjectKind.Queue);
            var sw = Stopwatch.StartNew();
            var getter = Task.Run(() => q.Get(true, 10));
            Assert.False(getter.Wait(200));
            other.Put("hello");
            Assert.True(getter.Wait(8000), "the put did not wake the getter (its own timeout is 10 s)");
            Assert.Equal("hello", getter.Result);

            using var cts = new CancellationTokenSource(300);
            sw.Restart();
            Assert.ThrowsAny<OperationCanceledException>(() => ((IMessageChannel)q).TryReceive(Timeout.InfiniteTimeSpan, cts.Token, out _));
            Assert.True(sw.ElapsedMilliseconds < 5000, $"cancellation took {sw.ElapsedMilliseconds} ms");
            q.Unlink();
        }

        [Fact]
        public void Two_producers_and_three_consumer_processes_move_5000_messages_each_exactly_once()
        {
            using var q = B.Queue(NewName());
            var consumers = Enumerable.Range(0, 3).Select(_ => new RedisWorkerProcess("consume", Address, q.Name)).ToList();
            var producers = new[] { new RedisWorkerProcess("produce", Address, q.Name, "0", "2500"),
                                    new RedisWorkerProcess("produce", Address, q.Name, "2500", "2500") };
            try
            {
                foreach (var p in producers) { Assert.Equal("done", p.Next(120)); p.WaitExit(); }
                for (int i = 0; i < 3; i++) q.Put(-1L);   // one stop sentinel per consumer
                var got = new List<long>();
                var perConsumer = new List<int>();
                foreach (var c in consumers)
                {
                    string line = c.Next(120);
                    Assert.StartsWith("got ", line);
                    var ids = line.Substring(4).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
                    perConsumer.Add(ids.Count);
                    got.AddRange(ids);
                    c.WaitExit();
                }
                Assert.Equal(5000, got.Count);
                Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), got.OrderBy(x => x));
                Assert.Equal(0, q.QSize());
            }
            finally
            {
                foreach (var w in consumers.Concat(producers)) w.Dispose();
                q.Unlink();
            }
        }

        [Fact]
        public void A_consumer_killed_before_TaskDone_has_its_message_delivered_again_and_Join_waits_for_it()
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromSeconds(1.5) });
            q.Put(0L); q.Put(1L); q.Put(2L);
            using var victim = new RedisWorkerProcess("consume-joinable", Address, q.Name, "victim");
            Assert.Equal("took 0 1", victim.Next());
            RedisServer.Signal(victim.Pid, RedisServer.SIGKILL);
            victim.Process.WaitForExit();

            using var joiner = (RedisQueue)B.Open(q.Name, IpcObjectKind.Queue);
            var join = Task.Run(() => joiner.Join(30));
            var seen = new List<(long, long)>();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 3; i++)
            {
                var d = q.GetDelivery(true, 10);
                seen.Add((Convert.ToInt64(d.Message), d.DeliveryCount));
                Assert.False(join.IsCompleted, "Join returned before every message was marked done");
                q.TaskDone();
            }
            Assert.Equal(new[] { (1L, 1L), (2L, 1L), (0L, 2L) }, seen);   // 0 again after the visibility timeout, delivery 2
            Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(1.0), "redelivered before its visibility timeout");
            Assert.True(join.Wait(5000) && join.Result, "Join did not return after the last TaskDone");
            Assert.Equal(0, q.Unfinished);
            q.Unlink();
        }

        [Fact]
        public void Past_MaxDeliveries_a_message_goes_to_the_dead_letters_and_a_late_TaskDone_is_refused()
        {
            using var q = B.Queue(NewName(), new IpcBackendOptions { Joinable = true, VisibilityTimeout = TimeSpan.FromMilliseconds(200), MaxDeliveries = 2 });
            q.Put("poison");
            var first = q.GetDelivery(true, 5);
            Assert.Equal(1, first.DeliveryCount);
            var second = q.GetDelivery(true, 5);   // woken at the first delivery's expiry, not by polling
            Assert.Equal(2, second.DeliveryCount);
            Assert.Throws<DeliveryExpiredException>(() => q.TaskDone(first));
            Assert.Throws<QueueEmptyException>(() => q.Get(true, 0.6));   // its second expiry sends it to the dead letters
            Assert.Equal(1, q.DeadLetterCount);
            Assert.True(q.Join(2));
            Assert.Equal("poison", q.GetDeadLetter());
            Assert.Throws<DeliveryExpiredException>(() => q.TaskDone(second));
            q.Unlink();
        }

        [Fact]
        public void Oversized_and_damaged_messages_are_clear_errors()
        {
            var small = RedisBackend.ConnectPrivate(Fixture.Server!.Uri, TimeSpan.FromSeconds(5));
            small.MaxMessageBytes = 1024;
            using var q = small.Queue(NewName());
            var e = Assert.Throws<MessageTooLargeException>(() => q.Put(new byte[4096]));
            Assert.Contains("at most", e.Message);
            // Bytes in Redis that no IpcPs wrote: a format error, and the queue keeps working.
            B.Database.ListRightPush(RedisBackend.Key(q.Name, "r"), new byte[] { 0x7f, 1, 2 });
            Assert.Throws<MessageFormatException>(() => q.GetNoWait());
            q.Put("fine");
            Assert.Equal("fine", q.GetNoWait());
            // A value whose settings were overwritten is refused when opened.
            B.Database.HashSet(RedisBackend.MetaKey(q.Name), "order", "7");
            Assert.Throws<IpcObjectCorruptException>(() => B.Open(q.Name, IpcObjectKind.Queue));
            q.Unlink();
            small.Dispose();
        }
    }
}
