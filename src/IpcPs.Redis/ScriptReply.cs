using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// Reads a script's reply as untrusted, as <see cref="MetaReader"/> reads settings: a script computes its answer from
    /// fields anyone may have changed (a field Lua cannot read as a number becomes nil, and a nil ends a Lua table, so
    /// {0, index, nil} arrives as 2 elements). Every reply is checked for its shape and its types before a value is used,
    /// and a bad one is IpcObjectCorruptException (never InvalidCastException or IndexOutOfRangeException).
    /// </summary>
    internal static class ScriptReply
    {
        /// <summary>An integer reply.</summary>
        public static long Integer(RedisResult? r, RedisObject o, string operation) => Integer(r, o.Name, o.Address, operation);

        public static long Integer(RedisResult? r, string name, string address, string operation)
        {
            if (r is null || r.IsNull || r.Resp2Type != ResultType.Integer) throw Wrong(name, address, operation, "is not a number");
            return (long)r;
        }

        /// <summary>An array of exactly COUNT integers.</summary>
        public static long[] Integers(RedisResult? r, int count, RedisObject o, string operation) => Integers(r, count, count, o, operation);

        /// <summary>An array of MIN to MAX integers.</summary>
        public static long[] Integers(RedisResult? r, int min, int max, RedisObject o, string operation) =>
            Integers(r, min, max, o.Name, o.Address, operation);

        public static long[] Integers(RedisResult? r, int min, int max, string name, string address, string operation)
        {
            if (r is null || r.IsNull || r.Resp2Type != ResultType.Array || r.Length < min || r.Length > max)
                throw Wrong(name, address, operation, $"does not have {(min == max ? min.ToString() : $"{min} to {max}")} elements");
            var values = new long[r.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var e = r[i];
                if (e is null || e.IsNull || e.Resp2Type != ResultType.Integer) throw Wrong(name, address, operation, $"has an element {i + 1} that is not a number");
                values[i] = (long)e;
            }
            return values;
        }

        /// <summary>A reply that is one of the words WORDS.</summary>
        public static string Word(RedisResult? r, string name, string address, string operation, params string[] words)
        {
            string? text = r is null || r.IsNull || r.Resp2Type != ResultType.BulkString && r.Resp2Type != ResultType.SimpleString ? null : (string?)r;
            if (text != null && System.Array.IndexOf(words, text) >= 0) return text;
            throw Wrong(name, address, operation, "is not one it can give");
        }

        private static IpcObjectCorruptException Wrong(string name, string address, string operation, string what) =>
            new IpcObjectCorruptException(name, address, $"Redis's answer to {operation} {what} (a field of the object was changed by hand or by another program)");
    }
}
