using System;
using System.Collections.Generic;
using System.Threading;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// An event in Redis: the flag and a generation in the meta hash. Set raises the flag and the generation and publishes;
    /// a waiter answers True when it finds the flag set, and when woken by a generation change answers the flag as it is
    /// then (a Set then Clear between its checks: False, as CPython and the local event).
    /// </summary>
    public sealed class RedisEvent : RedisObject, IIpcEvent
    {
        private static readonly string SetScript = Scripts.Check("Event") + @"
integer('gen')   -- checked before anything changes: HINCRBY below fails on a damaged one
redis.call('HSET', KEYS[1], 'set', 1)
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('PUBLISH', ARGV[1], 1)
return 1";

        private static readonly string ClearScript = Scripts.Check("Event") + @"
redis.call('HSET', KEYS[1], 'set', 0)
return 1";

        /// <summary>
        /// {set, gen}, read as Set and Clear write them: a waiter waits for set 1 or another gen, so a set neither 0 nor 1, or
        /// a gen that Set's HINCRBY refuses (1.5: no Set could ever change it), is IpcObjectCorrupt, not a wait.
        /// </summary>
        private static readonly string StateScript = Scripts.Check("Event") + @"
return {whole('set', 0, 1), integer('gen')}";

        private readonly string _channel;

        internal RedisEvent(RedisBackend backend, string name) : base(backend, name, IpcObjectKind.Event) => _channel = Channel("ev");

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            yield return RedisQueue.Field("set", o.InitiallySet ? 1 : 0);
            yield return RedisQueue.Field("gen", 0);
        }

        public void Set() => Eval(SetScript, Keys(Meta), Args(_channel), "Set", write: true);

        public void Clear() => Eval(ClearScript, Keys(Meta), Array.Empty<RedisValue>(), "Clear", write: true);

        public bool IsSet() => State().Set;

        private (bool Set, long Generation) State(Deadline? within = null, CancellationToken cancel = default)
        {
            var r = ScriptReply.Integers(Eval(StateScript, Keys(Meta), Array.Empty<RedisValue>(), "IsSet", write: false, within, cancel), 2, this, "IsSet");
            return (r[0] == 1, r[1]);
        }

        public bool Wait() => Wait(Timeout.InfiniteTimeSpan, Interrupt(true));

        public bool Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Interrupt(timeoutSeconds != 0));

        public bool Wait(TimeSpan timeout, CancellationToken cancel) => Wait(Deadline.After(timeout), cancel);

        private bool Wait(Deadline deadline, CancellationToken cancel)
        {
            long? firstGeneration = null;
            bool answer = false;
            WaitUntil(_channel, deadline, cancel, (out int hint) =>
            {
                hint = -1;
                var s = State(deadline, cancel);
                firstGeneration ??= s.Generation;
                answer = s.Set;
                return s.Set || s.Generation != firstGeneration;
            });
            return answer;
        }

        public override string ToString() => IsClosed ? $"RedisEvent('{Name}', closed)" : $"RedisEvent('{Name}', {Address})";
    }
}
