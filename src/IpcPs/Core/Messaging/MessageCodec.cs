using System;
using System.Collections;
using System.Collections.Specialized;
using System.Text;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// The object transport every channel uses (docs/design.md, "Wire format"): a tag byte, then the value. Primitives,
    /// strings, byte[] and arrays/hashtables of them are encoded here; anything else goes to <see cref="Fallback"/>
    /// (PowerShell's CLIXML serializer once the module is loaded) and travels as text.
    /// </summary>
    public static unsafe class MessageCodec
    {
        /// <summary>How deep arrays and hashtables may nest (a hashtable that contains itself stops here).</summary>
        public const int MaxNesting = 64;

        /// <summary>The serializer for everything else; set by the hosting layer.</summary>
        public static IMessageFallback? Fallback { get; set; }

        [ThreadStatic] private static MessageWriter? _writer;

        /// <summary>
        /// Encodes VALUE into this thread's writer, taken out of its slot while in use (a script property or a
        /// serializer that sends a message of its own gets another one); give it back with <see cref="Recycle"/>.
        /// </summary>
        public static MessageWriter Encode(object? value, int depth)
        {
            var w = _writer ?? new MessageWriter();
            _writer = null;
            w.Reset();
            if (value is byte[] bytes)
            {
                // The one top-level case that is never copied by the encoder: tag and length, then the array itself.
                w.WriteTag(Tag.Bytes);
                w.WriteCount(bytes.Length);
                w.Tail = bytes;
                return w;
            }
            Write(w, value, depth, 0);
            return w;
        }

        /// <summary>Returns a writer from <see cref="Encode"/> for the thread's next message.</summary>
        public static void Recycle(MessageWriter writer)
        {
            writer.Reset();
            _writer = writer;
        }

        public static object? Decode(byte[] buffer) => Decode(buffer, 0, buffer.Length);

        /// <summary>Decodes one message from BUFFER[OFFSET..OFFSET+COUNT); anything left over or missing is a format error.</summary>
        public static object? Decode(byte[] buffer, int offset, int count)
        {
            var r = new MessageReader(buffer, offset, count);
            try
            {
                var value = Read(ref r, 0);
                if (r.Remaining != 0) throw new MessageFormatException($"The message has {r.Remaining} bytes after its value.");
                return value;
            }
            catch (Exception e) when (e is IndexOutOfRangeException || e is ArgumentException || e is OverflowException)
            {
                throw new MessageFormatException("The message is damaged: " + e.Message, e);
            }
        }

        private static void Write(MessageWriter w, object? value, int depth, int nesting)
        {
            switch (value)
            {
                case null: w.WriteTag(Tag.Null); return;
                case int i: w.WriteTag(Tag.Int32); w.WriteInt32(i); return;
                case string s: w.WriteTag(Tag.String); w.WriteString(s); return;
                case long l: w.WriteTag(Tag.Int64); w.WriteInt64(l); return;
                case double d: w.WriteTag(Tag.Double); w.WriteInt64(BitConverter.DoubleToInt64Bits(d)); return;
                case bool b: w.WriteTag(b ? Tag.True : Tag.False); return;
                case byte[] bytes: w.WriteTag(Tag.Bytes); w.WriteCount(bytes.Length); w.WriteBytes(bytes, 0, bytes.Length); return;
                case float f: w.WriteTag(Tag.Single); w.WriteInt32(*(int*)&f); return;
                case decimal m:
                    w.WriteTag(Tag.Decimal);
                    foreach (int part in decimal.GetBits(m)) w.WriteInt32(part);
                    return;
                case byte b8: w.WriteTag(Tag.Byte); w.WriteByte(b8); return;
                case sbyte s8: w.WriteTag(Tag.SByte); w.WriteByte((byte)s8); return;
                case short s16: w.WriteTag(Tag.Int16); w.WriteInt32(s16); return;
                case ushort u16: w.WriteTag(Tag.UInt16); w.WriteInt32(u16); return;
                case uint u32: w.WriteTag(Tag.UInt32); w.WriteInt32((int)u32); return;
                case ulong u64: w.WriteTag(Tag.UInt64); w.WriteInt64((long)u64); return;
                case char c: w.WriteTag(Tag.Char); w.WriteInt32(c); return;
                case DateTime dt: w.WriteTag(Tag.DateTime); w.WriteInt64(dt.ToBinary()); return;
                case TimeSpan ts: w.WriteTag(Tag.TimeSpan); w.WriteInt64(ts.Ticks); return;
                case Guid g: w.WriteTag(Tag.Guid); w.WriteBytes(g.ToByteArray(), 0, 16); return;
                case object[] items:
                    Nest(nesting);
                    w.WriteTag(Tag.Array);
                    w.WriteCount(items.Length);
                    foreach (var item in items) Write(w, item, depth, nesting + 1);
                    return;
                case Array primitive when PrimitiveArrays.TryWrite(w, primitive): return;
                case Hashtable table:
                    Nest(nesting);
                    w.WriteTag(Tag.Hashtable);
                    w.WriteByte(IsCaseSensitive(table) ? (byte)0 : (byte)1);
                    WriteEntries(w, table, depth, nesting);
                    return;
                case OrderedDictionary ordered:
                    Nest(nesting);
                    w.WriteTag(Tag.Ordered);
                    w.WriteByte(1);
                    WriteEntries(w, ordered, depth, nesting);
                    return;
            }
            var fallback = Fallback ?? throw new ArgumentException(
                $"A {value.GetType().FullName} cannot be sent without the PowerShell serializer (import the IpcPs module).");
            var inner = fallback.Unwrap(value);
            if (!ReferenceEquals(inner, value) && (inner is null || IsEncodable(inner)))
            {
                Write(w, inner, depth, nesting);
                return;
            }
            if (fallback.TryGetPropertyBag(value, out var typeNames, out var properties))
            {
                // A [pscustomobject]: its type names and properties, each value encoded like any other (a nested
                // object's properties are kept whatever the depth, as PowerShell's serializer does for these).
                Nest(nesting);
                w.WriteTag(Tag.PropertyBag);
                w.WriteCount(typeNames.Length);
                foreach (var t in typeNames) w.WriteString(t);
                w.WriteCount(properties.Length);
                foreach (var p in properties)
                {
                    w.WriteString(p.Key);
                    Write(w, p.Value, Math.Max(depth - 1, 1), nesting + 1);
                }
                return;
            }
            w.WriteTag(Tag.Clixml);
            w.WriteString(fallback.Serialize(value, depth));
        }

        /// <summary>Whether VALUE takes the binary path (not the serializer).</summary>
        private static bool IsEncodable(object value) =>
            value is string || value is IConvertible && !(value is Enum) || value is TimeSpan || value is Guid || value is byte[]
            || value is object[] || value is Hashtable || value is OrderedDictionary || value is Array a && PrimitiveArrays.IsSupported(a);

        private static void WriteEntries(MessageWriter w, IDictionary dict, int depth, int nesting)
        {
            w.WriteCount(dict.Count);
            foreach (DictionaryEntry e in dict)
            {
                Write(w, e.Key, depth, nesting + 1);
                Write(w, e.Value, depth, nesting + 1);
            }
        }

        private static void Nest(int nesting)
        {
            if (nesting >= MaxNesting)
                throw new ArgumentException($"The message nests arrays or hashtables more than {MaxNesting} deep (does a collection contain itself?).");
        }

        private static readonly System.Reflection.PropertyInfo? ComparerProperty =
            typeof(Hashtable).GetProperty("EqualityComparer", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);

        /// <summary>PowerShell's @{} ignores case; a Hashtable made in .NET usually does not. The flag keeps the difference.</summary>
        private static bool IsCaseSensitive(Hashtable table) =>
            !(ComparerProperty?.GetValue(table) is IEqualityComparer comparer && comparer.Equals("a", "A"));

        private static object? Read(ref MessageReader r, int nesting)
        {
            var tag = (Tag)r.ReadByte();
            switch (tag)
            {
                case Tag.Null: return null;
                case Tag.False: return false;
                case Tag.True: return true;
                case Tag.Int32: return r.ReadInt32();
                case Tag.Int64: return r.ReadInt64();
                case Tag.Double: return BitConverter.Int64BitsToDouble(r.ReadInt64());
                case Tag.Single: { int bits = r.ReadInt32(); return *(float*)&bits; }
                case Tag.Decimal: return new decimal(new[] { r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32() });
                case Tag.Byte: return r.ReadByte();
                case Tag.SByte: return (sbyte)r.ReadByte();
                case Tag.Int16: return checked((short)r.ReadInt32());
                case Tag.UInt16: return checked((ushort)r.ReadInt32());
                case Tag.UInt32: return (uint)r.ReadInt32();
                case Tag.UInt64: return (ulong)r.ReadInt64();
                case Tag.String: return r.ReadString();
                case Tag.Char: return checked((char)r.ReadInt32());
                case Tag.DateTime: return DateTime.FromBinary(r.ReadInt64());
                case Tag.TimeSpan: return new TimeSpan(r.ReadInt64());
                case Tag.Guid: return new Guid(r.ReadBytes(16));
                case Tag.Bytes: return r.ReadBytes(r.ReadCount());
                case Tag.Array:
                {
                    Nest(nesting);
                    int n = r.ReadCount();
                    if (n > r.Remaining) throw new MessageFormatException($"An array claims {n} items in {r.Remaining} bytes.");
                    var items = new object?[n];
                    for (int i = 0; i < n; i++) items[i] = Read(ref r, nesting + 1);
                    return items;
                }
                case Tag.PrimitiveArray: return PrimitiveArrays.Read(ref r);
                case Tag.Hashtable:
                case Tag.Ordered:
                {
                    Nest(nesting);
                    bool ignoreCase = r.ReadByte() != 0;
                    int n = r.ReadCount();
                    if (n > r.Remaining) throw new MessageFormatException($"A hashtable claims {n} entries in {r.Remaining} bytes.");
                    IDictionary dict = tag == Tag.Ordered
                        ? new OrderedDictionary(n, StringComparer.OrdinalIgnoreCase)
                        : ignoreCase ? new Hashtable(n, StringComparer.OrdinalIgnoreCase) : new Hashtable(n);
                    for (int i = 0; i < n; i++)
                    {
                        var key = Read(ref r, nesting + 1) ?? throw new MessageFormatException("A hashtable key is null.");
                        dict[key] = Read(ref r, nesting + 1);
                    }
                    return dict;
                }
                case Tag.PropertyBag:
                {
                    Nest(nesting);
                    int nt = r.ReadCount();
                    if (nt > r.Remaining) throw new MessageFormatException($"An object claims {nt} type names in {r.Remaining} bytes.");
                    var typeNames = new string[nt];
                    for (int i = 0; i < nt; i++) typeNames[i] = r.ReadString();
                    int np = r.ReadCount();
                    if (np > r.Remaining) throw new MessageFormatException($"An object claims {np} properties in {r.Remaining} bytes.");
                    var properties = new System.Collections.Generic.KeyValuePair<string, object?>[np];
                    for (int i = 0; i < np; i++)
                    {
                        string key = r.ReadString();
                        properties[i] = new System.Collections.Generic.KeyValuePair<string, object?>(key, Read(ref r, nesting + 1));
                    }
                    var bags = Fallback ?? throw new MessageFormatException("The message holds a PowerShell object; import the IpcPs module to read it.");
                    try { return bags.CreatePropertyBag(typeNames, properties); }
                    catch (Exception e) when (!(e is MessageFormatException)) { throw new MessageFormatException("A PowerShell object in the message cannot be rebuilt: " + e.Message, e); }
                }
                case Tag.Clixml:
                {
                    string text = r.ReadString();
                    var fallback = Fallback ?? throw new MessageFormatException("The message holds a serialized object; import the IpcPs module to read it.");
                    try { return fallback.Deserialize(text); }
                    catch (Exception e) when (!(e is MessageFormatException)) { throw new MessageFormatException("A serialized object in the message cannot be read: " + e.Message, e); }
                }
                default: throw new MessageFormatException($"Unknown value tag 0x{(byte)tag:X2} at byte {r.Position - 1}: the bytes are not an IpcPs message.");
            }
        }
    }
}
