// These tests exercise blocking APIs from threads, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>Wrong credentials, unreachable servers, a server killed and restarted mid-run: clear errors within the timeouts.</summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisFaultTests
    {
        public RedisFaultTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void A_wrong_password_an_unreachable_port_and_a_silent_server_fail_clearly_within_the_connect_timeout()
        {
            using var server = new RedisServer();
            var sw = Stopwatch.StartNew();
            var auth = Assert.Throws<IpcBackendAuthenticationException>(() => RedisBackend.ConnectPrivate($"redis://:wrong@127.0.0.1:{server.Port}", TimeSpan.FromSeconds(2)));
            Assert.DoesNotContain("wrong", auth.Message.Replace("wrong user", ""));   // the password is never in an error
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2) + Margin, $"took {sw.Elapsed}");

            int closed = RedisServer.FreePort();
            sw.Restart();
            Assert.Throws<IpcBackendUnavailableException>(() => RedisBackend.ConnectPrivate($"redis://127.0.0.1:{closed}", TimeSpan.FromSeconds(1)));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1) + Margin, $"took {sw.Elapsed}");

            // A server that accepts and never answers.
            var silent = new TcpListener(IPAddress.Loopback, 0);
            silent.Start();
            var accepted = new List<Socket>();
            silent.BeginAcceptSocket(a => { try { lock (accepted) accepted.Add(silent.EndAcceptSocket(a)); } catch (ObjectDisposedException) { } }, null);
            try
            {
                sw.Restart();
                Assert.Throws<IpcBackendUnavailableException>(() => RedisBackend.ConnectPrivate($"redis://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", TimeSpan.FromSeconds(1)));
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1) + Margin, $"took {sw.Elapsed}");
            }
            finally
            {
                silent.Stop();
                lock (accepted) foreach (var s in accepted) s.Dispose();
            }
        }

        /// <summary>A Redis command's own timeout (RedisBackend.OperationTimeout, documented as 5 s).</summary>
        private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

        /// <summary>How much later than its timeout a call may end on a loaded machine: generous, and well under a second timeout.</summary>
        private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

        [Fact]
        public void A_put_while_the_server_is_down_fails_within_the_operation_timeout_whatever_the_connect_timeout()
        {
            using var server = new RedisServer();
            // A long connect timeout governs connecting only; before, it also made every command wait 10 s.
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(10));
            using var q = b.Queue("down_" + Guid.NewGuid().ToString("N").Substring(0, 8));
            q.Put(1);
            server.Kill();
            WaitUntilDisconnected(b);   // so the put is not sent (nothing in flight): it waits for the connection
            var sw = Stopwatch.StartNew();
            Assert.Throws<IpcBackendUnavailableException>(() => q.Put(2));
            Assert.True(sw.Elapsed < OperationTimeout + Margin, $"the put took {sw.Elapsed}: past the operation timeout ({OperationTimeout})");
        }

        [Fact]
        public void Calls_with_a_timeout_end_within_it_while_the_server_is_down()
        {
            using var server = new RedisServer();
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(2));
            string id = Guid.NewGuid().ToString("N").Substring(0, 8);
            using var q = b.Queue("downq_" + id);
            using var e = b.Event("downe_" + id);
            using var l = b.Lock("downl_" + id);
            Assert.Throws<QueueEmptyException>(() => q.Get(true, 0.05));   // the queue's channel is subscribed, the event's and the lock's not yet

            // Killed while a get waits (its first check done): the check it makes on the wake-up finds no connection.
            long evals = server.ScriptCalls();
            var waiting = Stopwatch.StartNew();
            var getter = System.Threading.Tasks.Task.Run(() => q.Get(true, 1.5));
            while (server.ScriptCalls() == evals) { Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), "the get never checked the queue"); Thread.Sleep(10); }
            server.Kill();
            var ex = Assert.ThrowsAny<Exception>(() => getter.GetAwaiter().GetResult());
            Assert.True(ex is IpcBackendUnavailableException || ex is IpcBackendOutcomeUnknownException || ex is QueueEmptyException, $"{ex.GetType()}: {ex.Message}");
            Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(1.5) + Margin, $"a get with a 1.5 s timeout took {waiting.Elapsed}");

            WaitUntilDisconnected(b);
            var second = TimeSpan.FromSeconds(1);
            Within("a get with a 1 s timeout", second, () => q.Get(true, 1));
            Within("a get that does not wait", TimeSpan.Zero, () => q.Get(false));
            Within("a send with a 1 s timeout", second, () => ((IMessageChannel)q).TrySend(1, null, null, second, CancellationToken.None));
            Within("an event's first wait", second, () => e.Wait(second, CancellationToken.None));
            Within("a lock's first acquisition", second, () => l.TryAcquire(second, CancellationToken.None));

            static void Within(string what, TimeSpan timeout, Action call)
            {
                var sw = Stopwatch.StartNew();
                Assert.Throws<IpcBackendUnavailableException>(call);   // nothing could be sent
                Assert.True(sw.Elapsed < timeout + Margin, $"{what} took {sw.Elapsed} to fail with the server down");
            }
        }

        [Fact]
        public void A_wait_whose_server_stops_answering_ends_at_its_timeout()
        {
            using var server = new RedisServer();
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(2));
            using var q = b.Queue("stopped_" + Guid.NewGuid().ToString("N").Substring(0, 8));
            // One get first: the first get of a handle on a new server can run more than one script (a CI run paused the
            // server after the first of them, and the next was sent and waited its operation timeout, as it must). A later
            // get runs one script, then sleeps (measured: one); the server is paused once it has run it.
            Assert.Throws<QueueEmptyException>(() => q.Get(true, 0.2));
            long evals = server.ScriptCalls();
            var waiting = Stopwatch.StartNew();
            var getter = System.Threading.Tasks.Task.Run(() => q.Get(true, 2));
            while (server.ScriptCalls() == evals) { Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), "the get never checked the queue"); Thread.Sleep(10); }
            RedisServer.Signal(server.Pid, RedisServer.SIGSTOP);   // the connection stays up; nothing answers (a pause, a partition)
            try
            {
                // Nothing was published while it waited, so nothing changed that its first check did not see: it times out
                // (before, it checked once more at the deadline and waited the 5 s operation timeout for the answer).
                Assert.Throws<QueueEmptyException>(() => getter.GetAwaiter().GetResult());
                Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(2) + Margin, $"a get with a 2 s timeout took {waiting.Elapsed}");
            }
            finally { RedisServer.Signal(server.Pid, RedisServer.SIGCONT); }
        }

        [Fact]
        public void A_server_that_answers_the_handshake_and_then_nothing_fails_within_the_connect_timeout()
        {
            using var server = new RedisServer();
            using var proxy = new RedisMuteProxy(server.Port);
            var sw = Stopwatch.StartNew();
            // The connection is made, then its first PING is never answered: the client's own (it gave up on the connection
            // and waited 5 s for the answer to its QUIT) or the one that checks the user's rights (it waited 5 s).
            Assert.Throws<IpcBackendUnavailableException>(() => RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{proxy.Port}", TimeSpan.FromSeconds(1)));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1) + Margin, $"a connect with a 1 s timeout took {sw.Elapsed}");
        }

        [Fact]
        public void A_connect_does_not_wait_for_another_threads_connect_to_another_server()
        {
            using var server = new RedisServer();
            var silent = new TcpListener(IPAddress.Loopback, 0);   // accepts, never answers
            silent.Start();
            var accepted = new List<Socket>();
            using var underWay = new ManualResetEventSlim();
            silent.BeginAcceptSocket(a => { try { lock (accepted) accepted.Add(silent.EndAcceptSocket(a)); underWay.Set(); } catch (ObjectDisposedException) { } }, null);
            try
            {
                var stuck = System.Threading.Tasks.Task.Run(() => RedisBackend.Connect($"redis://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", TimeSpan.FromSeconds(6)));
                Assert.True(underWay.Wait(TimeSpan.FromSeconds(20)), "the first connect never reached its server");
                var sw = Stopwatch.StartNew();
                using (RedisBackend.Connect(server.Uri, TimeSpan.FromSeconds(1))) { }   // the process's shared connections: one per address
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1) + Margin, $"a connect with a 1 s timeout took {sw.Elapsed} while another thread connected elsewhere");
                Assert.Throws<IpcBackendUnavailableException>(() => stuck.GetAwaiter().GetResult());
            }
            finally
            {
                silent.Stop();
                lock (accepted) foreach (var s in accepted) s.Dispose();
            }
        }

        [Fact]
        public void After_a_restart_the_client_is_back_within_the_operation_timeout_whatever_the_connect_timeout()
        {
            using var server = new RedisServer(appendOnly: true);   // the queue survives the restart
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(20));
            using var q = b.Queue("back_" + Guid.NewGuid().ToString("N").Substring(0, 8));
            q.Put(1);
            server.Kill();
            WaitUntilDisconnected(b);   // its first try to reconnect, at once, was refused
            server.Start();
            // The put waits for the connection, at most the operation timeout: the client tries again within it (it first
            // tried again half the connect timeout later, 10 s here, and the put failed).
            q.Put(2);
            Assert.Equal(new object[] { 1, 2 }, q.GetMany(10, 0));
            q.Unlink();
        }

        /// <summary>Until the client has seen its connection fail (a killed server's socket closes at once; polled with a deadline).</summary>
        private static void WaitUntilDisconnected(RedisBackend b)
        {
            var deadline = Stopwatch.StartNew();
            while (b.IsConnected)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "the client never saw the server go");
                Thread.Sleep(10);
            }
        }

        [Fact]
        public void A_server_killed_and_restarted_mid_run_loses_nothing_acknowledged_and_nothing_hangs()
        {
            using var server = new RedisServer(appendOnly: true);   // durability is the server's: fsync on every write
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(2));
            using var q = b.Queue("restart_" + Guid.NewGuid().ToString("N").Substring(0, 8));
            var acknowledged = new List<long>();
            var unknown = new List<long>();
            var failures = new List<Type>();
            TimeSpan longest = TimeSpan.Zero;
            var sw = Stopwatch.StartNew();
            bool killed = false, restarted = false;
            for (long i = 0; i < 3000 && sw.Elapsed < TimeSpan.FromSeconds(60); i++)
            {
                if (i == 1000) { server.Kill(); killed = true; }
                if (killed && !restarted && failures.Count >= 3) { server.Start(); restarted = true; }
                var op = Stopwatch.StartNew();
                try { q.Put(i); acknowledged.Add(i); }
                catch (IpcBackendOutcomeUnknownException) { unknown.Add(i); failures.Add(typeof(IpcBackendOutcomeUnknownException)); }
                catch (IpcBackendUnavailableException) { failures.Add(typeof(IpcBackendUnavailableException)); }
                if (op.Elapsed > longest) longest = op.Elapsed;
            }
            Assert.True(restarted, "the server was never restarted (no put failed while it was down)");
            Assert.True(longest < OperationTimeout + Margin, $"a put took {longest}: past the operation timeout ({OperationTimeout})");
            Assert.True(acknowledged.Count > 2000, $"only {acknowledged.Count} puts were acknowledged: no reconnection");
            var got = new HashSet<long>();
            while (true)
            {
                var batch = q.GetMany(500, 0);
                if (batch.Length == 0) break;
                foreach (var m in batch) Assert.True(got.Add(Convert.ToInt64(m)), $"{m} got twice");
            }
            foreach (long a in acknowledged) Assert.True(got.Contains(a), $"the acknowledged put {a} was lost");
            foreach (long g in got) Assert.True(acknowledged.Contains(g) || unknown.Contains(g), $"{g} was stored though its put failed as not sent");
            q.Unlink();
        }
    }
}
