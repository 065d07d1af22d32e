// These tests exercise blocking APIs from threads, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The Redis notifier's subscriptions: a channel is subscribed while a wait watches it and only then, and a watcher
    /// never loses its subscription to another thread's unsubscribing (Notifier's invariant).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisNotifierTests : RedisTestBase
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);   // a loaded 2-CPU machine
        public RedisNotifierTests(RedisFixture f) : base(f) { }

        /// <summary>The server's subscribers of CHANNEL (every client: only this test's connect to its server).</summary>
        private long Subscribers(string channel) => (long)((RedisResult[])B.Database.Execute("PUBSUB", "NUMSUB", channel)!)[1];

        private string[] IpcChannels() => ((RedisResult[])B.Database.Execute("PUBSUB", "CHANNELS", "ipcps:*")!).Select(r => (string)r!).ToArray();

        private void Publish(string channel) => B.Database.Publish(RedisChannel.Literal(channel), "x");

        [Fact]
        public void A_watcher_is_woken_by_every_publish_while_other_threads_watch_and_leave_its_channel_over_and_over()
        {
            string channel = B.Channel(NewName(), "ev");
            using var stop = new CancellationTokenSource();
            B.Notifier.Linger = TimeSpan.Zero;   // a channel without watchers is unsubscribed at once (by a sweep of its own)
            // Each churn round is a first watcher (subscribing) or a last one (unsubscribed) as often as the race allows.
            // On threads of their own: the churn must not take the thread pool, whose threads read Redis's replies.
            var churn = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() => { while (!stop.IsCancellationRequested) B.Notifier.Watch(channel).Dispose(); },
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            try
            {
                for (int round = 0; round < 300; round++)
                {
                    using var watcher = B.Notifier.Watch(channel);
                    var signal = watcher.Signal;   // nothing but a message completes it (the connection stays up)
                    Publish(channel);
                    Assert.True(signal.Wait(Generous), $"Round {round}: the publish did not wake the watcher (its channel was unsubscribed under it).");
                }
            }
            finally
            {
                stop.Cancel();
                Assert.True(Task.WaitAll(churn, Generous));
                B.Notifier.Linger = Notifier.DefaultLinger;
            }
            // The last watcher's channel is unsubscribed by a sweep, its UNSUBSCRIBE not waited for.
            PlatformTesting.WaitUntil(() => Subscribers(channel) == 0, Generous, "the channel to be unsubscribed once nothing watches it");
        }

        [Fact]
        public void A_reconnection_subscribes_the_watched_channels_again_and_none_of_those_no_longer_watched()
        {
            string watched = B.Channel(NewName(), "get"), left = B.Channel(NewName(), "get");
            B.Notifier.Watch(left).Dispose();
            using var watcher = B.Notifier.Watch(watched);
            PlatformTesting.WaitUntil(() => IpcChannels().SequenceEqual(new[] { watched }), Generous, "the channel left to be unsubscribed (its linger over)");
            Assert.Equal(1L, (long)B.Database.Execute("CLIENT", "KILL", "TYPE", "pubsub"));   // the subscription connection: the client reconnects it
            PlatformTesting.WaitUntil(() => IpcChannels().SequenceEqual(new[] { watched }), Generous, "the watched channel to be subscribed again");
            var signal = watcher.Signal;   // taken after the restore (which signals every watched channel)
            Publish(watched);
            Assert.True(signal.Wait(Generous), "A publish after the reconnection did not wake the watcher.");
        }

        /// <summary>
        /// The test program's pool makes threads at once (IpcPs.Tests.csproj, ThreadPoolMinThreads). On Linux a Redis reply
        /// is read, and a pub/sub message handed to its handler, on a pool thread. Here 4 pool threads are held in
        /// synchronous waits, as a neighbouring test class's tests hold them, and 3 more subscribe and unsubscribe the
        /// channel over and over in synchronous round trips: with the pool's default minimum (the CPU count), a reply went
        /// unread for the client's whole 5 s timeout (RedisTimeoutException on PUBLISH, as on CI on 2026-12-06), or the
        /// wake-up never came.
        /// </summary>
        [Fact]
        public void Round_trips_and_wake_ups_come_while_other_tests_hold_pool_threads_in_synchronous_waits()
        {
            string channel = B.Channel(NewName(), "ev");
            using var release = new ManualResetEventSlim();
            using var held = new CountdownEvent(4);
            var holders = Enumerable.Range(0, 4).Select(_ => Task.Run(() => { held.Signal(); release.Wait(); })).ToArray();
            B.Notifier.Linger = TimeSpan.Zero;
            var churn = Enumerable.Range(0, 3).Select(_ => Task.Run(() => { while (!release.IsSet) B.Notifier.Watch(channel).Dispose(); })).ToArray();
            try
            {
                Assert.True(held.Wait(Generous), "The pool did not run 4 work items at once.");
                for (int round = 0; round < 100; round++)
                {
                    using var watcher = B.Notifier.Watch(channel);
                    var signal = watcher.Signal;
                    Publish(channel);
                    Assert.True(signal.Wait(Generous), $"Round {round}: the publish did not wake the watcher.");
                }
            }
            finally
            {
                release.Set();
                Assert.True(Task.WaitAll(holders.Concat(churn).ToArray(), Generous));
                B.Notifier.Linger = Notifier.DefaultLinger;
            }
        }
    }
}
