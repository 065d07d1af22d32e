// These tests exercise blocking APIs from threads of their own: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Operations right after the server forgot its scripts (SCRIPT FLUSH, as after a restart or a failover): each script is
    /// first refused with NOSCRIPT and sent again. StackExchange.Redis's synchronous calls recycle a per-thread result box
    /// that the previous command's late completion could still wake: a synchronous ScriptEvaluate then answered null (read
    /// as the object damaged), and the calls after it on that thread each the answer of the one before.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisScriptFlushTests : RedisTestBase
    {
        public RedisScriptFlushTests(RedisFixture f) : base(f) { }

        /// <summary>SCRIPT FLUSH, sent without a synchronous wait of the client (the bug under test is in those).</summary>
        private static void Flush(RedisBackend b) =>
            Assert.True(b.Database.ExecuteAsync("SCRIPT", "FLUSH").Wait(TimeSpan.FromSeconds(30)), "SCRIPT FLUSH was not answered");

        [Fact]
        public void Queue_lock_event_and_value_operations_each_get_their_own_answer_right_after_the_server_flushed_its_scripts()
        {
            // Three threads, each with a server of its own (no thread flushes another's scripts): a thread's flush comes
            // before each operation, so every script is refused with NOSCRIPT first and sent again.
            var servers = new List<RedisServer>();
            var backends = new List<RedisBackend>();
            try
            {
                for (int t = 0; t < 3; t++)
                {
                    servers.Add(new RedisServer());
                    backends.Add(RedisBackend.ConnectPrivate(servers[t].Uri, TimeSpan.FromSeconds(10)));
                }
                var before = servers.Select(NoScriptErrors).ToArray();
                var rounds = RunRounds(backends, flush: b => Flush(b));
                for (int t = 0; t < servers.Count; t++)   // every operation met a flushed cache (the path under test)
                    Assert.True(NoScriptErrors(servers[t]) - before[t] >= 9 * (rounds[t] - 1), $"server {t}: {NoScriptErrors(servers[t]) - before[t]} NOSCRIPT answers for {rounds[t]} rounds");
            }
            finally
            {
                foreach (var b in backends) b.Dispose();
                foreach (var s in servers) s.Dispose();
            }
        }

        [Fact]
        public void Scripts_flushed_again_by_other_clients_while_they_are_sent_again_still_run_once()
        {
            // One server, three threads flushing it before each of their operations: a script sent again after NOSCRIPT
            // can meet another thread's flush too.
            long before = NoScriptErrors(Fixture.Server!);
            var rounds = RunRounds(new[] { B, B, B }, flush: Flush);
            Assert.True(NoScriptErrors(Fixture.Server!) - before >= rounds.Sum(), $"only {NoScriptErrors(Fixture.Server!) - before} NOSCRIPT answers for {rounds.Sum()} rounds");
        }

        [Fact]
        public void List_names_every_object_with_its_kind_among_keys_of_another_type()
        {
            // Each key of another type under ipcps:{…} answers List's kind lookup with WRONGTYPE: the synchronous lookup
            // after such an error answered nothing (an object left out) or the lookup before it's kind.
            string prefix = "l" + Guid.NewGuid().ToString("N").Substring(0, 8) + "_";
            var made = new List<RedisObject>();
            var junk = Enumerable.Range(0, 80).Select(i => (StackExchange.Redis.RedisKey)("ipcps:{" + prefix + "junk" + i + "}")).ToArray();
            try
            {
                for (int i = 0; i < 40; i++) made.Add(i % 2 == 0 ? B.Queue(prefix + i) : B.Lock(prefix + i));
                foreach (var k in junk) Assert.True(B.Database.StringSetAsync(k, "x").Wait(TimeSpan.FromSeconds(30)));
                var expected = made.OrderBy(o => o.Name, StringComparer.Ordinal).Select(o => $"{o.Name}:{o.Kind}").ToList();
                // Three threads listing at once, up to 40 lists each within about 5 s (a loaded machine does fewer).
                var budget = Stopwatch.StartNew();
                var wrong = new List<string>();
                int[] lists = new int[3];
                var threads = Enumerable.Range(0, 3).Select(t => new Thread(() =>
                {
                    try
                    {
                        for (; lists[t] < 40 && budget.Elapsed < TimeSpan.FromSeconds(5); lists[t]++)
                        {
                            var got = B.List(prefix + "*").Select(o => $"{o.Name}:{o.Kind}").ToList();
                            if (!got.SequenceEqual(expected))
                                throw new Exception($"List left out {string.Join(", ", expected.Except(got))} and named {string.Join(", ", got.Except(expected))}");
                        }
                    }
                    catch (Exception x) { lock (wrong) wrong.Add($"thread {t}, list {lists[t]}: {x.GetType().Name}: {x.Message}"); }
                }) { IsBackground = true }).ToList();
                foreach (var th in threads) th.Start();
                foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(60)), "a thread did not finish within 60 s");
                Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
                Assert.All(lists, n => Assert.True(n >= 5, $"a thread ran only {n} lists"));
            }
            finally
            {
                foreach (var o in made) { o.Unlink(); o.Dispose(); }
                B.Database.KeyDeleteAsync(junk).Wait(TimeSpan.FromSeconds(30));
            }
        }

        [Fact]
        public void A_null_from_the_client_is_no_answer_never_the_object_damaged()
        {
            // Redis's own nil is a RedisResult; a null is the client's "no answer": a change's outcome is unknown, a read unavailable.
            Assert.Throws<IpcBackendOutcomeUnknownException>(() => B.Answered(null, "Put", "x", write: true));
            Assert.Throws<IpcBackendUnavailableException>(() => B.Answered(null, "QSize", "x", write: false));
            var nil = StackExchange.Redis.RedisResult.Create(StackExchange.Redis.RedisValue.Null);
            Assert.Same(nil, B.Answered(nil, "Get", "x", write: false));
        }

        /// <summary>
        /// One thread per backend of BACKENDS, each running up to 400 rounds of 9 operations on objects of its own (within
        /// about 6 s: a loaded machine does fewer), FLUSH before each; every answer checked. The rounds each thread ran.
        /// </summary>
        private int[] RunRounds(IReadOnlyList<RedisBackend> backends, Action<RedisBackend> flush)
        {
            var budget = Stopwatch.StartNew();
            var failures = new List<string>();
            int[] rounds = new int[backends.Count];
            var threads = Enumerable.Range(0, backends.Count).Select(t => new Thread(() =>
            {
                var b = backends[t];
                using var q = b.Queue(NewName());
                using var l = b.Lock(NewName());
                using var e = b.Event(NewName());
                using var v = b.Value(NewName(), new IpcBackendOptions { DataType = IpcDataType.Parse("q") });
                try
                {
                    for (int i = 0; i < 400 && budget.Elapsed < TimeSpan.FromSeconds(6); i++)
                    {
                        flush(b); q.Put(i);
                        flush(b); Same(i, q.Get(false), "the queue's Get");
                        flush(b); Same(true, l.Acquire(false), "the lock's Acquire");
                        flush(b); l.Release();
                        flush(b); e.Set();
                        flush(b); Same(true, e.IsSet(), "the event's IsSet after Set");
                        flush(b); e.Clear();
                        flush(b); v.Set((long)i);
                        flush(b); Same((long)i + 1, v.Add(1L), "the value's Add");
                        rounds[t]++;
                    }
                }
                catch (Exception x) { lock (failures) failures.Add($"thread {t}, round {rounds[t]}: {x.GetType().Name}: {x.Message}"); }
                finally { foreach (var o in new RedisObject[] { q, l, e, v }) try { o.Unlink(); } catch (Exception) { } }
            }) { IsBackground = true }).ToList();
            foreach (var th in threads) th.Start();
            foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(60)), "a thread did not finish within 60 s");
            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
            Assert.All(rounds, r => Assert.True(r >= 20, $"a thread ran only {r} rounds"));
            return rounds;

            static void Same(object expected, object? actual, string what)
            {
                if (!Equals(expected, actual)) throw new Exception($"{what} answered {actual ?? "null"} ({actual?.GetType().Name}), not {expected}");
            }
        }

        /// <summary>How many NOSCRIPT errors the server has answered (INFO errorstats), asked on a connection of its own.</summary>
        private static long NoScriptErrors(RedisServer server)
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, server.Port);
            using var s = c.GetStream();
            s.ReadTimeout = 5000;
            s.Write(System.Text.Encoding.ASCII.GetBytes($"AUTH {RedisServer.Password}\r\nINFO errorstats\r\nQUIT\r\n"));
            using var reader = new StreamReader(s, System.Text.Encoding.ASCII);
            foreach (var line in reader.ReadToEnd().Split('\n'))   // the server closes the connection after QUIT
            {
                if (!line.StartsWith("errorstat_NOSCRIPT:count=", StringComparison.Ordinal)) continue;
                return long.Parse(line.Substring(25).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            return 0;
        }
    }
}
