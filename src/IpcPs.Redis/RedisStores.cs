using System;
using System.Collections;
using System.Collections.Generic;
using System.Dynamic;
using System.Linq;
using System.Threading.Tasks;
using IpcPs.Core;
using IpcPs.Core.Messaging;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// What the manager's stores share: a name, its meta hash (kind Dict, List or Namespace), one data key, and the codec
    /// for values (every value read back is decoded with the codec's bounds; anything that is not a value is
    /// MessageFormatException). The meta hash is the store: creating it (Scripts.Create, given every key an object
    /// may have, as RedisBackend.Create) deletes the data left by an object whose meta was deleted by hand, so a new store
    /// of the name starts empty. So every operation is a script that asks the meta's kind first (<see cref="CheckStore"/>):
    /// a store removed under an open handle (Remove-IpcObject elsewhere, a server restarted without persistence) is
    /// IpcObjectNotFound, as every other object's, with nothing written. (Plain commands on the data key wrote it again
    /// without its meta: a write accepted, listed by no Get-IpcObject, and deleted by the next New-* of the name.)
    /// </summary>
    public abstract class RedisStore : IIpcBackendStore
    {
        /// <summary>The first lines of every store script: KEYS[1] the meta, KEYS[2] the data key, ARGV[1] the kind.</summary>
        internal const string CheckStore = @"
local kind = redis.call('HGET', KEYS[1], 'kind')
if not kind then return redis.error_reply('IPCPS NOTFOUND') end
if kind ~= ARGV[1] then return redis.error_reply('IPCPS KIND ' .. kind) end
";

        /// <summary>
        /// ARGV: kind, a command of the data key, its arguments after the key. Answers {reply}, or {} for nil. Past 1,000
        /// arguments (an RPUSH or HSET of a long batch: Extend, Update) it runs in chunks of 1,000 (Lua's unpack fails past
        /// its stack limit), all in this one script; the reply is the last chunk's.
        /// </summary>
        private const string CommandScript = CheckStore + @"
local n, r = #ARGV, nil
if n <= 1002 then r = redis.call(ARGV[2], KEYS[2], unpack(ARGV, 3, n))
else for j = 3, n, 1000 do r = redis.call(ARGV[2], KEYS[2], unpack(ARGV, j, math.min(j + 999, n))) end end
if not r then return {} end
return {r}";

        internal RedisStore(RedisBackend backend, string name, string kind)
        {
            Backend = backend;
            Name = name;
            StoreKind = kind;
            Data = RedisBackend.Key(name, kind == "List" ? "list" : "dict");
            _keys = new[] { RedisBackend.MetaKey(name), Data };
            var r = backend.Eval(Scripts.Create, RedisBackend.ObjectKeys(name), new RedisValue[] { kind, 1 }, "Create", name, write: true);
            ScriptReply.Word(r, name, backend.Address, "Create", "created", "opened");
        }

        public RedisBackend Backend { get; }
        public string Name { get; }
        public string StoreKind { get; }
        public string Address => Backend.Address;
        internal RedisKey Data { get; }

        private readonly RedisKey[] _keys;

        /// <summary>Runs SCRIPT (it begins with <see cref="CheckStore"/>) with ARGS after the kind.</summary>
        internal RedisResult Script(string script, string operation, bool write, params RedisValue[] args) =>
            Backend.Eval(script, _keys, Prepend(StoreKind, args), operation, Name, write);

        private static RedisValue[] Prepend(RedisValue first, RedisValue[] rest)
        {
            var all = new RedisValue[rest.Length + 1];
            all[0] = first;
            Array.Copy(rest, 0, all, 1, rest.Length);
            return all;
        }

        /// <summary>Runs the Redis COMMAND on the data key, once the store is found: its reply, or null for nil.</summary>
        internal RedisResult? Command(string operation, bool write, string command, params RedisValue[] args)
        {
            var r = Script(CommandScript, operation, write, Prepend(command, args));
            if (r.Resp2Type != ResultType.Array || r.Length > 1) throw Unexpected(operation);
            return r.Length == 0 ? null : r[0];
        }

        internal RedisValue One(string operation, bool write, string command, params RedisValue[] args) =>
            Command(operation, write, command, args) is RedisResult r ? (r.Resp2Type == ResultType.BulkString ? (RedisValue)r : throw Unexpected(operation)) : RedisValue.Null;

        internal long Long(string operation, bool write, string command, params RedisValue[] args) =>
            Command(operation, write, command, args) is RedisResult r && r.Resp2Type == ResultType.Integer ? (long)r : throw Unexpected(operation);

        internal RedisValue[] Many(string operation, string command, params RedisValue[] args) =>
            Command(operation, false, command, args) is RedisResult r && r.Resp2Type == ResultType.Array ? ((RedisResult[])r!).Select(x => x.Resp2Type == ResultType.BulkString ? (RedisValue)x : throw Unexpected(operation)).ToArray() : throw Unexpected(operation);

        internal IpcObjectCorruptException Unexpected(string operation) => new IpcObjectCorruptException(Name, Address, $"Redis's answer to {operation} is not one it can give");

        internal byte[] Encode(object? value)
        {
            var w = MessageCodec.Encode(value, 2);
            try
            {
                if (w.TotalLength > Backend.MaxMessageBytes) throw new MessageTooLargeException(Name, w.TotalLength, Backend.MaxMessageBytes, "a value in Redis is at most");
                var bytes = new byte[w.TotalLength];
                Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                return bytes;
            }
            finally { MessageCodec.Recycle(w); }
        }

        internal object? Decode(RedisValue v)
        {
            var bytes = (byte[]?)v;
            if (bytes is null) return null;
            if (bytes.Length == 0 || bytes.Length > Backend.MaxMessageBytes) throw new MessageFormatException($"A value of '{Name}' in Redis is empty or too long.");
            return MessageCodec.Decode(bytes);
        }

        /// <summary>Destroys the store in Redis.</summary>
        public void Unlink() => Backend.Remove(Name);
    }

    /// <summary>
    /// A dict in Redis (the manager's Dict('name')), usable as a hashtable: $d['k'], $d['k'] = v, Keys, Values, Count,
    /// ContainsKey, Remove, enumeration (a snapshot in one call). String keys ignore case, as in @{}; a missing key reads as
    /// $null. Each operation is one command or script, atomic on the server. Unlike the local manager's dict, the order of
    /// keys is Redis's hash order, not insertion order.
    /// </summary>
    public sealed class RedisDict : RedisStore, IDictionary
    {
        private const string PopScript = CheckStore + @"
local v = redis.call('HGET', KEYS[2], ARGV[2])
if v then redis.call('HDEL', KEYS[2], ARGV[2]) return {1, v} end
return {0}";

        private const string SetDefaultScript = CheckStore + @"
redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3])
return redis.call('HGET', KEYS[2], ARGV[2])";

        internal RedisDict(RedisBackend backend, string name, string kind = "Dict") : base(backend, name, kind) { }

        /// <summary>The field of KEY: a string case-folded, anything else by its encoding.</summary>
        private RedisValue Field(object key)
        {
            if (key is null) throw new ArgumentNullException(nameof(key));
            return key is string s ? "s:" + s.ToLowerInvariant() : "o:" + Convert.ToHexString(Encode(key));
        }

        private RedisValue Entry(object key, object? value) => Encode(new object?[] { key, value });

        /// <summary>An entry read back: [key, value], checked.</summary>
        private (object Key, object? Value) Pair(RedisValue v)
        {
            if (Decode(v) is object?[] pair && pair.Length == 2 && pair[0] != null) return (pair[0]!, pair[1]);
            throw new MessageFormatException($"An entry of the dict '{Name}' in Redis is not a key and a value.");
        }

        public object? this[object key]
        {
            get { var v = One("Get", false, "HGET", Field(key)); return v.IsNull ? null : Pair(v).Value; }
            set { var f = Field(key); var e = Entry(key, value); Long("Set", true, "HSET", f, e); }
        }

        public int Count => GetCount();

        /// <summary>How many entries there are (a method: PowerShell reads a property that failed as $null, about_IpcPs).</summary>
        public int GetCount() => (int)Long("Count", false, "HLEN");

        public object?[] ItemsArray() => Many("Items", "HVALS").Select(v => Pair(v)).SelectMany(p => new[] { p.Key, p.Value }).ToArray();

        private List<(object Key, object? Value)> Snapshot() => Many("Items", "HVALS").Select(Pair).ToList();

        public ICollection Keys => Snapshot().Select(p => p.Key).ToArray();
        public ICollection Values => Snapshot().Select(p => p.Value).ToArray();
        public bool ContainsKey(object key) => Long("ContainsKey", false, "HEXISTS", Field(key)) == 1;
        public bool Contains(object key) => ContainsKey(key);
        public void Add(object key, object? value) => this[key] = value;
        public bool Remove(object key) => Long("Remove", true, "HDEL", Field(key)) > 0;
        void IDictionary.Remove(object key) => Remove(key);
        public void Clear() => Long("Clear", true, "DEL");

        /// <summary>The value of KEY, $null when absent (a method: PowerShell reads an indexer that failed as $null).</summary>
        public object? Get(object key) => this[key];

        public object? Get(object key, object? otherwise)
        {
            var v = One("Get", false, "HGET", Field(key));
            return v.IsNull ? otherwise : Pair(v).Value;
        }

        /// <summary>Removes KEY and answers its value (KeyNotFoundException when absent), atomically.</summary>
        public object? Pop(object key)
        {
            var r = (RedisResult[]?)Script(PopScript, "Pop", true, Field(key));
            if (r is null || r.Length == 0 || (long)r[0] == 0) throw new KeyNotFoundException($"The dict '{Name}' has no key '{key}'.");
            return Pair((RedisValue)r[1]).Value;
        }

        /// <summary>KEY's value, storing VALUE first when KEY is absent, atomically.</summary>
        public object? SetDefault(object key, object? value) =>
            Pair((RedisValue)Script(SetDefaultScript, "SetDefault", true, Field(key), Entry(key, value))).Value;

        /// <summary>Stores every entry of ENTRIES in one call (one script: all or nothing).</summary>
        public void Update(IDictionary entries)
        {
            var fields = new List<RedisValue>();
            foreach (DictionaryEntry e in entries) { fields.Add(Field(e.Key)); fields.Add(Entry(e.Key, e.Value)); }
            if (fields.Count > 0) Long("Update", true, "HSET", fields.ToArray());
        }

        public Hashtable ToHashtable()
        {
            var h = new Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (var (k, v) in Snapshot()) h[k] = v;
            return h;
        }

        public bool IsFixedSize => false;
        public bool IsReadOnly => false;
        public bool IsSynchronized => true;
        public object SyncRoot => this;
        public void CopyTo(Array array, int index) => ((ICollection)ToHashtable()).CopyTo(array, index);
        public IDictionaryEnumerator GetEnumerator() => ToHashtable().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"RedisDict('{Name}', {Address})";
    }

    /// <summary>
    /// A list in Redis (the manager's List('name')): $l[i] or Get(i) (negative from the end), $l[i] = v, Count or
    /// GetCount(), Add or Append, Extend, Insert,
    /// RemoveAt, Pop, Remove, Contains, IndexOf, enumeration (a snapshot in one call). Each operation is atomic on the
    /// server. Equality for Remove/Contains/IndexOf is equality of the encoded values (numbers of different types differ).
    /// </summary>
    public sealed class RedisList : RedisStore, ICollection
    {
        // The tail goes back 1,000 values a call: Lua's unpack fails past its stack limit (~8,000 values), and the writes a
        // script made before an error stay (Redis does not roll a script back), so one RPUSH of the whole tail emptied a
        // long list.
        private const string InsertScript = CheckStore + @"
local n = redis.call('LLEN', KEYS[2])
local i = tonumber(ARGV[2])
if i < 0 then i = math.max(0, n + i) end
if i >= n then return redis.call('RPUSH', KEYS[2], ARGV[3]) end
local tail = redis.call('LRANGE', KEYS[2], i, -1)
redis.call('LTRIM', KEYS[2], 0, i - 1)
if i == 0 then redis.call('DEL', KEYS[2]) end
redis.call('RPUSH', KEYS[2], ARGV[3])
for j = 1, #tail, 1000 do redis.call('RPUSH', KEYS[2], unpack(tail, j, math.min(j + 999, #tail))) end
return n + 1";

        /// <summary>ARGV: index. {1, value} removed, {0} out of range. The empty string marks the slot (never a value).</summary>
        private const string PopAtScript = CheckStore + @"
local v = redis.call('LINDEX', KEYS[2], ARGV[2])
if not v then return {0} end
redis.call('LSET', KEYS[2], ARGV[2], '')
redis.call('LREM', KEYS[2], 1, '')
return {1, v}";

        private const string ReverseScript = CheckStore + @"
local all = redis.call('LRANGE', KEYS[2], 0, -1)
if #all < 2 then return 0 end
redis.call('DEL', KEYS[2])
for i = #all, 1, -1 do redis.call('RPUSH', KEYS[2], all[i]) end
return #all";

        internal RedisList(RedisBackend backend, string name) : base(backend, name, "List") { }

        public object? this[long index]
        {
            get
            {
                var v = One("Get", false, "LINDEX", index);
                if (v.IsNull) throw new IndexOutOfRangeException($"The list '{Name}' has no index {index}.");
                return Decode(v);
            }
            set { var e = Encode(value); Command("Set", true, "LSET", index, e); }
        }

        public int Count => GetCount();

        /// <summary>How many items there are (a method: PowerShell reads a property that failed as $null, about_IpcPs).</summary>
        public int GetCount() => (int)Long("Count", false, "LLEN");

        /// <summary>The item at INDEX, negative from the end (a method: PowerShell reads an indexer that failed as $null).</summary>
        public object? Get(long index) => this[index];

        /// <summary>Appends VALUE; answers its index.</summary>
        public int Add(object? value) { var e = Encode(value); return (int)Long("Add", true, "RPUSH", e) - 1; }

        /// <summary>Appends VALUE (CPython's list.append), as a manager list's Append.</summary>
        public void Append(object? value) => Add(value);

        public void Extend(IEnumerable values)
        {
            var items = values.Cast<object?>().Select(v => (RedisValue)Encode(v)).ToArray();
            if (items.Length > 0) Long("Extend", true, "RPUSH", items);
        }

        public void Insert(int index, object? value) => Script(InsertScript, "Insert", true, index, Encode(value));

        public object? Pop() => Pop(-1);

        public object? Pop(int index)
        {
            var r = (RedisResult[]?)Script(PopAtScript, "Pop", true, index);
            if (r is null || r.Length == 0 || (long)r[0] == 0) throw new IndexOutOfRangeException($"The list '{Name}' has no index {index}.");
            return Decode((RedisValue)r[1]);
        }

        public void RemoveAt(int index) => Pop(index);

        public bool Remove(object? value) { var e = Encode(value); return Long("Remove", true, "LREM", 1, e) > 0; }

        public int IndexOf(object? value)
        {
            var e = Encode(value);
            return Command("IndexOf", false, "LPOS", e) is RedisResult r ? (r.Resp2Type == ResultType.Integer ? (int)r : throw Unexpected("IndexOf")) : -1;
        }

        public bool Contains(object? value) => IndexOf(value) >= 0;

        public void Reverse() => Script(ReverseScript, "Reverse", true);

        public void Clear() => Long("Clear", true, "DEL");

        public object?[] ToArray() => Many("Items", "LRANGE", 0, -1).Select(Decode).ToArray();

        /// <summary>
        /// The items, from a snapshot taken in one call. PowerShell's + and += would put a local copy where the shared
        /// list was (as with a manager list: ManagedList.GetEnumerator), so they are refused, saying what to write.
        /// </summary>
        public IEnumerator GetEnumerator()
        {
            IpcHost.RefuseConcatenation("A Redis list");
            foreach (var item in ToArray()) yield return item;
        }

        public void CopyTo(Array array, int index) => ToArray().CopyTo(array, index);
        public bool IsSynchronized => true;
        public object SyncRoot => this;

        public override string ToString() => $"RedisList('{Name}', {Address})";
    }

    /// <summary>A namespace in Redis (the manager's Namespace('name')): $ns.x reads, $ns.x = v writes, attribute names ignore case.</summary>
    public sealed class RedisNamespace : DynamicObject, IIpcBackendStore
    {
        private readonly RedisDict _fields;

        internal RedisNamespace(RedisBackend backend, string name) => _fields = new RedisDict(backend, name, "Namespace");

        public string Name => _fields.Name;
        // Explicit: $ns.Address and $ns.StoreKind stay the namespace's own fields.
        string IIpcBackendStore.StoreKind => "Namespace";
        string IIpcBackendStore.Address => _fields.Address;

        public override bool TryGetMember(GetMemberBinder binder, out object? result)
        {
            result = _fields[binder.Name];
            return true;
        }

        public override bool TrySetMember(SetMemberBinder binder, object? value)
        {
            _fields[binder.Name] = value;
            return true;
        }

        public override IEnumerable<string> GetDynamicMemberNames() => _fields.Keys.Cast<object>().Select(k => k.ToString() ?? "");

        public Hashtable Items() => _fields.ToHashtable();

        public bool Remove(string name) => _fields.Remove(name);

        public override string ToString() => $"RedisNamespace('{Name}', {_fields.Address})";
    }

    /// <summary>
    /// A manager whose objects live in Redis (Connect-IpcManager -Address redis://…): each method opens the named object,
    /// creating it when it does not exist (NAME null: a generated name), so every process that names it shares it.
    /// </summary>
    public sealed class RedisManager
    {
        internal RedisManager(RedisBackend backend) => Backend = backend;

        public RedisBackend Backend { get; }
        public string Address => Backend.Address;

        private static string N(string? name) => name is null ? IpcName.Generate() : IpcName.Validate(name);

        public RedisDict Dict(string? name = null) => new RedisDict(Backend, N(name));
        public RedisList List(string? name = null) => new RedisList(Backend, N(name));
        public RedisNamespace Namespace(string? name = null) => new RedisNamespace(Backend, N(name));
        public RedisQueue Queue(string? name = null) => (RedisQueue)Backend.Create(IpcObjectKind.Queue, N(name), new IpcBackendOptions { OpenOrCreate = true });
        public RedisQueue JoinableQueue(string? name = null) => (RedisQueue)Backend.Create(IpcObjectKind.Queue, N(name), new IpcBackendOptions { OpenOrCreate = true, Joinable = true });
        public RedisLock Lock(string? name = null) => (RedisLock)Backend.Create(IpcObjectKind.Lock, N(name), new IpcBackendOptions { OpenOrCreate = true });
        public RedisSemaphore Semaphore(string? name = null, int value = 1) => (RedisSemaphore)Backend.Create(IpcObjectKind.Semaphore, N(name), new IpcBackendOptions { OpenOrCreate = true, InitialCount = value });
        public RedisEvent Event(string? name = null) => (RedisEvent)Backend.Create(IpcObjectKind.Event, N(name), new IpcBackendOptions { OpenOrCreate = true });
        public RedisBarrier Barrier(string? name, int parties) => (RedisBarrier)Backend.Create(IpcObjectKind.Barrier, N(name), new IpcBackendOptions { OpenOrCreate = true, Parties = parties });

        /// <summary>A number (typecode TYPECODE, default 'q'), INITIAL when it is created.</summary>
        public RedisNumber Value(string? name = null, string typecode = "q", object? initial = null) =>
            (RedisNumber)Backend.Create(IpcObjectKind.Value, N(name), new IpcBackendOptions { OpenOrCreate = true, DataType = IpcDataType.Parse(typecode), InitialValue = initial });

        public override string ToString() => $"RedisManager({Address})";
    }
}
