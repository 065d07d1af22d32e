using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A barrier in Redis: meta fields parties, arrived, gen (the round), broken, failed (the last round that broke). An
    /// arrival is one script: it counts the party in, and the last one starts the next round (arrived 0, gen + 1) and
    /// publishes, so all are released together. A timeout, Abort or Reset breaks the round (BrokenBarrierException for its
    /// waiters; marked TimedOut for the party whose own timeout ran out, as the local barrier's). Unlike the local barrier, a party that dies after arriving is not noticed (Redis cannot see processes):
    /// it stays counted; a timeout breaks the round instead. No -Action (it runs in the last party's PowerShell: phase 2).
    /// </summary>
    public sealed class RedisBarrier : RedisObject, IIpcBarrier
    {
        /// <summary>
        /// KEYS: meta, arr (this round's arrivals: token → index), arrp (the round before's). ARGV: channel, the parties
        /// this handle read when it opened the barrier (they never change), the arrival's token. Checked before the first
        /// write: parties raised (or 'nan') left every party waiting for one that no handle counts, and arrived at or past
        /// parties released the round and was refused only after it. A token known in this round or the one before is
        /// that arrival sent again (its answer was lost: RedisBarrier.Wait): answered {0, its index, its round}, counted
        /// once; the caller's wait then reads that round's outcome. A round's end (here, or Reset) makes its tokens the
        /// round before's and forgets older ones.
        /// </summary>
        private static readonly string ArriveScript = Scripts.Check("Barrier") + @"
local parties, gen = integer('parties'), number('gen')
if parties ~= tonumber(ARGV[2]) then error({err = 'IPCPS CORRUPT parties is not the ' .. ARGV[2] .. ' it had when this handle opened it'}) end
local arrived = whole('arrived', 0, parties - 1)
local function known(i, round)
  local v = redis.call('HGET', KEYS[i], ARGV[3])
  if not v then return nil end
  local index = tonumber(v)
  if not index or index < 0 or index >= parties or index % 1 ~= 0 then damaged(i, 'holds an arrival index out of range') end
  return {0, index, round}
end
local again = known(2, gen) or known(3, gen - 1)
if again then return again end
if redis.call('HGET', KEYS[1], 'broken') == '1' then return {-1, gen} end
local index = arrived
arrived = arrived + 1
if arrived >= parties then
  redis.call('HSET', KEYS[2], ARGV[3], index)   -- a hash (read above), as arrp
  redis.call('RENAME', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'arrived', 0, 'gen', gen + 1)
  redis.call('PUBLISH', ARGV[1], gen + 1)
  return {1, index, gen}
end
redis.call('HSET', KEYS[2], ARGV[3], index)
redis.call('HSET', KEYS[1], 'arrived', arrived)
return {0, index, gen}";

        /// <summary>{0 waiting | 1 released | -1 broken} for a waiter of round ARGV[1].</summary>
        private static readonly string StateScript = Scripts.Check("Barrier") + @"
local gen, failed = number('gen'), number('failed')
if gen == tonumber(ARGV[1]) then
  if redis.call('HGET', KEYS[1], 'broken') == '1' then return -1 end
  return 0
end
if failed == tonumber(ARGV[1]) then return -1 end
return 1";

        /// <summary>ARGV: channel, round (or -1: whatever the round). Breaks it: 1; 0 when that round is over.</summary>
        private static readonly string BreakScript = Scripts.Check("Barrier") + @"
local gen = number('gen')
if ARGV[2] ~= '-1' and tonumber(ARGV[2]) ~= gen then return 0 end
redis.call('HSET', KEYS[1], 'broken', 1, 'failed', gen)
redis.call('PUBLISH', ARGV[1], -1)
return 1";

        /// <summary>KEYS: meta, arr, arrp (ArriveScript): the round's tokens become the round before's.</summary>
        private static readonly string ResetScript = Scripts.Check("Barrier") + @"
local gen = number('gen')
expect(2, 'hash') expect(3, 'hash')   -- before the first write: a key of another type is named, not moved
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[3]) else redis.call('DEL', KEYS[3]) end
redis.call('HSET', KEYS[1], 'broken', 0, 'arrived', 0, 'gen', gen + 1, 'failed', gen)
redis.call('PUBLISH', ARGV[1], -1)
return 1";

        private static readonly string InfoScript = Scripts.Check("Barrier") + @"
