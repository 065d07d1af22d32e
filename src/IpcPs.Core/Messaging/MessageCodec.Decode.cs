using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;

namespace IpcPs.Core.Messaging
{
    /// <summary>The decoder (see MessageCodec.cs for the format, the numbering of values and the bounds).</summary>
    public static unsafe partial class MessageCodec
    {
        private static object? Read(ref MessageReader r, ref Numbering numbered, int nesting)
        {
            var tag = (Tag)r.ReadByte();
            switch (tag)
            {
                case Tag.Null: return null;
                case Tag.False: return BoxedFalse;
                case Tag.True: return BoxedTrue;
                case Tag.Int32: return r.ReadInt32();
                case Tag.Int64: return r.ReadInt64();
                case Tag.Double: return BitConverter.Int64BitsToDouble(r.ReadInt64());
                case Tag.Single: { int bits = r.ReadInt32(); return *(float*)&bits; }
                case Tag.Decimal: r.Charge(DecodeCost.Wide); return new decimal(new[] { r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32() });
                case Tag.Byte: return r.ReadByte();
                case Tag.SByte: return (sbyte)r.ReadByte();
                case Tag.Int16: return checked((short)r.ReadInt32());
                case Tag.UInt16: return checked((ushort)r.ReadInt32());
                case Tag.UInt32: return (uint)r.ReadInt32();
                case Tag.UInt64: return (ulong)r.ReadInt64();
                case Tag.String:
                {
                    int n = r.ReadLength();
                    r.Charge(DecodeCost.String(n));
                    return r.ReadUtf8(n);
                }
                case Tag.Char: return checked((char)r.ReadInt32());
                case Tag.DateTime: return DateTime.FromBinary(r.ReadInt64());
                case Tag.TimeSpan: return new TimeSpan(r.ReadInt64());
                case Tag.Guid: r.Charge(DecodeCost.Wide); return new Guid(r.ReadBytes(16));
                case Tag.Version:
                {
                    r.Charge(DecodeCost.Version);
                    int major = r.ReadInt32(), minor = r.ReadInt32(), build = r.ReadInt32(), revision = r.ReadInt32();
                    return build == -1 ? new Version(major, minor) : revision == -1 ? new Version(major, minor, build) : new Version(major, minor, build, revision);
                }
                case Tag.Uri:
                {
                    int n = r.ReadLength();
                    r.Charge(DecodeCost.Uri(n));
                    return new Uri(r.ReadUtf8(n), UriKind.RelativeOrAbsolute);
                }
                case Tag.Bytes:
                {
                    int n = r.ReadLength();
                    r.Charge(DecodeCost.Bytes(n));
                    return r.ReadBytes(n);
                }
                case Tag.Array:
                {
                    Enter(nesting);
                    int n = r.ReadCount();
                    r.Reserve(n, 1, "An array");
                    r.Charge(DecodeCost.Array(n));
                    var items = new object?[n];
                    Number(ref numbered, items);
                    for (int i = 0; i < n; i++)
                    {
                        r.Unreserve(1);
                        items[i] = Read(ref r, ref numbered, nesting + 1);
                    }
                    return items;
                }
                case Tag.List:
                {
                    Enter(nesting);
                    int n = r.ReadCount();
                    r.Reserve(n, 1, "A list");
                    r.Charge(DecodeCost.List(n));
                    var list = new ArrayList(n);
                    Number(ref numbered, list);
                    for (int i = 0; i < n; i++)
                    {
                        r.Unreserve(1);
                        list.Add(Read(ref r, ref numbered, nesting + 1));
                    }
                    return list;
                }
                case Tag.PrimitiveArray:
                {
                    var a = PrimitiveArrays.Read(ref r);
                    Number(ref numbered, a);
                    return a;
                }
                case Tag.Hashtable:
                case Tag.Ordered:
                {
                    Enter(nesting);
                    bool ignoreCase = r.ReadByte() != 0;
                    int n = r.ReadCount();
                    r.Reserve(n, 2, "A hashtable");   // a key and a value: a byte each at least
                    r.Charge(tag == Tag.Ordered ? DecodeCost.Ordered(n) : DecodeCost.Hashtable(n));
                    IDictionary dict = tag == Tag.Ordered
                        ? new OrderedDictionary(n, StringComparer.OrdinalIgnoreCase)
                        : ignoreCase ? new Hashtable(n, StringComparer.OrdinalIgnoreCase) : new Hashtable(n);
                    Number(ref numbered, dict);
                    for (int i = 0; i < n; i++)
                    {
                        r.Unreserve(2);
                        var key = ReadKey(ref r, ref numbered, nesting + 1) ?? throw new MessageFormatException("A hashtable key is null.");
                        dict[key] = Read(ref r, ref numbered, nesting + 1);
                    }
                    return dict;
                }
                case Tag.PropertyBag: return ReadBag(ref r, ref numbered, nesting);
                case Tag.Ref:
                {
                    int n = r.ReadCount();
                    if (n >= numbered.Count)
                        throw new MessageFormatException($"A back-reference at byte {r.Position} names value {n}, which the message has not had.");
                    return numbered[n];
                }
                case Tag.Clixml:
                {
                    var fallback = Fallback ?? throw new MessageFormatException("The message holds a serialized object; import the IpcPs module to read it.");
                    int n = r.ReadLength();
                    r.Charge(DecodeCost.String(n));
                    string text = r.ReadUtf8(n);
                    object? value;
                    try
                    {
                        r.Charge(fallback.Check(text));
                        value = fallback.Deserialize(text);
                    }
                    catch (Exception e) when (!(e is MessageFormatException))
                    {
                        throw new MessageFormatException("A serialized object in the message cannot be read: " + e.Message, e);
                    }
                    Number(ref numbered, value);
                    return value;
                }
                default: throw new MessageFormatException($"Unknown value tag 0x{(byte)tag:X2} at byte {r.Position - 1}: the bytes are not an IpcPs message.");
            }
        }

