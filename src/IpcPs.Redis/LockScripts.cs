namespace IpcPs.Redis
{
    /// <summary>
    /// Leases. A lock: KEYS[1] meta (lease ms, fence: the last token given, last: 'held' while a lease is out, 'free'
    /// after a release), KEYS[2] h: "token:owner" with the lease as its expiry. A semaphore: KEYS[1] meta (permits, lease,
    /// fence), KEYS[2] s: a sorted set of "token:owner" by expiry (server milliseconds). The fence only grows (HINCRBY in
    /// the same script that grants), so every grant's token is larger than every earlier one's.
    /// Grants answer {1 taken | 2 taken from a holder whose lease had run out (abandoned), token} or {0, ms until the
    /// current lease runs out}: a waiter sleeps at most that long, so a holder key or permit whose lease never ends would
    /// hold it for ever. Such keys are made only by hand or by another program, and are reported (IpcObjectCorrupt naming
    /// the key or field), never waited on: see Holder, and SemAcquire's permits and latest expiry.
    /// </summary>
    internal static class LockScripts
    {
        /// <summary>Twice the longest lease (RedisLeased.MaxLeaseMs): no lease IpcPs grants ends later (a day left for the server's clock stepping back).</summary>
        private const long Farthest = 2 * RedisLeased.MaxLeaseMs;

        /// <summary>
        /// holder(): the remaining ms of h, which exists. h while held is the string "token:owner" with the lease as its
        /// expiry: every write of it gives it one (SET PX at a grant, PEXPIRE at a renewal, the holder's lease: 100 ms to a
        /// day) and Redis keeps it (RDB, AOF, replicas); a release deletes it. So h of another type, not in that form,
        /// without expiry or expiring after any lease would, was made by hand or another program: no holder would release
        /// it, and its expiry would never free it, or too late. A holder whose expiry alone was taken (PERSIST, a copy
        /// without TTLs) would put it back at its next renewal, but it is reported too: h is damaged when it is read so.
        /// </summary>
        private static readonly string Holder = @"
local function holder()
  expect(2, 'string')
  if not string.match(redis.call('GET', KEYS[2]), '^%d+:%x+%-%d+$') then damaged(2, 'does not hold a holder in the form IpcPs writes (token:owner)') end
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 0 then damaged(2, 'has no expiry, which every lease IpcPs grants has') end
  if ttl > " + Farthest + @" then damaged(2, 'expires more than two days from now, later than any lease IpcPs grants') end
  return ttl
end
";

        /// <summary>ARGV: owner id, lease ms.</summary>
        public static readonly string Acquire = Scripts.Check("Lock") + Holder + @"
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, holder()} end
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
        /// ARGV: member, release channel. 1 released, 0 not the holder (its lease ran out, or the object was removed). The
        /// meta hash is never made here (only Create makes it): the holder's release asks its kind first, so a meta deleted by
        /// hand with h left is IPCPS NOTFOUND (IpcObjectNotFound), another kind IPCPS KIND, and a meta key of another type
        /// fails that HGET (WRONGTYPE), each before anything is written. (HSET made a hash holding only 'last', which
        /// no later New-* of the name could replace: "not an IpcPs object".)
        /// </summary>
        public const string Release = @"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  local kind = redis.call('HGET', KEYS[1], 'kind')
  if not kind then return redis.error_reply('IPCPS NOTFOUND') end
  if kind ~= 'Lock' then return redis.error_reply('IPCPS KIND ' .. kind) end
  redis.call('HSET', KEYS[1], 'last', 'free')
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], 1)
  return 1
end
return 0";

        /// <summary>{held 0/1, fence}.</summary>
        public static readonly string State = Scripts.Check("Lock") + Holder + @"
local held = redis.call('EXISTS', KEYS[2])
if held == 1 then holder() end
return {held, number('fence')}";

        private const string Now = @"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

        /// <summary>
        /// ARGV: owner id, lease ms. Checked before the reap (its first write): permits 1 to 1,000,000 (0 left a waiter with
        /// no permit to wait for), and the latest expiry in s, which a grant or renewal puts at most a lease ahead: one later
        /// was put there by hand, and a waiter would sleep until it.
        /// </summary>
        public static readonly string SemAcquire = Scripts.Check("Semaphore") + Now + @"
local permits = whole('permits', 1, 1000000)
integer('fence')   -- checked before anything changes: HINCRBY below fails on a damaged one
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) - now > " + Farthest + @" then
  damaged(2, 'holds a permit that expires more than two days from now, later than any lease IpcPs grants')
end
local reaped = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= permits then   -- so it holds a first permit (permits >= 1)
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, math.max(0, tonumber(first[2]) - now)}
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
