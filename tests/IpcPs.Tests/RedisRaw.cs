// The raw commands wait for their tasks, and an operation runs on a task of its own whose end is waited for with a
// bound: blocking waits are the point of the tests that use these.
#pragma warning disable xUnit1031

using System;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// What the Redis damage tests (RedisPartialWriteTests, RedisLockDamageTests, RedisQueueDamageTests) do with raw
    /// commands: wait for an answer within a bound, read every key of an object whole, and run an operation that must
    /// fail rather than wait on the damage.
    /// </summary>
    internal static class RedisRaw
    {
        public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

        /// <summary>ASKED's answer; fails the test when Redis did not answer within <see cref="Bound"/>.</summary>
        public static T Sync<T>(Task<T> asked)
        {
            Assert.True(asked.Wait(Bound), "Redis did not answer within 30 s");
            return asked.Result;
        }

        /// <summary>COMMAND (its name, then its arguments) sent as it is.</summary>
        public static void Command(IDatabase db, params object[] command) => Sync(db.ExecuteAsync((string)command[0], command.Skip(1).ToArray()));

        /// <summary>Every key the object NAME may have: its type, expiry time and whole value (hex, sorted where Redis has no order).</summary>
        public static string Snapshot(IDatabase db, string name)
        {
            static string Hex(RedisValue v) => Convert.ToHexString((byte[]?)v ?? Array.Empty<byte>());
            var s = new StringBuilder();
            foreach (var key in RedisBackend.ObjectKeys(name))
            {
                var type = Sync(db.KeyTypeAsync(key));
                s.Append(key).Append(' ').Append(type).Append(" expires ").Append(Sync(db.ExecuteAsync("PEXPIRETIME", key))).Append(": ");
                s.Append(type switch
                {
                    RedisType.None => "",
                    RedisType.String => Hex(Sync(db.StringGetAsync(key))),
                    RedisType.List => string.Join(",", Sync(db.ListRangeAsync(key)).Select(Hex)),
                    RedisType.Hash => string.Join(",", Sync(db.HashGetAllAsync(key)).Select(e => $"{e.Name}={Hex(e.Value)}").OrderBy(x => x, StringComparer.Ordinal)),
                    RedisType.SortedSet => string.Join(",", Sync(db.SortedSetRangeByRankWithScoresAsync(key)).Select(e => $"{e.Element}@{e.Score:R}")),
                    _ => "(" + type + ")",
                });
                s.Append('\n');
            }
            return s.ToString();
        }

        /// <summary>
        /// Runs OPERATION (given a token that stops its wait) on a task and returns the exception it ended with; fails the
        /// test when it returned, or was still waiting after <see cref="Bound"/> (then it is cancelled, so the test
        /// program goes on).
        /// </summary>
        public static Exception Failure(Action<CancellationToken> operation)
        {
            using var stop = new CancellationTokenSource();
            var run = Task.Run(() => operation(stop.Token));
            if (!((IAsyncResult)run).AsyncWaitHandle.WaitOne(Bound))
            {
                stop.Cancel();
                ((IAsyncResult)run).AsyncWaitHandle.WaitOne(Bound);
                Assert.Fail("the operation was still waiting after 30 s: it waited on the damage instead of reporting it");
            }
            Assert.True(run.IsFaulted, "the operation ended without an error");
            return run.Exception!.InnerException!;
        }

        /// <summary>
        /// OPERATION (run as <see cref="Failure"/> runs it) fails with IpcObjectCorrupt whose message holds WHAT, and
        /// changes no key of the object NAME (<see cref="Snapshot"/> before and after).
        /// </summary>
        public static void AssertCorruptAndUnchanged(IDatabase db, string name, Action<CancellationToken> operation, string what)
        {
            string before = Snapshot(db, name);
            var e = Assert.IsType<IpcObjectCorruptException>(Failure(operation));
            Assert.Contains(what, e.Message);
            Assert.DoesNotContain("script:", e.Message);   // what Redis appends to a script's error() is not part of it
            Assert.Equal(before, Snapshot(db, name));
        }
    }
}
