namespace IpcPs.Redis
{
    /// <summary>
    /// Leases. A lock: KEYS[1] meta (lease ms, fence: the last token given, last: 'held' while a lease is out, 'free'
    /// after a release), KEYS[2] h: "token:owner" with the lease as its expiry. A semaphore: KEYS[1] meta (permits, lease,
    /// fence), KEYS[2] s: a sorted set of "token:owner" by expiry (server milliseconds). The fence only grows (HINCRBY in
    /// the same script that grants), so every grant's token is larger than every earlier one's.
    /// Grants answer {1 taken | 2 taken from a holder whose lease had run out (abandoned), token} or {0, ms until the
    /// current lease runs out (-1: unknown)}.
    /// </summary>
    internal static class LockScripts
    {
        /// <summary>ARGV: owner id, lease ms.</summary>
        public static readonly string Acquire = Scripts.Check("Lock") + @"
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, redis.call('PTTL', KEYS[2])} end
integer('fence')   -- checked before anything changes: HINCRBY below fails on a damaged one
local abandoned = redis.call('HGET', KEYS[1], 'last') == 'held'
local token = redis.call('HINCRBY', KEYS[1], 'fence', 1)
redis.call('SET', KEYS[2], token .. ':' .. ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[1], 'last', 'held')
if abandoned then return {2, token} end
return {1, token}";

        /// <summary>ARGV: member, lease ms. 1 renewed, 0 not the holder.</summary>
        public const string Renew = @"
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) return 1 end
return 0";

        /// <summary>
        /// ARGV: member, release channel. 1 released, 0 not the holder. The meta hash is written first: Redis keeps a failed
        /// script's writes, and this script (which does not start with Scripts.Check) has not read it, so a meta key of
        /// another type fails the release before the holder is deleted (h was read, and DEL takes any type).
        /// </summary>
        public const string Release = @"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('HSET', KEYS[1], 'last', 'free')
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], 1)
  return 1
end
return 0";

        /// <summary>{held 0/1, fence}.</summary>
        public static readonly string State = Scripts.Check("Lock") + @"
return {redis.call('EXISTS', KEYS[2]), number('fence')}";

        private const string Now = @"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

        /// <summary>ARGV: owner id, lease ms.</summary>
        public static readonly string SemAcquire = Scripts.Check("Semaphore") + Now + @"
local permits = number('permits')
integer('fence')   -- checked before anything changes: HINCRBY below fails on a damaged one
local reaped = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= permits then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] then return {0, math.max(0, tonumber(first[2]) - now)} end
  return {0, -1}
end
local token = redis.call('HINCRBY', KEYS[1], 'fence', 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), token .. ':' .. ARGV[1])
redis.call('PEXPIRE', KEYS[2], math.max(tonumber(ARGV[2]) * 4, 60000))
if reaped > 0 then return {2, token} end
return {1, token}";

        /// <summary>ARGV: member, lease ms. 1 renewed, 0 not a holder (expired, reaped or removed).</summary>
        public static readonly string SemRenew = Now + @"
local s = redis.call('ZSCORE', KEYS[2], ARGV[1])
if (not s) or tonumber(s) <= now then redis.call('ZREM', KEYS[2], ARGV[1]) return 0 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], math.max(tonumber(ARGV[2]) * 4, 60000))
return 1";

        /// <summary>ARGV: member, release channel. 1 released, 0 not a holder.</summary>
        public static readonly string SemRelease = Now + @"
local s = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if (not s) or tonumber(s) <= now then return 0 end
redis.call('PUBLISH', ARGV[2], 1)
return 1";

        /// <summary>{permits taken now, permits}.</summary>
        public static readonly string SemState = Scripts.Check("Semaphore") + Now + @"
return {redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf'), number('permits')}";
    }
}
