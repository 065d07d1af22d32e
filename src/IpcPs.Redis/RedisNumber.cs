using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A number in Redis (New-IpcValue -Backend: the numeric typecodes b B h H i I l q f d). Reads and writes are single
    /// commands; <see cref="Add"/> and <see cref="CompareAndSet"/> are atomic on the server, so counters need no lock. For
    /// read-modify-write sequences of your own, take its lock (a Redis lock named NAME.lock, made on first use): the
    /// methods of ILockable (Acquire/Release, Use-IpcLock) as on a local Value.
    /// </summary>
    public sealed class RedisNumber : RedisObject, ILockable
    {
        private static readonly string GetScript = Scripts.Check("Value") + @"return redis.call('HGET', KEYS[1], 'v')";

        private static readonly string SetScript = Scripts.Check("Value") + @"redis.call('HSET', KEYS[1], 'v', ARGV[1]) return 1";

        /// <summary>ARGV: delta. The new value; IPCPS RANGE (and no change) when it leaves the type's range.</summary>
        private static readonly string AddScript = Scripts.Check("Value") + @"
local m = redis.call('HMGET', KEYS[1], 'code', 'min', 'max')
local r
if m[1] == 'f' or m[1] == 'd' then
  r = redis.call('HINCRBYFLOAT', KEYS[1], 'v', ARGV[1])
  if m[1] == 'f' and math.abs(tonumber(r)) > 3.4028234663852886e38 then
    redis.call('HINCRBYFLOAT', KEYS[1], 'v', -tonumber(ARGV[1]))
    return redis.error_reply('IPCPS RANGE float')
  end
  return r
end
r = redis.call('HINCRBY', KEYS[1], 'v', ARGV[1])
if m[2] and (r < tonumber(m[2]) or r > tonumber(m[3])) then
  redis.call('HINCRBY', KEYS[1], 'v', -tonumber(ARGV[1]))
  return redis.error_reply('IPCPS RANGE ' .. m[2] .. '..' .. m[3])
end
return tostring(r)";

        /// <summary>ARGV: expected, new. 1 when it held EXPECTED and now holds NEW.</summary>
        private static readonly string CasScript = Scripts.Check("Value") + @"
local code = redis.call('HGET', KEYS[1], 'code')
local cur = redis.call('HGET', KEYS[1], 'v')
local same
if code == 'f' or code == 'd' then same = tonumber(cur) == tonumber(ARGV[1]) else same = cur == ARGV[1] end
if not same then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return 1";

        private RedisLock? _lock;

        internal RedisNumber(RedisBackend backend, string name, MetaReader meta) : base(backend, name, IpcObjectKind.Value)
        {
            string code = meta.Text("code", 1);
            Type = Supported(code.Length == 1 ? IpcDataType.FromCode(code[0]) : null)
                   ?? throw new IpcObjectCorruptException(name, backend.Address, $"its typecode '{RedisBackend.Truncate(code)}' is not a number type this backend serves");
        }

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            var type = Supported(o.DataType ?? IpcDataType.Parse("q"))
                       ?? throw new ArgumentException($"A Redis value holds a number of type b, B, h, H, i, I, l, q, f or d; not {o.DataType}.", nameof(o.DataType));
            yield return new KeyValuePair<string, string>("code", type.Code.ToString());
            yield return new KeyValuePair<string, string>("v", Text(type, o.InitialValue ?? 0));
            if (type.Code != 'f' && type.Code != 'd' && type.Size < 8)
            {
                yield return new KeyValuePair<string, string>("min", Text(type, Min(type)));
                yield return new KeyValuePair<string, string>("max", Text(type, Max(type)));
            }
        }

        private static IpcDataType? Supported(IpcDataType? t) => t != null && "bBhHiIlqfd".IndexOf(t.Code) >= 0 ? t : null;

        private static object Min(IpcDataType t) => t.Code switch { 'b' => sbyte.MinValue, 'B' => byte.MinValue, 'h' => short.MinValue, 'H' => ushort.MinValue, 'i' => int.MinValue, _ => uint.MinValue };

        private static object Max(IpcDataType t) => t.Code switch { 'b' => sbyte.MaxValue, 'B' => byte.MaxValue, 'h' => short.MaxValue, 'H' => ushort.MaxValue, 'i' => int.MaxValue, _ => uint.MaxValue };

        /// <summary>VALUE converted with the local Value's checks, as the text Redis stores.</summary>
        private static string Text(IpcDataType type, object? value) => type.Convert(value) switch
        {
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            float f => ((double)f).ToString("R", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            var x => x.ToString() ?? "0",
        };

        public IpcDataType Type { get; }

        public object Value
        {
            get => Get();
            set => Set(value);
        }

        public object Get() => Parse((string?)Eval(GetScript, Keys(Meta), Array.Empty<RedisValue>(), "Get", write: false));

        public void Set(object value) => Eval(SetScript, Keys(Meta), Args(Text(Type, value)), "Set", write: true);

        /// <summary>Adds DELTA atomically and answers the new value (OverflowException, and no change, past the type's range).</summary>
        public object Add(object delta) =>
            Parse((string?)Eval(AddScript, Keys(Meta), Args(Type.Code == 'f' || Type.Code == 'd' ? Text(Type, delta) : Text(IpcDataType.Parse("q"), delta)), "Add", write: true));

        /// <summary>Sets NEWVALUE when the value is EXPECTED, atomically; True when it did.</summary>
        public bool CompareAndSet(object expected, object newValue) =>
            ScriptReply.Integer(Eval(CasScript, Keys(Meta), Args(Text(Type, expected), Text(Type, newValue)), "CompareAndSet", write: true), this, "CompareAndSet") == 1;

        /// <summary>The number Redis holds, checked: a text that is not a number of the type is IpcObjectCorruptException.</summary>
        private object Parse(string? text)
        {
            if (text is null || text.Length > 64) throw new IpcObjectCorruptException(Name, Address, "its value in Redis is missing or too long");
            try
            {
                if (Type.Code == 'f' || Type.Code == 'd')
                    return Type.Convert(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                return Type.Convert(decimal.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is FormatException || e is OverflowException || e is ArgumentException)
            {
                throw new IpcObjectCorruptException(Name, Address, $"its value in Redis ('{RedisBackend.Truncate(text)}') is not a {Type.Name}");
            }
        }

        /// <summary>The value's lock: a Redis lock named NAME.lock (made on first use, with the default lease).</summary>
        public RedisLock GetLock()
        {
            if (_lock != null) return _lock;
            var made = (RedisLock)Backend.Create(IpcObjectKind.Lock, Name + ".lock", new IpcBackendOptions { OpenOrCreate = true });
            if (Interlocked.CompareExchange(ref _lock, made, null) != null) made.Dispose();
            return _lock!;
        }

        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel) => GetLock().TryAcquire(timeout, cancel);
        public bool Acquire() => GetLock().Acquire();
        public bool Acquire(bool block, double timeoutSeconds) => GetLock().Acquire(block, timeoutSeconds);
        public void Release() => GetLock().Release();

        protected override void OnClose() => _lock?.Dispose();

        public override string ToString() => IsClosed ? $"RedisValue('{Name}', closed)" : $"RedisValue('{Name}', {Type.Code}, {Address})";
    }
}
