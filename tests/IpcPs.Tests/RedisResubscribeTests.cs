// These tests exercise blocking APIs from threads, each wait bounded by its own deadline: blocking waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A waiter whose subscription connection is cut and made again: the client tells of the restored connection as soon
    /// as it has SENT its resubscriptions, before the server has them. A change published in between is lost; the waiter
    /// must not sleep past it (it checks again once the server has the subscriptions).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisResubscribeTests
    {
        public RedisResubscribeTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void A_put_published_before_the_server_has_the_resubscription_still_wakes_the_waiting_get()
        {
            using var server = new RedisServer();
            using var proxy = new RedisHoldingProxy(server.Port);
            using var b = RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{proxy.Port}/0", TimeSpan.FromSeconds(5));
            using var other = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            string name = "rs" + Guid.NewGuid().ToString("N").Substring(0, 10);
            using var q = b.Queue(name);
            using var q2 = (RedisQueue)other.Open(name, IpcObjectKind.Queue);
            var restored = new ManualResetEventSlim(false);
            b.Database.Multiplexer.ConnectionRestored += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) restored.Set(); };

            object? got = null;
            var waiter = new Thread(() =>
            {
                try { got = q.Get(true, 30); }
                catch (Exception e) { got = e.GetType().Name; }   // QueueEmptyException: it slept to its timeout
            }) { IsBackground = true };
            waiter.Start();
            string channel = "ipcps:0:{" + name + "}:get";   // what a Get waits on (a Put publishes there)
            var until = Stopwatch.StartNew();
            while (Subscribers(other, channel) != 1) { Assert.True(until.Elapsed < TimeSpan.FromSeconds(20), "the get never subscribed"); Thread.Sleep(10); }

            proxy.Arm();
            proxy.CutSubscribers();   // the subscription connection fails; the client connects it again through the proxy
            Assert.True(proxy.Held.Wait(TimeSpan.FromSeconds(20)), "the client never resubscribed");
            Assert.True(restored.Wait(TimeSpan.FromSeconds(20)), "the client never told of its restored subscription connection");
            // The waiter checks again when told (it may have done so already): let that check reach the server.
            long calls = server.ScriptCalls();
            until.Restart();
            while (server.ScriptCalls() == calls && until.Elapsed < TimeSpan.FromSeconds(2)) Thread.Sleep(10);

            q2.Put(42);   // published while the server does not have the waiter's subscription yet: lost
            var put = Stopwatch.StartNew();
            proxy.Release();
            Assert.True(waiter.Join(TimeSpan.FromSeconds(60)));
            Assert.Equal(42, got);
            Assert.True(put.Elapsed < TimeSpan.FromSeconds(20), $"the get slept {put.Elapsed.TotalSeconds:0.#} s past the put, until its timeout");
        }

        private static long Subscribers(RedisBackend b, string channel)
        {
            var r = b.Database.ExecuteAsync("PUBSUB", "NUMSUB", channel).Result;
            return (long)((RedisResult[])r!)[1];
        }
    }
}
