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
        /// KEYS[1] meta, then the data keys to clear (RedisBackend.Create and a manager store: every part);
        /// ARGV kind, openOrCreate, then field/value pairs. "created", "opened" (same kind, openOrCreate), "exists"; another
        /// kind with openOrCreate is an error naming it. A new object starts from empty data keys: data left behind by an
        /// object whose meta was deleted by hand (DEL ipcps:{NAME}) is deleted in the same script that creates the meta, so
        /// no creator, even one racing another, ever sees the old object's messages, or a key of another type (WRONGTYPE)
        /// where its data goes.
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
if #KEYS > 1 then redis.call('DEL', unpack(KEYS, 2)) end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'created', t[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 'created'";

        /// <summary>
        /// KEYS: meta, then every part; ARGV: every channel (each told, so waiters re-check and find it gone). The count
        /// deleted: 0 when nothing was there. Data keys whose meta was deleted by hand are deleted too (they count).
        /// </summary>
        public const string Remove = @"
local n = redis.call('DEL', unpack(KEYS))
if n == 0 then return 0 end
for i = 1, #ARGV do redis.call('PUBLISH', ARGV[i], 'removed') end
return n";

        /// <summary>
        /// The first lines of every object script: KEYS[1] is the meta hash, KIND the kind it must have. They define
        /// number(FIELD): the meta field as a number, or the error IPCPS CORRUPT FIELD (IpcObjectCorruptException) when it
        /// is missing or not one, so a damaged field stops the script before it changes anything, instead of a Lua
        /// arithmetic error or a nil that ends the reply's table early; and integer(FIELD), the same for a counter that
        /// HINCRBY raises (HINCRBY refuses '1.5', '1e3', ' 5' and 19 digits, which tonumber takes: read through number()
        /// such a field failed later, as a BackendError, and after the script's first writes). And expect(I, TYPE): KEYS[I]
        /// holds TYPE or nothing, else a WRONGTYPE error (KeyTypes names the key, as for Redis's own WRONGTYPE). Checks
        /// before the first write: Redis keeps a failed script's writes, so a script that could meet a key of another type
        /// after its first write (DEL then SET by hand) asks that key's TYPE first, one TYPE per such key. whole(FIELD, LO,
        /// HI): an integer field that must lie in LO..HI (IPCPS CORRUPT FIELD is out of range). damaged(I, TEXT): KEYS[I] holds
        /// what no script writes (IPCPS DAMAGED PART TEXT: IpcObjectCorrupt naming the key), for a wait that would otherwise
        /// wait on it for ever.
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
local function integer(field)
  local s = redis.call('HGET', KEYS[1], field)
  if not s or #s > 18 or not string.match(s, '^%-?%d+$') then error({err = 'IPCPS CORRUPT ' .. field}) end
  return tonumber(s)
end
local function whole(field, lo, hi)
  local v = integer(field)
  if v < lo or v > hi then error({err = 'IPCPS CORRUPT ' .. field .. ' is out of range (' .. lo .. ' to ' .. hi .. ')'}) end
  return v
end
local function damaged(i, text) error({err = 'IPCPS DAMAGED ' .. string.sub(KEYS[i], #KEYS[1] + 2) .. ' ' .. text}) end
local function expect(i, t)
  local got = redis.call('TYPE', KEYS[i])['ok']
  if got ~= t and got ~= 'none' then error({err = 'WRONGTYPE Operation against a key holding the wrong kind of value'}) end
end
";
    }
}
