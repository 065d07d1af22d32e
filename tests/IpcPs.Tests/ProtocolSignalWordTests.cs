using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// SignalWord, the one spin-then-sleep wait (docs/design.md, "Synchronisation"): a waker bumps the signal and then
    /// wakes only if a sleeper is counted; a waiter counts itself before its futex wait compares the signal. So no wake-up
    /// is ever lost — checked here with waits that have no liveness slice to rescue a lost one, and on a queue so small
    /// that every put and get sleeps and wakes the other side.
    /// </summary>
    public sealed unsafe class ProtocolSignalWordTests
    {
        // The ping-pong segment: ping signal, its sleepers, pong signal, its sleepers.
        private const int Ping = 0, PingSleepers = 4, PongSignal = 8, PongSleepers = 12;
        private const int Rounds = 20_000;

        /// <summary>
        /// Waits (no spinning, no slice: only a wake-up or a change of the word ends the sleep) until *SIGNAL moves on from
        /// SEEN; fails when 10 s pass first, which only a lost wake-up can make happen.
        /// </summary>
        private static void AwaitMove(byte* b, int signal, int sleepers, int seen, string who)
        {
            long spinUntil = 0;
            var deadline = Deadline.After(TimeSpan.FromSeconds(10));
            while (Volatile.Read(ref *(int*)(b + signal)) == seen)
            {
                if (!SignalWord.Await((int*)(b + signal), (int*)(b + sleepers), seen, deadline, CancellationToken.None, ref spinUntil, 0, -1)
                    && deadline.HasPassed)
                    throw new TimeoutException($"{who}: the signal stayed at {seen} for 10 s: a wake-up was lost.");
            }
        }

        private static void Bump(byte* b, int signal, int sleepers)
        {
            Interlocked.Increment(ref *(int*)(b + signal));   // a full fence before the sleepers are read
            SignalWord.Wake((int*)(b + signal), (int*)(b + sleepers), 1);
        }

        /// <summary>The worker's side ("pong SEGMENT ROUNDS"): answers each ping with a pong.</summary>
        internal static void Pong(string segment, int rounds)
        {
            // A waitable segment: on Windows a word wait needs the segment's sleepers table.
            using var raw = PlatformTesting.WordSegment.Open(segment);
            for (int r = 0; r < rounds; r++)
            {
                AwaitMove(raw.Base, Ping, PingSleepers, r, "pong");
                Bump(raw.Base, PongSignal, PongSleepers);
            }
        }

        [Fact]
        public void NoWakeUpIsLostBetweenTwoProcesses()
        {
            using var raw = PlatformTesting.WordSegment.Create(PlatformTesting.NewName("signal"), 64);
            using var w = WorkerProcess.Start(new[] { "protocol" });
            w.Send($"pong {raw.Name} {Rounds}");
            for (int r = 0; r < Rounds; r++)
            {
                Bump(raw.Base, Ping, PingSleepers);
                AwaitMove(raw.Base, PongSignal, PongSleepers, r, "ping");
            }
            Assert.Equal("ok", w.Next(TimeSpan.FromSeconds(30)));
            Assert.Equal((Rounds, Rounds, 0, 0), (*raw.Word(Ping), *raw.Word(PongSignal), *raw.Word(PingSleepers), *raw.Word(PongSleepers)));
        }

        /// <summary>
        /// Two producer processes and two consumer threads through a queue of four blocks holding at most two messages:
        /// putters and getters sleep and wake each other all the time. Every message arrives exactly once, each
        /// producer's in the order it put them.
        /// </summary>
        [Fact]
        public void ATinyQueueCarriesEveryMessageOnceBetweenSleepingProducersAndConsumers()
        {
            const int Producers = 2, Each = 5_000;
            using var q = IpcQueue.Create(null, maxSize: 2, capacity: IpcQueue.MinimumCapacity);
            var workers = Enumerable.Range(1, Producers).Select(_ => WorkerProcess.Start(new[] { "protocol" })).ToArray();
            try
            {
                for (int i = 0; i < Producers; i++) workers[i].Send($"put {q.Name} {i + 1} {Each}");
                int remaining = Producers * Each;
                var consumers = Enumerable.Range(0, 2).Select(_ => Eventually.OnThread(() =>
                {
                    var got = new List<long>();
                    IMessageChannel channel = q;
                    while (Interlocked.Decrement(ref remaining) >= 0)
                    {
                        // A lost wake-up costs a liveness slice here, not a hang: the limit is for a lost message.
                        Assert.True(channel.TryReceive(TimeSpan.FromSeconds(30), CancellationToken.None, out var m), "A message did not come within 30 s.");
                        got.Add((long)m!);
                    }
                    return got;
                })).ToArray();
                var lists = consumers.Select(c => Eventually.Within(c, 120, "a consumer")).ToArray();
                foreach (var w in workers) Assert.Equal("ok", w.Next(TimeSpan.FromSeconds(30)));
                var all = lists.SelectMany(l => l).ToList();
                Assert.Equal(Producers * Each, all.Count);
                Assert.Equal(Producers * Each, all.Distinct().Count());
                for (int id = 1; id <= Producers; id++)
                    Assert.Equal(Enumerable.Range(1, Each).Select(s => ChaosWorker.Message(id, s)), all.Where(m => m >> 32 == id).OrderBy(m => m));
                foreach (var list in lists)
                    for (int id = 1; id <= Producers; id++)
                    {
                        var mine = list.Where(m => m >> 32 == id).ToList();
                        Assert.True(mine.SequenceEqual(mine.OrderBy(m => m)), $"A consumer got producer {id}'s messages out of order.");
                    }
                Assert.Equal(0, q.QSize());
                Assert.Equal(0, q.UsedBytes);
            }
            finally
            {
                foreach (var w in workers) w.Dispose();
                q.Unlink();
            }
        }
    }
}
