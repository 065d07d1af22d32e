using System;
using System.Collections.Generic;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A lock in Redis, held as a lease: renewed in the background while held, lost when the holder stops renewing (crash,
    /// pause, partition) — then the next waiter takes it (Abandoned) with a higher fencing token, and the old holder's
    /// Release throws LeaseLostException. Not recursive; not fair (whoever asks first after a release wins).
    /// </summary>
    public sealed class RedisLock : RedisLeased
    {
        internal RedisLock(RedisBackend backend, string name, MetaReader meta)
            : base(backend, name, IpcObjectKind.Lock, meta, "h", LockScripts.Acquire, LockScripts.Renew, LockScripts.Release) { }

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            yield return LeaseField(o);
            yield return RedisQueue.Field("fence", 0);
            yield return new KeyValuePair<string, string>("last", "free");
        }

        private (bool Locked, long Fence) State()
        {
            var r = ScriptReply.Integers(Eval(LockScripts.State, Keys(Meta, Key("h")), Array.Empty<RedisValue>(), "State", write: false), 2, this, "State");
            return (r[0] == 1, r[1]);
        }

        /// <summary>True while anyone holds it.</summary>
        public bool IsLocked => State().Locked;

        /// <summary>True while anyone holds it (a method: PowerShell reads a property that failed as $null, about_IpcPs).</summary>
        public bool Locked() => State().Locked;

        /// <summary>The last fencing token given for this lock (by any holder).</summary>
        public long LastToken => State().Fence;

        public override string ToString() => IsClosed ? $"RedisLock('{Name}', closed)" : $"RedisLock('{Name}', {(IsHeld ? $"held here, token {Token}" : "not held here")}, {Address})";
    }

    /// <summary>
    /// A semaphore in Redis: InitialCount permits, each a lease (renewed while held, lost when not renewed in time), each
    /// with its own fencing token. A handle may hold several; Release gives back its oldest. A release without a held
    /// permit is an error (a local semaphore counts it as a new permit): permits are leases, never made out of nothing.
    /// </summary>
    public sealed class RedisSemaphore : RedisLeased
    {
        internal RedisSemaphore(RedisBackend backend, string name, MetaReader meta)
            : base(backend, name, IpcObjectKind.Semaphore, meta, "s", LockScripts.SemAcquire, LockScripts.SemRenew, LockScripts.SemRelease)
        {
            Permits = meta.Int("permits", 1, 1_000_000);
        }

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            if (o.InitialCount < 1 || o.InitialCount > 1_000_000) throw new ArgumentOutOfRangeException(nameof(o.InitialCount), "A Redis semaphore has 1 to 1,000,000 permits.");
            yield return LeaseField(o);
            yield return RedisQueue.Field("permits", o.InitialCount);
            yield return RedisQueue.Field("fence", 0);
        }

        /// <summary>How many permits there are.</summary>
        public int Permits { get; }

        /// <summary>Permits free now.</summary>
        public int CurrentValue => GetValue();

        /// <summary>Permits free now (Semaphore.get_value; a method: PowerShell reads a property that failed as $null).</summary>
        public int GetValue()
        {
            var r = ScriptReply.Integers(Eval(LockScripts.SemState, Keys(Meta, Key("s")), Array.Empty<RedisValue>(), "State", write: false), 2, this, "State");
            return (int)Math.Clamp(r[1] - r[0], 0, Permits);
        }

        public override string ToString() => IsClosed ? $"RedisSemaphore('{Name}', closed)" : $"RedisSemaphore('{Name}', permits={Permits}, {Address})";
    }
}
