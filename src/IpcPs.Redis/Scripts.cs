namespace IpcPs.Redis
{
    /// <summary>
    /// The scripts of the object table. Every multi-step change of any object is one Lua script: Redis runs it atomically,
    /// so no other client ever sees half of it, and a client that dies mid-call leaves either all of it or nothing.
    /// Errors a script raises start with "IPCPS " (RedisErrors turns them into typed exceptions).
    /// </summary>
    internal static class Scripts
    {
        /// <summary>
        /// KEYS[1] meta; ARGV kind, openOrCreate, then field/value pairs. "created", "opened" (same kind, openOrCreate),
        /// "exists"; another kind with openOrCreate is an error naming it.
        /// </summary>
        public const string Create = @"
local kind = redis.call('HGET', KEYS[1], 'kind')
if kind then
  if ARGV[2] == '1' then
    if kind == ARGV[1] then return 'opened' end
    return redis.error_reply('IPCPS KIND ' .. kind)
  end
  return 'exists'
end
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('IPCPS KIND not-an-ipcps-object') end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'created', t[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 'created'";

        /// <summary>KEYS: meta, then every part; ARGV: every channel (each told, so waiters re-check and find it gone). The count deleted.</summary>
        public const string Remove = @"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('DEL', unpack(KEYS))
for i = 1, #ARGV do redis.call('PUBLISH', ARGV[i], 'removed') end
return n";

        /// <summary>
        /// The first lines of every object script: KEYS[1] is the meta hash, KIND the kind it must have. They define
        /// number(FIELD): the meta field as a number, or the error IPCPS CORRUPT FIELD (IpcObjectCorruptException) when it
        /// is missing or not one, so a damaged field stops the script before it changes anything, instead of a Lua
        /// arithmetic error or a nil that ends the reply's table early.
        /// </summary>
        public static string Check(string kind) => @"
local kind = redis.call('HGET', KEYS[1], 'kind')
if not kind then return redis.error_reply('IPCPS NOTFOUND') end
if kind ~= '" + kind + @"' then return redis.error_reply('IPCPS KIND ' .. kind) end
local function number(field)
  local v = tonumber(redis.call('HGET', KEYS[1], field))
  if not v then error({err = 'IPCPS CORRUPT ' .. field}) end
  return v
end
";
    }
}
