using System;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// The Redis type each key of an object must have, and which key does not, once a command on the object failed with
    /// WRONGTYPE (a key replaced by hand or by another program: DEL then SET, LPUSH…). The types are looked up only then
    /// (one TYPE per key, sent together); the error names the key, its type and the type IpcPs keeps there
    /// (IpcObjectCorruptException), never a raw WRONGTYPE BackendError. The WRONGTYPE is Redis's own, or one a script
    /// raised itself before its first write (Scripts.Check's expect: a script that would meet the key after a write asks
    /// its TYPE first, since Redis keeps a failed script's writes).
    /// </summary>
    internal static class KeyTypes
    {
        private static readonly string[] Hash = { "hash" }, List = { "list" }, Zset = { "zset" }, Text = { "string" };
        private static readonly string[] ListOrZset = { "list", "zset" }, Any = Array.Empty<string>();

        /// <summary>
        /// The types the key of PART may hold ("": the meta hash; RedisBackend.AllParts); empty: not checked. A queue's
        /// ready key is a list or a sorted set by its order (RedisQueue.PartTypes says which).
        /// </summary>
        public static string[] Of(string part) => part switch
        {
            "" or "b" or "d" or "p" or "dict" or "arr" or "arrp" => Hash,
            "f" or "s" => Zset,
            "x" or "list" => List,
            "h" => Text,
            "r" => ListOrZset,
            _ => Any,
        };

        public static string[] ListType => List;
        public static string[] ZsetType => Zset;

        /// <summary>
        /// The error for a WRONGTYPE that a command on NAME's KEYS met: the first key whose type is not one its part may
        /// have (TYPES: the object's own table, else <see cref="Of"/>). When none is found (the key was mended or removed
        /// meanwhile, or the types cannot be read) the error says only that a key of it had another type. The types are
        /// asked with TYPE commands sent together, waited for at most the operation timeout (RedisBackend.Failure: a
        /// synchronous call waits for it on its own thread, a lease's renewal holds no thread).
        /// </summary>
        public static async Task<IpcObjectCorruptException> DamagedAsync(IDatabase db, string name, string address, RedisKey[] keys, Func<string, string[]>? types)
        {
            try
            {
                var asked = new Task<RedisType>[keys.Length];
                for (int i = 0; i < keys.Length; i++) asked[i] = db.KeyTypeAsync(keys[i]);
                await Task.WhenAll(asked).WaitAsync(RedisBackend.OperationTimeout).ConfigureAwait(false);
                for (int i = 0; i < keys.Length; i++)
                {
                    string? part = Part(keys[i], name), type = Name(asked[i].Result);
                    if (part is null || type is null) continue;
                    var allowed = (types ?? Of)(part);
                    if (allowed.Length > 0 && Array.IndexOf(allowed, type) < 0)
                        return new IpcObjectCorruptException(name, address,
                            $"its key '{keys[i]}' in Redis is a {type}, not the {string.Join(" or ", allowed)} IpcPs keeps there (replaced by hand or by another program)");
                }
            }
            catch (Exception e) when (e is TimeoutException || e is RedisException) { }   // the types could not be read (in time): the plain error below
            return Unknown(name, address);
        }

        /// <summary>Redis's own name of a type (TYPE's answer), null for a key that does not exist.</summary>
        private static string? Name(RedisType t) => t switch
        {
            RedisType.None => null,
            RedisType.String => "string",
            RedisType.List => "list",
            RedisType.Set => "set",
            RedisType.SortedSet => "zset",
            RedisType.Hash => "hash",
            RedisType.Stream => "stream",
            _ => "value of another type",
        };

        /// <summary>A WRONGTYPE on NAME whose keys are not known (RedisErrors.Map).</summary>
        public static IpcObjectCorruptException Unknown(string name, string address) =>
            new IpcObjectCorruptException(name, address, "a key of it in Redis holds another type of value than IpcPs keeps there (WRONGTYPE: replaced by hand or by another program)");

        public static bool IsWrongType(RedisServerException e) => e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal);

        /// <summary>The part of KEY in NAME's keys ("" the meta), null for a key of another name.</summary>
        private static string? Part(RedisKey key, string name)
        {
            string k = key.ToString(), meta = RedisBackend.MetaKey(name).ToString();
            if (k == meta) return "";
            return k.StartsWith(meta + ":", StringComparison.Ordinal) ? k.Substring(meta.Length + 1) : null;
        }
    }
}