        private static object ReadBag(ref MessageReader r, ref Numbering numbered, int nesting)
        {
            Enter(nesting);
            var bags = Fallback ?? throw new MessageFormatException("The message holds a PowerShell object; import the IpcPs module to read it.");
            r.Charge(DecodeCost.Bag);
            int nt = r.ReadCount();
            r.Reserve(nt, 1, "An object's type names");
            // The names are checked and charged here, and made (or found again: ShapeCache) once all are read.
            int listStart = r.Position;
            long key = 0;
            for (int i = 0; i < nt; i++)
            {
                r.Unreserve(1);
                int n = r.ReadLength();
                key = DecodeCost.TypeNameKey(key, i, n);
                r.Charge(DecodeCost.TypeName(n, key));
                r.Skip(n);
            }
            var typeNames = nt == 0 ? Array.Empty<string>() : ShapeCache.TypeList(r.Bytes, listStart, r.Position - listStart, nt);
            int np = r.ReadCount();
            r.Reserve(np, 2, "An object");   // a name and a value: a byte each at least
            object bag;
            try { bag = bags.CreatePropertyBag(typeNames, np); }
            catch (Exception e) when (!(e is MessageFormatException)) { throw new MessageFormatException("A PowerShell object in the message cannot be rebuilt: " + e.Message, e); }
            Number(ref numbered, bag);
            // The properties are added once all are read (one call: the host validates and adds them together); a value
            // that refers back to the bag already has it, the bag being numbered before its values are read.
            var (names, values) = RentProperties(np);
            try
            {
                for (int i = 0; i < np; i++)
                {
                    r.Unreserve(2);
                    int n = r.ReadLength();
                    r.Charge(DecodeCost.Property(n));
                    names[i] = r.ReadName(n);
                    values[i] = Read(ref r, ref numbered, nesting + 1);
                }
                try { bags.AddProperties(bag, names, values, np); }
                catch (Exception e) when (!(e is MessageFormatException)) { throw new MessageFormatException("A PowerShell object in the message cannot be rebuilt: " + e.Message, e); }
            }
            finally { ReturnProperties(names, values, np); }
            return bag;
        }

