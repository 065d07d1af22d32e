// These tests run barrier waits on threads, each bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A barrier arrival whose answer was lost (BackendOutcomeUnknown) and that its caller tries again on the same handle
    /// counts once: the handle sends it again with the same token, which the script knows. It used to count twice (with
    /// two parties, the retry alone released the round).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisBarrierRetryTests
    {
        public RedisBarrierRetryTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void An_arrival_whose_answer_was_lost_counts_once_when_tried_again()
        {
            using var server = new RedisServer();
            using var proxy = new RedisReplyHoldingProxy(server.Port);
            using var cut = RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{proxy.Port}", TimeSpan.FromSeconds(5));
            using var direct = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            string name = "bar" + Guid.NewGuid().ToString("N").Substring(0, 10);
            using (var one = cut.Barrier(name + "w", new IpcBackendOptions { Parties = 1 })) { Assert.Equal(0, one.Wait(5)); one.Unlink(); }   // the script loaded

            using var a = cut.Barrier(name, new IpcBackendOptions { Parties = 2 });
            using var b = (RedisBarrier)direct.Open(name, IpcObjectKind.Barrier);
            proxy.DropReplyAfter(b.Name + "}:bar");   // the arrival (its channel argument); not the state reads after it
            Assert.Throws<IpcBackendOutcomeUnknownException>(() => a.Wait(20));
            Assert.True(proxy.Held.IsSet);
            Assert.Equal(1, b.NWaiting);   // it did arrive

            var retry = Task.Run(() => a.Wait(20));   // the same arrival: still one of two
            Assert.False(retry.Wait(300), "the retry counted as a second party and released the round alone");
            Assert.Equal(1, b.NWaiting);
            int other = b.Wait(20);
            Assert.True(retry.Wait(20000), "the retry was not released by the second party");
            Assert.Equal(new[] { 0, 1 }, new[] { retry.Result, other });   // its own index, 0, as counted the first time
            Assert.Equal(0, b.NWaiting);

            // The next round: a new arrival (no token left pending on the handle), counted anew.
            var next = Task.Run(() => a.Wait(20));
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            while (b.NWaiting == 0) { Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), "the next arrival never came"); System.Threading.Thread.Sleep(10); }
            Assert.Equal(1, b.Wait(20));
            Assert.True(next.Wait(20000));
            Assert.Equal(0, next.Result);
            b.Unlink();
        }

        [Fact]
        public void The_last_arrival_whose_answer_was_lost_finds_its_round_released_when_tried_again()
        {
            using var server = new RedisServer();
            using var proxy = new RedisReplyHoldingProxy(server.Port);
            using var cut = RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{proxy.Port}", TimeSpan.FromSeconds(5));
            using var direct = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(5));
            string name = "bar" + Guid.NewGuid().ToString("N").Substring(0, 10);
            using (var one = cut.Barrier(name + "w", new IpcBackendOptions { Parties = 1 })) { Assert.Equal(0, one.Wait(5)); one.Unlink(); }

            using var a = cut.Barrier(name, new IpcBackendOptions { Parties = 2 });
            using var b = (RedisBarrier)direct.Open(name, IpcObjectKind.Barrier);
            var first = Task.Run(() => b.Wait(20));
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            while (b.NWaiting == 0) { Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), "the first party never arrived"); System.Threading.Thread.Sleep(10); }
            proxy.DropReplyAfter(b.Name + "}:bar");
            Assert.Throws<IpcBackendOutcomeUnknownException>(() => a.Wait(20));   // it released the round; its answer was lost
            Assert.True(first.Wait(20000));
            Assert.Equal(0, first.Result);

            Assert.Equal(1, a.Wait(20));   // the same arrival: the round it released, at once, with its index
            Assert.Equal(0, b.NWaiting);   // not counted into the next round
            b.Unlink();
        }
    }
}
