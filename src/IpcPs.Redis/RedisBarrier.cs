using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A barrier in Redis: meta fields parties, arrived, gen (the round), broken, failed (the last round that broke). An
    /// arrival is one script: it counts the party in, and the last one starts the next round (arrived 0, gen + 1) and
    /// publishes, so all are released together. A timeout, Abort or Reset breaks the round (BrokenBarrierException for its
    /// waiters). Unlike the local barrier, a party that dies after arriving is not noticed (Redis cannot see processes):
    /// it stays counted; a timeout breaks the round instead. No -Action (it runs in the last party's PowerShell: phase 2).
    /// </summary>
    public sealed class RedisBarrier : RedisObject, IIpcBarrier
    {
        private static readonly string ArriveScript = Scripts.Check("Barrier") + @"
local m = redis.call('HMGET', KEYS[1], 'parties', 'arrived', 'gen', 'broken')
local parties, arrived, gen = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
if m[4] == '1' then return {-1, gen} end
local index = arrived
arrived = arrived + 1
if arrived >= parties then
  redis.call('HSET', KEYS[1], 'arrived', 0, 'gen', gen + 1)
  redis.call('PUBLISH', ARGV[1], gen + 1)
  return {1, index, gen}
end
redis.call('HSET', KEYS[1], 'arrived', arrived)
return {0, index, gen}";

        /// <summary>{0 waiting | 1 released | -1 broken} for a waiter of round ARGV[1].</summary>
        private static readonly string StateScript = Scripts.Check("Barrier") + @"
local m = redis.call('HMGET', KEYS[1], 'gen', 'broken', 'failed')
local gen, failed = tonumber(m[1]), tonumber(m[3] or '-1')
if gen == tonumber(ARGV[1]) then
  if m[2] == '1' then return -1 end
  return 0
end
if failed == tonumber(ARGV[1]) then return -1 end
return 1";

        /// <summary>ARGV: channel, round (or -1: whatever the round). Breaks it.</summary>
        private static readonly string BreakScript = Scripts.Check("Barrier") + @"
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen'))
if ARGV[2] ~= '-1' and tonumber(ARGV[2]) ~= gen then return 0 end
redis.call('HSET', KEYS[1], 'broken', 1, 'failed', gen)
redis.call('PUBLISH', ARGV[1], -1)
return 1";

        private static readonly string ResetScript = Scripts.Check("Barrier") + @"
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen'))
redis.call('HSET', KEYS[1], 'broken', 0, 'arrived', 0, 'gen', gen + 1, 'failed', gen)
redis.call('PUBLISH', ARGV[1], -1)
return 1";

        private static readonly string InfoScript = Scripts.Check("Barrier") + @"
local m = redis.call('HMGET', KEYS[1], 'arrived', 'broken')
return {tonumber(m[1]), tonumber(m[2])}";

        private readonly string _channel;

        internal RedisBarrier(RedisBackend backend, string name, MetaReader meta) : base(backend, name, IpcObjectKind.Barrier)
        {
            Parties = meta.Int("parties", 1, 1_000_000);
            double t = meta.Double("timeout");
            DefaultTimeout = double.IsNaN(t) || t < 0 ? (double?)null : t;
            _channel = Channel("bar");
        }

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            if (o.Parties < 1 || o.Parties > 1_000_000) throw new ArgumentOutOfRangeException(nameof(o.Parties), "A barrier has 1 to 1,000,000 parties.");
            yield return RedisQueue.Field("parties", o.Parties);
            yield return RedisQueue.Field("arrived", 0);
            yield return RedisQueue.Field("gen", 0);
            yield return RedisQueue.Field("broken", 0);
            yield return RedisQueue.Field("failed", -1);
            yield return new KeyValuePair<string, string>("timeout", double.IsNaN(o.BarrierTimeoutSeconds) ? "NaN" : o.BarrierTimeoutSeconds.ToString("R", CultureInfo.InvariantCulture));
        }

        public int Parties { get; }
        public double? DefaultTimeout { get; }

        public int NWaiting { get { var i = Info(); return i.Broken ? 0 : (int)i.Arrived; } }
        public bool Broken => Info().Broken;

        private (long Arrived, bool Broken) Info()
        {
            var r = (RedisResult[]?)Eval(InfoScript, Keys(Meta), Array.Empty<RedisValue>(), "State", write: false);
            if (r is null || r.Length != 2) throw new IpcObjectCorruptException(Name, "Redis answered with the wrong shape");
            return ((long)r[0], (long)r[1] == 1);
        }

        public int Wait() => Wait((TimeSpan?)null, Interrupt(true));
        public int Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Interrupt(timeoutSeconds != 0));

        public int Wait(TimeSpan? timeout, CancellationToken cancel) =>
            Wait(timeout is TimeSpan t ? Deadline.After(t) : DefaultTimeout is double d ? Deadline.AfterSeconds(d) : Deadline.Infinite, cancel);

        private int Wait(Deadline deadline, CancellationToken cancel)
        {
            using var watcher = Backend.Watch(_channel, Name);   // before arriving: the release may come at once
            var r = (RedisResult[]?)Eval(ArriveScript, Keys(Meta), Args(_channel), "Wait", write: true, deadline, cancel);
            if (r is null || r.Length < 2) throw new IpcObjectCorruptException(Name, "Redis answered with the wrong shape");
            long status = (long)r[0];
            if (status == -1) throw new BrokenBarrierException(Name, "it was broken before this party arrived");
            long index = (long)r[1], round = (long)r[2];
            if (index < 0 || index >= Parties) throw new IpcObjectCorruptException(Name, "Redis gave an arrival index out of range");
            if (status == 1) return (int)index;
            long state = 0;
            bool done;
            try
            {
                done = WaitUntil(watcher, deadline, cancel, (out int hint) =>
                {
                    hint = -1;
                    state = (long)Eval(StateScript, Keys(Meta), Args(round), "Wait", write: false, deadline, cancel);
                    return state != 0;
                });
            }
            catch (OperationCanceledException)
            {
                Break(round, Deadline.AfterSeconds(0));   // a party that leaves breaks the round, as the local barrier on Ctrl+C
                throw;
            }
            if (!done)
            {
                Break(round, deadline);   // past: sent only if the connection is up, not waited for
                throw new BrokenBarrierException(Name, "the wait timed out");
            }
            if (state == -1) throw new BrokenBarrierException(Name, "it was aborted, reset or timed out while this party waited");
            return (int)index;
        }

        private void Break(long round, Deadline? within = null) => Eval(BreakScript, Keys(Meta), Args(_channel, round), "Abort", write: true, within);

        /// <summary>Breaks the barrier: current and future waiters get BrokenBarrierException until Reset.</summary>
        public void Abort() => Break(-1);

        /// <summary>Back to the empty state; parties waiting now get BrokenBarrierException.</summary>
        public void Reset() => Eval(ResetScript, Keys(Meta), Args(_channel), "Reset", write: true);

        public override string ToString() => IsClosed ? $"RedisBarrier('{Name}', closed)" : $"RedisBarrier('{Name}', parties={Parties}, {Address})";
    }
}
