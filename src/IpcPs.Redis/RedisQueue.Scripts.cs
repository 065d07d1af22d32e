namespace IpcPs.Redis
{
    /// <summary>
    /// The queue's scripts. Keys: KEYS[1] meta (fields order 0 Fifo / 1 Lifo / 2 Priority, max, joinable, vis (ms),
    /// maxdel, seq, unfinished), KEYS[2] r: ready (a list, or a sorted set by priority for Priority), KEYS[3] b: bodies by
    /// id, KEYS[4] f: in flight (sorted set id → visibility deadline in server milliseconds), KEYS[5] d: deliveries by id,
    /// KEYS[6] p: priorities by id (joinable priority queues), KEYS[7] x: dead letters (a list of bodies).
    /// A plain Fifo or Lifo queue keeps the bodies in the ready list itself; the others keep ids (16 hex digits of a
    /// per-queue sequence, so equal priorities come out in put order) and the bodies by id.
    /// </summary>
    internal static class QueueScripts
    {
        // Every setting read is checked (a damaged one is IPCPS CORRUPT FIELD: IpcObjectCorrupt naming it, before the
        // script changes anything), and so is 'unfinished' of a joinable queue, a counter the scripts raise and lower
        // with HINCRBY, which fails on a damaged one after the writes before it (a Put's messages were stored and the
        // Put reported failed). 'seq' is checked by the scripts that raise it (Put).
        // Checks before the first write: Redis keeps a failed script's writes. Every key a script writes or reads after its
        // first write is of its type, or that script asks its TYPE (expect, Scripts.Check) before that first write: a key
        // replaced by one of another type (a string at b) fails the call as IpcObjectCorrupt naming it, with nothing
        // changed (it raised seq and stored no message; popped a message and lost it; took a delivery out of flight and put
        // it nowhere). A key a script reads before its first write needs no check (a read of another type fails first).
        private const string Settings = @"
local m = redis.call('HMGET', KEYS[1], 'order', 'max', 'joinable', 'vis', 'maxdel')
local function setting(i, field)
  local v = tonumber(m[i])
  if not v then error({err = 'IPCPS CORRUPT ' .. field}) end
  return v
end
-- max and vis in the range New-IpcQueue writes (RedisQueue.MetaFields, MetaReader): a fractional max left a Put waiting
-- for room no Get makes, and a vis past a year set deadlines the check below reports.
local order, max, joinable, vis, maxdel = setting(1, 'order'), whole('max', 0, 2147483647), setting(3, 'joinable') == 1, whole('vis', 1, 31536000000), setting(5, 'maxdel')
local unfinished = 0
if joinable then unfinished = integer('unfinished') end
local rtype = 'list'
if order == 2 then rtype = 'zset' end
local function size() if order == 2 then return redis.call('ZCARD', KEYS[2]) end return redis.call('LLEN', KEYS[2]) end
-- The latest visibility deadline in f, checked before a script's first write. A Get sets each at its server time + vis
-- (and nothing else writes f's scores), so one later than now + vis + a day (left for the server's clock stepping
-- back) was put there by hand: a Get would sleep until it (~25 days at a time) and a Join wait for its redelivery.
local function flight(now)
  local last = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) - now > vis + 86400000 then
    damaged(4, 'holds a delivery due back more than the visibility timeout and a day from now, later than any Get sets')
  end
end
";

        // reclaim(NOW, JOIN, GET): the expired deliveries of a joinable queue (deadline at or before NOW, 256 at most a
        // call) go back to the front of r, or — past maxdel deliveries — to the dead letters, unfinished lowered (JOIN told
        // at 0). GET (nil: none) is told when some went back to r (a waiting Get of another client takes them at once).
        // Answers how many expired. Get runs it before it takes, Counts (Join, QSize, Unfinished…) before it counts: a
        // delivery that can never be marked done any more leaves the unfinished count without waiting for a Get.
        private const string Reclaim = @"
local function reclaim(now, join, get)
  flight(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 256)
  local counts = {}
  for i, id in ipairs(expired) do   -- every delivery count checked before anything changes
    counts[i] = tonumber(redis.call('HGET', KEYS[5], id) or '0')
    if not counts[i] then error({err = 'IPCPS CORRUPT d:' .. id}) end
  end
  -- Each is taken out of f (read above), then goes back to r (its priority read from p) or to x (its body read from b,
  -- then b, d and p written).
  if #expired > 0 then expect(2, rtype) expect(3, 'hash') expect(6, 'hash') expect(7, 'list') end
  local back = 0
  for i, id in ipairs(expired) do
    redis.call('ZREM', KEYS[4], id)
    local d = counts[i]
    if maxdel > 0 and d >= maxdel then
      local body = redis.call('HGET', KEYS[3], id)
      if body then redis.call('RPUSH', KEYS[7], body) end
      redis.call('HDEL', KEYS[3], id)
      redis.call('HDEL', KEYS[5], id)
      redis.call('HDEL', KEYS[6], id)
      local u = redis.call('HINCRBY', KEYS[1], 'unfinished', -1)
      if u <= 0 then redis.call('HSET', KEYS[1], 'unfinished', 0) redis.call('PUBLISH', join, 0) end
    else
      back = back + 1
      if order == 2 then redis.call('ZADD', KEYS[2], tonumber(redis.call('HGET', KEYS[6], id) or '0'), id)
      else redis.call('LPUSH', KEYS[2], id) end
    end
  end
  if get and back > 0 then redis.call('PUBLISH', get, back) end
  return #expired
end
";

        /// <summary>ARGV: get channel, count, then (body, priority) pairs. Stores all of them or none: answers the count, or 0 when they do not all fit.</summary>
        public static readonly string Put = Scripts.Check("Queue") + Settings + @"
local n = tonumber(ARGV[2])
local room = n
-- The handle refuses a batch above its MaxSize; a max lowered since it opened the queue would leave this one waiting
-- for room that never comes.
if max > 0 and n > max then error({err = 'IPCPS CORRUPT max is ' .. max .. ', fewer than the ' .. n .. ' messages of this put'}) end
if max > 0 and size() + n > max then return 0 end
local direct = order ~= 2 and not joinable
if not direct then
  integer('seq')   -- checked before anything changes: HINCRBY below fails on a damaged one
  -- The first write raises seq; b, r (read by size() when bounded) and p are written after it. A direct queue writes
  -- only r, and its first push fails before anything changed.
  expect(3, 'hash')
  if max == 0 then expect(2, rtype) end
  if joinable and order == 2 then expect(6, 'hash') end
end
for i = 1, room do
  local body, prio = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  if direct then
    if order == 0 then redis.call('RPUSH', KEYS[2], body) else redis.call('LPUSH', KEYS[2], body) end
  else
    local id = string.format('%016x', redis.call('HINCRBY', KEYS[1], 'seq', 1))
    redis.call('HSET', KEYS[3], id, body)
    if order == 2 then
      redis.call('ZADD', KEYS[2], prio, id)
      if joinable then redis.call('HSET', KEYS[6], id, prio) end
    elseif order == 0 then redis.call('RPUSH', KEYS[2], id)
    else redis.call('LPUSH', KEYS[2], id) end
  end
end
if joinable then redis.call('HINCRBY', KEYS[1], 'unfinished', room) end
redis.call('PUBLISH', ARGV[1], room)
return room";

        /// <summary>
        /// ARGV: put channel (room), join channel, most to take. First returns expired deliveries to the front (or, past
        /// maxdel deliveries, to the dead letters). Answers {count, hint} then per message its body (and for a joinable queue
        /// its id and delivery number); hint: milliseconds until the next in-flight message expires (-1: none).
        /// </summary>
        public static readonly string Get = Scripts.Check("Queue") + Settings + Reclaim + @"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = 0
if joinable then expired = reclaim(now, ARGV[2], nil) end
local before = size()
local k = math.min(tonumber(ARGV[3]), before)
local out = {k, -1}
-- A message is taken out of r (read by size()) before its body is read from b (checked above when some expired). d: a
-- count that cannot be raised puts the message back (below); f was read.
if k > 0 and (joinable or order == 2) and expired == 0 then expect(3, 'hash') end
for i = 1, k do
  local id, score
  if order == 2 then
    local popped = redis.call('ZPOPMIN', KEYS[2])
    id, score = popped[1], popped[2]
  else id = redis.call('LPOP', KEYS[2]) end
  if joinable then
    local d = redis.pcall('HINCRBY', KEYS[5], id, 1)
    if type(d) == 'table' then
      -- A delivery count that is not an integer, or d not a hash: this message goes back where it was (those taken
      -- before it in this call are in flight, and come back when their visibility timeout passes, as a dead consumer's).
      if order == 2 then redis.call('ZADD', KEYS[2], score, id) else redis.call('LPUSH', KEYS[2], id) end
      if string.sub(d.err, 1, 9) == 'WRONGTYPE' then return redis.error_reply(d.err) end   -- KeyTypes names the key
      error({err = 'IPCPS CORRUPT d:' .. id})
    end
    redis.call('ZADD', KEYS[4], now + vis, id)
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
    out[#out + 1] = id
    out[#out + 1] = d
  elseif order == 2 then
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
    redis.call('HDEL', KEYS[3], id)
  else
    out[#out + 1] = id
  end
end
if k > 0 and max > 0 and before >= max then redis.call('PUBLISH', ARGV[1], k) end
if k == 0 and joinable then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if first[2] then out[2] = math.max(0, tonumber(first[2]) - now) end
end
return out";

        /// <summary>ARGV: join channel, id, delivery number. 1 when marked done; 0 when that delivery is no longer outstanding.</summary>
        public static readonly string Ack = Scripts.Check("Queue") + Settings + @"
local d = redis.call('HGET', KEYS[5], ARGV[2])
if (not d) or d ~= ARGV[3] then return 0 end
expect(3, 'hash') expect(6, 'hash')   -- written after the first write (out of f, or r); d was read
if redis.call('ZREM', KEYS[4], ARGV[2]) == 0 then
  local removed
  if order == 2 then removed = redis.call('ZREM', KEYS[2], ARGV[2]) else removed = redis.call('LREM', KEYS[2], 1, ARGV[2]) end
  if removed == 0 then return 0 end
end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
local u = redis.call('HINCRBY', KEYS[1], 'unfinished', -1)
if u <= 0 then redis.call('HSET', KEYS[1], 'unfinished', 0) redis.call('PUBLISH', ARGV[1], 0) end
return 1";

        /// <summary>
        /// ARGV: get channel, join channel. Answers {ready, in flight, unfinished, dead letters, hint}; what Join waits on
        /// (unfinished 0). A joinable queue's expired deliveries are reclaimed first (reclaim: back to r, or to the dead
        /// letters at maxdel), so the counts, and Join, never wait for a Get to do it. Hint (joinable): milliseconds until
        /// the counts can change without a script telling the join channel: the earliest deadline in f, else — messages
        /// ready — vis (a Get from now on sets no deadline before now + vis); -1: only a script changes them (none in
        /// flight or ready).
        /// Invariant of a joinable queue, true at the end of every script: unfinished = ready + in flight. Create starts all
        /// three at 0 (and Remove deletes them together); Put adds n ids to r and n to unfinished; Get moves ids r → f,
        /// expired ones f → r, or f → x (dead letters) with unfinished lowered by one; TaskDone takes its id out of f (or r,
        /// when it expired and went back) with unfinished lowered by one; a script failing mid-way stops where the invariant
        /// holds (Get puts a message whose delivery count fails back in r). So an unfinished that is not ready + in flight
        /// was changed by hand (or r or f was): reported (before the reclaim writes anything), as is a deadline in f past any
        /// a Get sets, where Join waited for ever (or, lowered, returned early).
        /// </summary>
        public static readonly string Counts = Scripts.Check("Queue") + Settings + Reclaim + @"
local ready, inflight = size(), redis.call('ZCARD', KEYS[4])
local hint = -1
if joinable then
  if unfinished ~= ready + inflight then
    error({err = 'IPCPS CORRUPT unfinished is ' .. unfinished .. ', not the ' .. (ready + inflight) .. ' messages ready and in flight'})
  end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if reclaim(now, ARGV[2], ARGV[1]) > 0 then
    ready, inflight, unfinished = size(), redis.call('ZCARD', KEYS[4]), integer('unfinished')
  end
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if first[2] then hint = math.max(0, tonumber(first[2]) - now) elseif ready > 0 then hint = vis end
end
return {ready, inflight, unfinished, redis.call('LLEN', KEYS[7]), hint}";

        /// <summary>Takes one dead letter: {1, body} or {0}.</summary>
        public static readonly string TakeDead = Scripts.Check("Queue") + @"
local b = redis.call('LPOP', KEYS[7])
if b then return {1, b} end
return {0}";
    }
}