        // The names and values of the bag being read, in arrays the thread keeps for small bags (the host copies what
        // it keeps): one pair per level of nesting, taken out while in use, so a bag inside a bag, or a decoding that
        // another one interrupts, gets arrays of its own.
        private const int PooledProperties = 16;
        [ThreadStatic] private static string[]?[]? _namePool;
        [ThreadStatic] private static object?[]?[]? _valuePool;
        [ThreadStatic] private static int _pooledInUse;

        private static (string[] Names, object?[] Values) RentProperties(int count)
        {
            if (count == 0) return (Array.Empty<string>(), Array.Empty<object?>());
            int level = _pooledInUse;
            if (count > PooledProperties || level >= 4) return (new string[count], new object?[count]);
            var namePool = _namePool ??= new string[]?[4];
            var valuePool = _valuePool ??= new object?[]?[4];
            _pooledInUse = level + 1;
            return (namePool[level] ??= new string[PooledProperties], valuePool[level] ??= new object?[PooledProperties]);
        }

        private static void ReturnProperties(string[] names, object?[] values, int count)
        {
            if (count == 0 || names.Length != PooledProperties || _namePool is null) return;
            int level = _pooledInUse - 1;
            if (level < 0 || !ReferenceEquals(_namePool[level], names)) return;
            Array.Clear(names, 0, count);    // hold no names or values past the message
            Array.Clear(values, 0, count);
            _pooledInUse = level;
        }

        /// <summary>A hashtable key: a string key is read as a name (<see cref="ShapeCache"/>), anything else as any value.</summary>
        private static object? ReadKey(ref MessageReader r, ref Numbering numbered, int nesting)
        {
            if (r.Remaining == 0 || r.Peek() != (byte)Tag.String) return Read(ref r, ref numbered, nesting);
            r.ReadByte();
            int n = r.ReadLength();
            r.Charge(DecodeCost.String(n));
            return r.ReadName(n);
        }

        /// <summary>A container is about to be read at NESTING: refused past the limit, and never past the stack.</summary>
        private static void Enter(int nesting)
        {
            if (nesting >= ObjectGraph.MaxNesting)
                throw new MessageFormatException($"The message nests containers more than {ObjectGraph.MaxNesting} deep.");
            ObjectGraph.CheckStack(nesting);
        }

        /// <summary>Gives VALUE the next number (the encoder's order: each container as it begins, before its contents).</summary>
        private static void Number(ref Numbering numbered, object? value) => numbered.Add(value);

        /// <summary>
        /// A decode failed: handles attached for the values made so far (a CLIXML value is numbered, and so is every
        /// container that holds one) would be held by this process with nobody to close them; the fallback closes them.
        /// Never throws: the decode's own error is the one that goes on.
        /// </summary>
        private static void Abandon(ref Numbering numbered)
        {
            var fallback = Fallback;
            if (fallback is null || numbered.Count == 0) return;
            try
            {
                var values = new object?[numbered.Count];
                for (int i = 0; i < values.Length; i++) values[i] = numbered[i];
                fallback.Abandon(values);
            }
            catch (Exception) { /* closing is best effort */ }
        }

        /// <summary>
        /// The decoder's numbered values: the first four in fields (a message with a container or two touches no
        /// list), the rest in a list the thread keeps between messages (taken out while in use, so a decoding that
        /// another one interrupts, in a converter, gets its own).
        /// </summary>
        private struct Numbering
        {
            [ThreadStatic] private static List<object?>? _spare;
            private object? _v0, _v1, _v2, _v3;
            private List<object?>? _more;

            public int Count { get; private set; }

            public void Add(object? value)
            {
                switch (Count)
                {
                    case 0: _v0 = value; break;
                    case 1: _v1 = value; break;
                    case 2: _v2 = value; break;
                    case 3: _v3 = value; break;
                    default:
                        if (_more is null)
                        {
                            _more = _spare ?? new List<object?>();
                            _spare = null;
                        }
                        _more.Add(value);
                        break;
                }
                Count++;
            }

            public object? this[int number] => number switch { 0 => _v0, 1 => _v1, 2 => _v2, 3 => _v3, _ => _more![number - 4] };

            /// <summary>Gives the list back to the thread, holding nothing; a large one is let go.</summary>
            public void Release()
            {
                if (_more is null || _more.Count > 4096) return;
                _more.Clear();
                _spare = _more;
            }
        }
    }
}
