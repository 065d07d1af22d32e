using System;
using System.Collections;
using System.Collections.Specialized;
using IpcPs.Core.Managers;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// The object transport every channel uses (docs/design.md, "Wire format"): a tag byte, then the value. Primitives,
    /// strings, byte[], arrays, lists and hashtables are encoded here, property bags through <see cref="Fallback"/>,
    /// anything else goes to the fallback's serializer (PowerShell's CLIXML once the module is loaded) as text.
    /// <para>
    /// Object graphs: containers (arrays, lists, hashtables, primitive arrays, property bags) and serialized objects are
    /// numbered 0, 1, 2, … in the order the encoder meets them, and a value met again is written as <see cref="Tag.Ref"/>
    /// and its number, as PowerShell's serializer writes &lt;Ref RefId=…/&gt;: shared references and cycles arrive as
    /// such. The decoder numbers each container as soon as it has made it, before reading what is inside, so a
    /// container that contains itself is rebuilt. Containers nest at most <see cref="ObjectGraph.MaxNesting"/> deep:
    /// the encoder writes one met deeper as its text (remoting cuts at its depth the same way), the decoder refuses one.
    /// </para>
    /// <para>
    /// Decoding is bounded by the message (<see cref="DecodeCost"/>): a message of S bytes makes the decoder allocate at
    /// most 64·S + 768 KiB whatever counts it claims; anything else than a value comes out as MessageFormatException.
    /// </para>
    /// </summary>
    public static unsafe partial class MessageCodec
    {
        /// <summary>How deep containers may nest (<see cref="ObjectGraph.MaxNesting"/>).</summary>
        public const int MaxNesting = ObjectGraph.MaxNesting;

        /// <summary>The serializer for everything else: the host's (<see cref="IpcHost"/>), PowerShell's once the module is loaded.</summary>
        public static IMessageFallback? Fallback => IpcHost.Current.Messages;

        [ThreadStatic] private static MessageWriter? _writer;

        // Decoded booleans are shared boxes: a message of N booleans allocates nothing per value.
        private static readonly object BoxedTrue = true, BoxedFalse = false;

        /// <summary>
        /// Encodes VALUE into this thread's writer, taken out of its slot while in use (a script property or a
        /// serializer that sends a message of its own gets another one); give it back with <see cref="Recycle"/>.
        /// Throws ArgumentException for a value that cannot be sent, or that its receiver would refuse to decode.
        /// </summary>
        public static MessageWriter Encode(object? value, int depth) => Encode(value, depth, checkCost: true);

        /// <summary>As <see cref="Encode(object, int)"/>; without CHECKCOST, a message its receiver would refuse is encoded anyway (for tests).</summary>
        internal static MessageWriter Encode(object? value, int depth, bool checkCost)
        {
            var w = _writer ?? new MessageWriter();
            _writer = null;
            w.Reset();
            // Exactly a byte[]: the runtime lets an sbyte[] pass for a byte[] ("is" and casts), and it must travel as
            // an sbyte[] (a primitive array), not come back as bytes.
            if (value is byte[] bytes && value.GetType() == typeof(byte[]))
            {
                // The one top-level case that is never copied by the encoder: tag and length, then the array itself.
                w.WriteTag(Tag.Bytes);
                w.WriteCount(bytes.Length);
                w.Tail = bytes;
                w.DecodeCharge = DecodeCost.Bytes(bytes.Length);
                return w;
            }
            w.Depth = depth;
            try
            {
                Write(w, value, 0);
                long allowance = DecodeCost.Allowance(w.TotalLength);
                if (checkCost && w.DecodeCharge > allowance) throw TooCostly(w.DecodeCharge, w.TotalLength);
            }
            catch
            {
                Recycle(w);
                throw;
            }
            return w;
        }

        /// <summary>
        /// Appends VALUE to W as the next message of a batch (<see cref="MessageBatch"/>): encoded and checked exactly as
        /// <see cref="Encode(object, int)"/> encodes one message (a top-level byte[] is copied in, with the same bytes).
        /// </summary>
        internal static void EncodeNext(MessageWriter w, object? value, int depth)
        {
            int start = w.Length;
            w.Depth = depth;
            Write(w, value, 0);
            long allowance = DecodeCost.Allowance(w.Length - start);
            if (w.DecodeCharge > allowance) throw TooCostly(w.DecodeCharge, w.Length - start);
        }

        private static ArgumentException TooCostly(long charge, long length) =>
            new ArgumentException(
                $"The message would need {charge:N0} bytes of memory to decode, more than its receiver allows for a message of " +
                $"{length:N0} bytes ({DecodeCost.Factor} times its size + {DecodeCost.Slack / 1024} KiB): it holds very many small " +
                "objects or properties. Send them in several messages.");

        /// <summary>VALUE encoded at DEPTH into an array of its own (what <see cref="Decode(byte[])"/> reads back); throws as <see cref="Encode(object, int)"/>.</summary>
        public static byte[] EncodeToArray(object? value, int depth)
        {
            var w = Encode(value, depth);
            try
            {
                var bytes = new byte[w.TotalLength];
                Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                return bytes;
            }
            finally { Recycle(w); }
        }

        /// <summary>Returns a writer from <see cref="Encode"/> for the thread's next message.</summary>
        public static void Recycle(MessageWriter writer)
        {
            writer.Reset();
            _writer = writer;
        }

        public static object? Decode(byte[] buffer) => Decode(buffer, 0, buffer.Length);

        /// <summary>Decodes one message from BUFFER[OFFSET..OFFSET+COUNT); anything left over or missing is a format error.</summary>
        public static object? Decode(byte[] buffer, int offset, int count) => Decode(buffer, offset, count, out _);

        /// <summary>As <see cref="Decode(byte[], int, int)"/>; CHARGED is what the decoder charged to the message's allowance.</summary>
        internal static object? Decode(byte[] buffer, int offset, int count, out long charged) =>
            Decode(buffer, offset, count, DecodeCost.Allowance(count), out charged);

        /// <summary>As <see cref="Decode(byte[], int, int)"/> with another ALLOWANCE (for tests that measure the charges themselves).</summary>
        internal static object? Decode(byte[] buffer, int offset, int count, long allowance, out long charged)
        {
            var r = new MessageReader(buffer, offset, count) { Allowance = allowance };
            var numbered = new Numbering();
            try
            {
                var value = Read(ref r, ref numbered, 0);
                if (r.Remaining != 0) throw new MessageFormatException($"The message has {r.Remaining} bytes after its value.");
                charged = allowance - r.Allowance;
                return value;
            }
            // Whatever ends the decode, the handles it attached are closed (the values made so far are still numbered).
            // In a catch, not a filter: a filter runs before the finally blocks of the frames that threw, which may
            // still hold a lock (a registry's) that closing a handle takes.
            catch (Exception e)
            {
                Abandon(ref numbered);
                if (e is IndexOutOfRangeException || e is ArgumentException || e is OverflowException || e is FormatException
                    || e is InsufficientExecutionStackException)
                    throw new MessageFormatException("The message is damaged: " + e.Message, e);
                throw;
            }
            finally { numbered.Release(); }
        }

        // ---- encoding ----------------------------------------------------------------------------------------------

        private static void Write(MessageWriter w, object? value, int nesting)
        {
            switch (value)
            {
                case null: w.WriteTag(Tag.Null); return;
                case int i: w.WriteTag(Tag.Int32); w.WriteInt32(i); return;
                case string s: w.WriteTag(Tag.String); w.DecodeCharge += DecodeCost.String(w.WriteString(s)); return;
                case long l: w.WriteTag(Tag.Int64); w.WriteInt64(l); return;
                case double d: w.WriteTag(Tag.Double); w.WriteInt64(BitConverter.DoubleToInt64Bits(d)); return;
                case bool b: w.WriteTag(b ? Tag.True : Tag.False); return;
                case byte[] bytes when bytes.GetType() == typeof(byte[]):   // not an sbyte[] passing for one
                    w.WriteTag(Tag.Bytes);
                    w.WriteCount(bytes.Length);
                    w.WriteBytes(bytes, 0, bytes.Length);
                    w.DecodeCharge += DecodeCost.Bytes(bytes.Length);
                    return;
                case float f: w.WriteTag(Tag.Single); w.WriteInt32(*(int*)&f); return;
                case decimal m:
                    w.WriteTag(Tag.Decimal);
                    foreach (int part in decimal.GetBits(m)) w.WriteInt32(part);
                    w.DecodeCharge += DecodeCost.Wide;
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
                case Guid g: w.WriteTag(Tag.Guid); w.WriteBytes(g.ToByteArray(), 0, 16); w.DecodeCharge += DecodeCost.Wide; return;
                case Version v:
                    w.WriteTag(Tag.Version);
                    w.WriteInt32(v.Major);
                    w.WriteInt32(v.Minor);
                    w.WriteInt32(v.Build);
                    w.WriteInt32(v.Revision);
                    w.DecodeCharge += DecodeCost.Version;
                    return;
                case Uri u: w.WriteTag(Tag.Uri); w.DecodeCharge += DecodeCost.Uri(w.WriteString(u.ToString())); return;
                case object[] items:
                    if (!BeginContainer(w, items, nesting)) return;
                    w.WriteTag(Tag.Array);
                    w.WriteCount(items.Length);
                    w.DecodeCharge += DecodeCost.Array(items.Length);
                    foreach (var item in items) Write(w, item, nesting + 1);
                    return;
                case Array primitive when PrimitiveArrays.CodeOf(primitive) is int code && code >= 0:
                    // A leaf (no values inside), numbered like a container: PowerShell keeps an int[] met twice as one.
                    if (NumberedBefore(w, primitive)) return;
                    w.DecodeCharge += DecodeCost.PrimitiveArray(PrimitiveArrays.Write(w, primitive, code));
                    return;
                case Hashtable table:
                    if (!BeginContainer(w, table, nesting)) return;
                    w.WriteTag(Tag.Hashtable);
                    w.WriteByte(IsCaseSensitive(table) ? (byte)0 : (byte)1);
                    w.DecodeCharge += DecodeCost.Hashtable(table.Count);
                    WriteEntries(w, table, nesting);
                    return;
                case OrderedDictionary ordered:
                    if (!BeginContainer(w, ordered, nesting)) return;
                    w.WriteTag(Tag.Ordered);
                    w.WriteByte(1);
                    w.DecodeCharge += DecodeCost.Ordered(ordered.Count);
                    WriteEntries(w, ordered, nesting);
                    return;
                case IList list when IsPlainList(list):
                    if (!BeginContainer(w, list, nesting)) return;
                    int count = list.Count;
                    w.WriteTag(Tag.List);
                    w.WriteCount(count);
                    w.DecodeCharge += DecodeCost.List(count);
                    for (int k = 0; k < count; k++) Write(w, list[k], nesting + 1);
                    return;
            }
            WriteOther(w, value, nesting);
        }

        /// <summary>What the fallback handles: a wrapper's inner value, a property bag, or a serialized object.</summary>
        private static void WriteOther(MessageWriter w, object value, int nesting)
        {
            var fallback = Fallback ?? throw new ArgumentException(
                $"A {value.GetType().FullName} cannot be sent without the PowerShell serializer (import the IpcPs module).");
            var inner = fallback.Unwrap(value);
            if (!ReferenceEquals(inner, value) && (inner is null || IsEncodable(inner)))
            {
                Write(w, inner, nesting);
                return;
            }
            if (fallback.TryGetPropertyBag(value, out var typeNames, out var properties))
            {
                // A [pscustomobject]: its type names and properties, each value encoded like any other. Like
                // PowerShell's serializer, a custom object's own properties do not use up the depth: a tree of custom
                // objects keeps all its levels (up to the nesting limit); only other objects inside are cut at the depth.
                if (!BeginContainer(w, value, nesting)) return;
                w.WriteTag(Tag.PropertyBag);
                w.DecodeCharge += DecodeCost.Bag;
                WriteTypeList(w, typeNames);
                w.WriteCount(properties.Length);
                foreach (var p in properties)
                {
                    w.DecodeCharge += DecodeCost.Property(w.WriteString(p.Key));
                    Write(w, p.Value, nesting + 1);
                }
                return;
            }
            if (NumberedBefore(w, value)) return;
            string text = fallback.Serialize(value, w.Depth);
            long charge;
            try { charge = fallback.Check(text); }
            catch (MessageFormatException e)
            {
                throw new ArgumentException($"A {value.GetType().FullName} cannot be sent: its receiver would refuse it. {e.Message}", e);
            }
            w.WriteTag(Tag.Clixml);
            w.DecodeCharge += DecodeCost.String(w.WriteString(text)) + charge;
        }

        // The type-name list last written by this thread, as bytes and charge: a run of custom objects shares one
        // list (the host gives the same array for it), so its encoding is copied, not redone.
        [ThreadStatic] private static string[]? _listNames;
        [ThreadStatic] private static byte[]? _listBytes;
        [ThreadStatic] private static long _listCharge;

        /// <summary>A bag's type names: their count, then each as a string; charged as the decoder will charge them.</summary>
        private static void WriteTypeList(MessageWriter w, string[] typeNames)
        {
            if (ReferenceEquals(typeNames, _listNames))
            {
                w.WriteBytes(_listBytes!, 0, _listBytes!.Length);
                w.DecodeCharge += _listCharge;
                return;
            }
            int start = w.Length;
            long charge = 0;
            w.WriteCount(typeNames.Length);
            long key = 0;
            for (int i = 0; i < typeNames.Length; i++)
            {
                int n = w.WriteString(typeNames[i]);
                key = DecodeCost.TypeNameKey(key, i, n);
                charge += DecodeCost.TypeName(n, key);
            }
            w.DecodeCharge += charge;
            if (w.Length - start > ShapeCache.MaxTypeListBytes) return;
            var bytes = new byte[w.Length - start];
            System.Buffer.BlockCopy(w.Buffer, start, bytes, 0, bytes.Length);
            _listNames = typeNames;
            _listBytes = bytes;
            _listCharge = charge;
        }

        /// <summary>
        /// Before a container: a back-reference if it was met before, its text if it is nested too deep (both
        /// false: nothing more to write); else it is numbered (true: the caller writes it).
        /// </summary>
        private static bool BeginContainer(MessageWriter w, object container, int nesting)
        {
            if (nesting >= ObjectGraph.MaxNesting)
            {
                if (WroteReference(w, container)) return false;
                // Cut as remoting cuts at its depth: the value's text instead of the value (not numbered).
                w.WriteTag(Tag.String);
                w.DecodeCharge += DecodeCost.String(w.WriteString(TextOf(container)));
                return false;
            }
            if (NumberedBefore(w, container)) return false;
            ObjectGraph.CheckStack(nesting);
            return true;
        }

        /// <summary>A back-reference if VALUE was met before (true); else VALUE is numbered now (false).</summary>
        private static bool NumberedBefore(MessageWriter w, object value)
        {
            int number = w.Seen.FindOrAdd(value);
            if (number < 0) return false;
            w.WriteTag(Tag.Ref);
            w.WriteCount(number);
            return true;
        }

        private static bool WroteReference(MessageWriter w, object value)
        {
            int number = w.Seen.Find(value);
            if (number < 0) return false;
            w.WriteTag(Tag.Ref);
            w.WriteCount(number);
            return true;
        }

        private static string TextOf(object value)
        {
            try { return value.ToString() ?? ""; }
            catch (Exception) { return value.GetType().FullName ?? ""; }   // a ToString that throws must not fail the message
        }

        /// <summary>A list the binary path carries: not an array (those have their own tags), not a handle or a proxy.</summary>
        private static bool IsPlainList(IList list) => !(list is Array) && !(list is IpcObject) && !(list is IManagedProxy);

        /// <summary>Whether VALUE takes the binary path (not the serializer).</summary>
        private static bool IsEncodable(object value) =>
            value is string || value is IConvertible && !(value is Enum) || value is TimeSpan || value is Guid || value is byte[]
            || value is Version || value is Uri
            || value is object[] || value is Hashtable || value is OrderedDictionary || value is Array a && PrimitiveArrays.CodeOf(a) >= 0
            || value is IList l && IsPlainList(l);

        private static void WriteEntries(MessageWriter w, IDictionary dict, int nesting)
        {
            w.WriteCount(dict.Count);
            foreach (DictionaryEntry e in dict)
            {
                Write(w, e.Key, nesting + 1);
                Write(w, e.Value, nesting + 1);
            }
        }

        /// <summary>Hashtable's comparer (a non-public property), read through a compiled delegate: reflection's GetValue took a tenth of a small hashtable's encoding.</summary>
        private static readonly Func<Hashtable, IEqualityComparer?> ComparerOf = MakeComparerOf();

        private static Func<Hashtable, IEqualityComparer?> MakeComparerOf()
        {
            var property = typeof(Hashtable).GetProperty("EqualityComparer", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
            if (property is null || !typeof(IEqualityComparer).IsAssignableFrom(property.PropertyType)) return _ => null;
            try
            {
                var table = System.Linq.Expressions.Expression.Parameter(typeof(Hashtable), "table");
                return System.Linq.Expressions.Expression.Lambda<Func<Hashtable, IEqualityComparer?>>(
                    System.Linq.Expressions.Expression.Convert(System.Linq.Expressions.Expression.Property(table, property), typeof(IEqualityComparer)), table).Compile();
            }
            catch (Exception) { return t => property.GetValue(t) as IEqualityComparer; }   // a runtime that cannot compile: reflection
        }

        /// <summary>PowerShell's @{} ignores case; a Hashtable made in .NET usually does not. The flag keeps the difference.</summary>
        private static bool IsCaseSensitive(Hashtable table)
        {
            var comparer = ComparerOf(table);
            return !(comparer != null && (ReferenceEquals(comparer, StringComparer.OrdinalIgnoreCase) || comparer.Equals("a", "A")));
        }
    }
}