return {number('arrived'), number('broken')}";

        private readonly string _channel;
        private readonly RedisKey[] _keys;

        /// <summary>
        /// Per thread of this handle (one handle serves the threads of ForEach-Object -Parallel, Start-ThreadJob: each is
        /// a party of its own), the token of its last arrival when its Wait ended without an outcome (BackendUnavailable
        /// or BackendOutcomeUnknown: its answer lost, or the wait for the round's end failed): that thread's next Wait is
        /// that arrival again, which the script counts once. A thread's token never serves another thread's Wait (it
        /// would return that party's round as its own: review). Reset and Abort of the handle forget them all. Under the
        /// dictionary's lock.
        /// </summary>
        private readonly Dictionary<int, string> _pending = new Dictionary<int, string>();

        internal RedisBarrier(RedisBackend backend, string name, MetaReader meta) : base(backend, name, IpcObjectKind.Barrier)
        {
            Parties = meta.Int("parties", 1, 1_000_000);
            double t = meta.Double("timeout");
            DefaultTimeout = double.IsNaN(t) || t < 0 ? (double?)null : t;
            _channel = Channel("bar");
            _keys = Keys(Meta, Key("arr"), Key("arrp"));
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
            var r = ScriptReply.Integers(Eval(InfoScript, Keys(Meta), Array.Empty<RedisValue>(), "State", write: false), 2, this, "State");
            return (r[0], r[1] == 1);
        }

        public int Wait() => Wait((TimeSpan?)null, Interrupt(true));
        public int Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Interrupt(timeoutSeconds != 0));

        public int Wait(TimeSpan? timeout, CancellationToken cancel) =>
            Wait(timeout is TimeSpan t ? Deadline.After(t) : DefaultTimeout is double d ? Deadline.AfterSeconds(d) : Deadline.Infinite, cancel);

        /// <summary>
        /// Arrives (or, after a Wait of this handle that ended without an outcome, arrives again with that arrival's token:
        /// counted once, <see cref="_pending"/>) and waits for the round's end.
        /// </summary>
        private int Wait(Deadline deadline, CancellationToken cancel)
        {
            int thread = Environment.CurrentManagedThreadId;
            string? token;
            lock (_pending)
            {
                if (_pending.TryGetValue(thread, out token)) _pending.Remove(thread);
            }
            token ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
            try { return Arrive(token, deadline, cancel); }
            catch (Exception e) when (e is IpcBackendUnavailableException || e is IpcBackendOutcomeUnknownException)
            {
                lock (_pending) _pending[thread] = token;   // counted or not, the round's outcome unread: this thread's next Wait is this arrival
                throw;
            }
        }

        private int Arrive(string token, Deadline deadline, CancellationToken cancel)
        {
            using var watcher = Backend.Watch(_channel, Name);   // before arriving: the release may come at once
            // {-1, round} broken; {0 waiting | 1 released, index, round}.
            var r = ScriptReply.Integers(Eval(ArriveScript, _keys, Args(_channel, Parties, token), "Wait", write: true, deadline, cancel), 2, 3, this, "Wait");
            long status = r[0];
            if (status == -1) throw new BrokenBarrierException(Name, "it was broken before this party arrived");
            if (r.Length != 3 || (status != 0 && status != 1)) throw new IpcObjectCorruptException(Name, Address, "Redis's answer to Wait is not one it can give");
            long index = r[1], round = r[2];
            if (index < 0 || index >= Parties) throw new IpcObjectCorruptException(Name, Address, "Redis gave an arrival index out of range");
            if (status == 1) return (int)index;
            long state = 0;
            bool done;
            try
            {
                done = WaitUntil(watcher, deadline, cancel, (out int hint) =>
                {
                    hint = -1;
                    state = ScriptReply.Integer(Eval(StateScript, Keys(Meta), Args(round), "Wait", write: false, deadline, cancel), this, "Wait");
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
                // As the local barrier: the party whose time ran out breaks the round (the others get BrokenBarrier) and
                // gets a BrokenBarrierException marked TimedOut (Wait-IpcBarrier: the non-terminating IpcTimeout). A round
                // that ended meanwhile is not broken: its outcome is this party's.
                if (Break(round, deadline)) throw new BrokenBarrierException(Name, "the wait timed out.", timedOut: true);   // past: sent only if the connection is up, not waited for
                state = ScriptReply.Integer(Eval(StateScript, Keys(Meta), Args(round), "Wait", write: false, deadline), this, "Wait");
            }
            if (state == -1) throw new BrokenBarrierException(Name, "it was aborted, reset or timed out while this party waited");
            return (int)index;
        }

        /// <summary>Breaks ROUND (-1: whichever is on); False when that round was over already.</summary>
        private bool Break(long round, Deadline? within = null) =>
            ScriptReply.Integer(Eval(BreakScript, Keys(Meta), Args(_channel, round), "Abort", write: true, within), this, "Abort") == 1;

        /// <summary>Breaks the barrier: current and future waiters get BrokenBarrierException until Reset.</summary>
        public void Abort()
        {
            Forget();
            _ = Break(-1);
        }

        /// <summary>Back to the empty state; parties waiting now get BrokenBarrierException.</summary>
        public void Reset()
        {
            Forget();
            Eval(ResetScript, _keys, Args(_channel), "Reset", write: true);
        }

        /// <summary>Forgets the arrivals of this handle whose outcome was unknown: after a Reset or an Abort a Wait is a new arrival.</summary>
        private void Forget()
        {
            lock (_pending) _pending.Clear();
        }

        public override string ToString() => IsClosed ? $"RedisBarrier('{Name}', closed)" : $"RedisBarrier('{Name}', parties={Parties}, {Address})";
    }
}
