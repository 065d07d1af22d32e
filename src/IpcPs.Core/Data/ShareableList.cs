using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text;
using System.Threading;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs
{
    /// <summary>
    /// CPython's <c>shared_memory.ShareableList</c>, byte for byte (reference §12), so CPython and PowerShell share one
    /// list by name. The segment has no IpcPs header (CPython must read it). Native (little-endian) layout, N items,
    /// D data bytes:
    /// <code>
    ///  0             i64 N
    ///  8             i64 off[0..N]: off[0] = 0, off[i+1] = off[i] + slot size of item i, off[N] = D
    ///  8(N+2)        the slots: item i at data_start + off[i]; every slot a multiple of 8 bytes
    ///  8(N+2)+D      N formats of 8 bytes, ASCII, NUL-padded: "q" int64, "d" double, "xxxxxxx?" bool (byte 7),
    ///                "xxxxxx?x" None (all zero), "&lt;A&gt;s" str or bytes of A bytes (NUL-padded)
    ///  8(N+2)+D+8N   N codes, i8: 0 as is, 1 str (UTF-8, trailing NULs stripped), 2 bytes (trailing NULs stripped), 3 None
    ///  size = 8(N+2) + D + 9N
    /// </code>
    /// Not copied from CPython: a str slot is sized by its UTF-8 bytes (8 × (bytes / 8 + 1)), not its characters
    /// (gh-88336); an index below −N is an error, never a read before the list. As in CPython, an item's write is not
    /// atomic (format, code, then bytes): guard concurrent writers with a lock of your own.
    /// </summary>
    public sealed unsafe class ShareableList : IpcObject, IEnumerable
    {
        private const ulong FormatQ = 'q', FormatD = 'd';
        private static readonly ulong FormatBool = BitConverter.ToUInt64(Encoding.ASCII.GetBytes("xxxxxxx?"), 0);
        private static readonly ulong FormatNone = BitConverter.ToUInt64(Encoding.ASCII.GetBytes("xxxxxx?x"), 0);
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);
        private const int MaxSlot = 9_999_999;   // "9999999s" is the longest format that fits in 8 bytes

        private byte* _base;       // the attached mapping (a use)
        private byte* _lookBase;   // the mapping a look reads: the attached one, or a described handle's view
        private int _count;
        private long[] _offsets = Array.Empty<long>();
        private long _dataStart, _formatStart, _codeStart;
        private SharedMemory? _shm;

        private ShareableList(string name) : base(name, IpcObjectKind.ShareableList) { }

        internal static ShareableList Describe(string name) => new ShareableList(name);

        private protected override bool UnmapOnClose => false;   // item access uses a cached pointer (see SyncObject)

        /// <summary>Creates a list holding ITEMS (int, float, bool, str, bytes, null); every item is checked before anything is created.</summary>
        public static ShareableList Create(string? name, IEnumerable? items)
        {
            var values = (items ?? Array.Empty<object>()).Cast<object?>().Select((v, i) => Encode(v, i)).ToArray();
            name = name is null ? IpcName.Generate() : IpcName.Validate(name);
            int n = values.Length;
            long data = values.Sum(v => (long)v.Slot);
            long size = 8L * (n + 2) + data + 9L * n;
            var list = new ShareableList(name);
            var segment = ObjectLifecycle.Create(name, IpcObjectKind.ShareableList, () =>
            {
                var s = Platforms.Current.SharedMemory.Create(name, size);
                byte* b = (byte*)s.Address;
                long* off = (long*)(b + 8);
                long dataStart = 8L * (n + 2), formatStart = dataStart + data, codeStart = formatStart + 8L * n;
                off[0] = 0;
                for (int i = 0; i < n; i++)
                {
                    off[i + 1] = off[i] + values[i].Slot;
                    WriteItem(b + dataStart + off[i], (ulong*)(b + formatStart) + i, (sbyte*)(b + codeStart) + i, values[i]);
                }
                *(long*)b = n;   // N last: CPython creates it first, but nobody can attach before the record exists anyway
                return s;
            });
            list.AttachCreated(segment, Platforms.Current.Registry.Read(name));
            list.Load((byte*)segment.Address, segment.Size);
            list._base = list._lookBase = (byte*)segment.Address;
            return list;
        }

        /// <summary>
        /// Opens NAME as a ShareableList: one IpcPs created, or one CPython created (no registry record). Its bytes are
        /// checked: a segment that is not a ShareableList is an <see cref="IpcObjectKindException"/>.
        /// </summary>
        public static ShareableList Open(string name)
        {
            var list = new ShareableList(IpcName.Validate(name));
            list.Open();
            return list;
        }

        /// <summary>Number of items.</summary>
        public int Count { get { _ = LookBase; return _count; } }

        /// <summary>The item formats joined, as CPython's <c>format</c> (e.g. "8s8sdqxxxxxx?xxxxxxxx?q").</summary>
        public string Format
        {
            get
            {
                var sb = new StringBuilder();
                for (int i = 0; i < Count; i++) sb.Append(FormatOf(i));
                return sb.ToString();
            }
        }

        /// <summary>The segment as raw bytes (CPython's <c>shm</c>): a view sharing this handle's mapping; closing the list closes it.</summary>
        public SharedMemory SharedMemory
        {
            get
            {
                var shm = Volatile.Read(ref _shm);
                if (shm != null) return shm;
                // A described list gives a described SharedMemory (reading it opens nothing); an attached one a view
                // on its own mapping.
                if (!IsOpen) return SharedMemory.Describe(Name, LookSegment.Size);
                _ = Base;
                shm = SharedMemory.View(Name, Segment, Record);
                return Interlocked.CompareExchange(ref _shm, shm, null) ?? shm;
            }
        }

        /// <summary>The item at INDEX (negative: from the end). Items read as long, double, bool, string, byte[] or null.</summary>
        public object? this[int index]
        {
            get => Get(index);
            set => Set(index, value);
        }

        /// <summary>The item at INDEX (a method: PowerShell hides exceptions thrown by indexers).</summary>
        public object? Get(int index)
        {
            byte* b = LookBase;
            int i = Index(index, b);
            byte* p = b + _dataStart + _offsets[i];
            ulong format = ((ulong*)(b + _formatStart))[i];
            sbyte code = ((sbyte*)(b + _codeStart))[i];
            if (format == FormatQ) return *(long*)p;
            if (format == FormatD) return *(double*)p;
            if (format == FormatBool) return p[7] != 0;
            if (format == FormatNone || code == 3) return null;
            int length = StringFormatLength(format, i);
            // The format is read at every get (a set may change an item's type), so it is checked against the slot's
            // room as fixed on attach: another writer's format can never make this read past the slot.
            if (length > _offsets[i + 1] - _offsets[i])
                throw new IpcObjectCorruptException(Name, $"ShareableList '{Name}' is damaged: item {i} claims {length} bytes in a slot of {_offsets[i + 1] - _offsets[i]}");
            while (length > 0 && p[length - 1] == 0) length--;   // as CPython: trailing NULs are not kept
            if (code == 1) return Utf8.GetString(p, length);
            var bytes = new byte[length];
            for (int k = 0; k < length; k++) bytes[k] = p[k];
            return bytes;
        }

        /// <summary>
        /// Sets the item at INDEX; its type may change. A str or bytes must fit the slot's room (its size when the list
        /// was made), else <see cref="IpcStorageException"/> and the list is unchanged.
        /// </summary>
        public void Set(int index, object? value)
        {
            byte* b = Base;
            int i = Index(index, b);
            long room = _offsets[i + 1] - _offsets[i];
            var item = Encode(value, null);
            if (item.Bytes != null && item.Bytes.Length > room)
                throw new IpcStorageException(Name,
                    $"The {(item.Code == 1 ? "string" : "bytes")} is {item.Bytes.Length} bytes{(item.Code == 1 ? " in UTF-8" : "")}; item {index} of the ShareableList '{Name}' has room for {room} (CPython: exceeds available storage).");
            if (item.Bytes != null)
            {
                ulong current = ((ulong*)(b + _formatStart))[i];
                // As CPython: keep the current "<A>s" format, or use the whole slot.
                item = new Entry(item.Code, item.Bytes, (int)room,
                    IsStringFormat(current) && FormatLength(current) >= item.Bytes.Length ? current : StringFormat((int)room), 0, 0);
            }
            WriteItem(b + _dataStart + _offsets[i], (ulong*)(b + _formatStart) + i, (sbyte*)(b + _codeStart) + i, item);
        }

        /// <summary>The index of the first item equal to VALUE, or -1 (CPython's index() raises instead).</summary>
        public int IndexOf(object? value)
        {
            value = IpcHost.Current.Unwrap(value);
            for (int i = 0; i < Count; i++) if (ItemEquals(Get(i), value)) return i;
            return -1;
        }

        /// <summary>How many items equal VALUE (CPython's count()).</summary>
        public int CountOf(object? value)
        {
            value = IpcHost.Current.Unwrap(value);
            int n = 0;
            for (int i = 0; i < Count; i++) if (ItemEquals(Get(i), value)) n++;
            return n;
        }

        /// <summary>True when some item equals VALUE.</summary>
        public bool Contains(object? value) => IndexOf(value) >= 0;

        /// <summary>Every item, in order.</summary>
        public object?[] ToArray() => GetRange(0, Count);

        /// <summary>
        /// COUNT items from START (negative: from the end), as CPython's sl[start:start+count] gives them; a range
        /// past the end is an error, not cut short.
        /// </summary>
        public object?[] GetRange(int start, int count)
        {
            int n = Count;
            int from = start < 0 ? start + n : start;
            if (count < 0) throw new ArgumentOutOfRangeException(null, "The count cannot be negative.");
            if (from < 0 || from > n || count > n - from)
                throw new ArgumentOutOfRangeException(null, $"{count} items from index {start} do not fit in the ShareableList '{Name}' of {n} items.");
            var items = new object?[count];
            for (int i = 0; i < count; i++) items[i] = Get(from + i);
            return items;
        }

        // ---- a list to PowerShell: foreach, the pipeline, Measure-Object, $list.Count, $list[-1], GetRange ----------
        // IEnumerable, not IList: PowerShell's serializer writes an IList as a bare list and drops its properties, and a
        // handle must cross a process as its descriptor (Name, Kind), which it writes for any other enumerable.

        /// <summary>The items in order, each read when reached (reading never opens the handle).</summary>
        public IEnumerator GetEnumerator()
        {
            int n = Count;
            for (int i = 0; i < n; i++) yield return Get(i);
        }


        public override string ToString() => IsClosed ? $"ShareableList('{Name}', closed)" : $"ShareableList({Count} items, name='{Name}')";

        // ---- equality (CPython's ==, in PowerShell's terms) -------------------------------------------------------

        /// <summary>
        /// Numbers (and bools, as in CPython True == 1) compare by value across types; strings ordinally, case-sensitive
        /// (CPython's ==); bytes by content; null only with null.
        /// </summary>
        private static bool ItemEquals(object? item, object? value)
        {
            if (item is null || value is null) return item is null && value is null;
            if (item is string s) return value is string t ? string.Equals(s, t, StringComparison.Ordinal) : value is char c && s.Length == 1 && s[0] == c;
            if (item is byte[] bytes) return value is byte[] other && bytes.SequenceEqual(other);
            if (!IsNumber(item) || !IsNumber(value)) return false;
            if (item is double || value is double || value is float || value is decimal)
                return ToDouble(item) == ToDouble(value);
            return ToBig(item) == ToBig(value);
        }

        private static bool IsNumber(object v) => v is bool || v is sbyte || v is byte || v is short || v is ushort || v is int
            || v is uint || v is long || v is ulong || v is float || v is double || v is decimal || v is BigInteger;

        private static double ToDouble(object v) => v is bool b ? (b ? 1 : 0) : v is BigInteger big ? (double)big : Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture);

        private static BigInteger ToBig(object v) => v switch
        {
            bool b => b ? BigInteger.One : BigInteger.Zero,
            ulong u => new BigInteger(u),
            BigInteger big => big,
            _ => new BigInteger(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)),
        };

        // ---- encoding --------------------------------------------------------------------------------------------

        /// <summary>An item ready to write: code, format (8 ASCII bytes as a word), slot size, and its bytes or its 8-byte value.</summary>
        private readonly struct Entry
        {
            public Entry(sbyte code, byte[]? bytes, int slot, ulong format, long bits, byte flag)
            {
                Code = code; Bytes = bytes; Slot = slot; Format = format; Bits = bits; Flag = flag;
            }

            public sbyte Code { get; }
            public byte[]? Bytes { get; }
            public int Slot { get; }
            public ulong Format { get; }
            public long Bits { get; }
            public byte Flag { get; }
        }

        /// <summary>VALUE as an item (INDEX for messages at creation); the six types CPython supports, nothing else.</summary>
        private static Entry Encode(object? value, int? index)
        {
            string where = index is int i ? $"Item {i}: " : "";
            switch (value)
            {
                case null: return new Entry(3, null, 8, FormatNone, 0, 0);
                case bool b: return new Entry(0, null, 8, FormatBool, 0, (byte)(b ? 1 : 0));
                case double d: return new Entry(0, null, 8, FormatD, BitConverter.DoubleToInt64Bits(d), 0);
                case float f: return new Entry(0, null, 8, FormatD, BitConverter.DoubleToInt64Bits(f), 0);
                case string s: return Text(1, Utf8.GetBytes(s), where);
                case char c: return Text(1, Utf8.GetBytes(c.ToString()), where);
                case byte[] bytes: return Text(2, bytes, where);
                case sbyte _: case byte _: case short _: case ushort _: case int _: case uint _: case long _:
                    return new Entry(0, null, 8, FormatQ, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), 0);
                case ulong u when u <= long.MaxValue: return new Entry(0, null, 8, FormatQ, (long)u, 0);
                case BigInteger big when big >= long.MinValue && big <= long.MaxValue: return new Entry(0, null, 8, FormatQ, (long)big, 0);
                case object o when IpcHost.Current.IsWrapped(o): return Encode(IpcHost.Current.Unwrap(o), index);
                case ulong _: case BigInteger _:
                    throw new OverflowException($"{where}{value} does not fit in a ShareableList int (64 bits: {long.MinValue} to {long.MaxValue}).");
                default:
                    throw new ArgumentException($"{where}a ShareableList holds only int, float, bool, str, bytes and $null (CPython's types); {value.GetType().FullName} is none of them.");
            }
        }

        private static Entry Text(sbyte code, byte[] bytes, string where)
        {
            int slot = 8 * (bytes.Length / 8 + 1);   // CPython's rule, but on UTF-8 bytes (CPython counts characters: gh-88336)
            if (slot > MaxSlot)
                throw new IpcStorageException(null, $"{where}the {(code == 1 ? "string" : "bytes")} is {bytes.Length} bytes; a ShareableList item holds at most {MaxSlot - 8} (CPython's limit).");
            return new Entry(code, bytes, slot, StringFormat(slot), 0, 0);
        }

        private static ulong StringFormat(int length)
        {
            var f = new byte[8];
            var text = Encoding.ASCII.GetBytes(length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "s");
            Array.Copy(text, f, text.Length);
            return BitConverter.ToUInt64(f, 0);
        }

        private static bool IsStringFormat(ulong format)
        {
            var f = BitConverter.GetBytes(format);
            int end = Array.IndexOf(f, (byte)0);
            if (end < 0) end = 8;
            if (end < 2 || f[end - 1] != (byte)'s') return false;
            for (int k = 0; k < end - 1; k++) if (f[k] < (byte)'0' || f[k] > (byte)'9') return false;
            for (int k = end; k < 8; k++) if (f[k] != 0) return false;
            return true;
        }

        /// <summary>Writes the format, then the code, then the value (CPython's order); pads the rest of a str/bytes format with NULs.</summary>
        private static void WriteItem(byte* slot, ulong* format, sbyte* code, Entry item)
        {
            *format = item.Format;
            *code = item.Code;
            if (item.Bytes != null)
            {
                int room = FormatLength(item.Format);
                int k = 0;
                for (; k < item.Bytes.Length; k++) slot[k] = item.Bytes[k];
                for (; k < room; k++) slot[k] = 0;
            }
            else if (item.Format == FormatBool || item.Format == FormatNone)
            {
                *(long*)slot = 0;   // pack_into zero-fills the pad bytes; bytes after the first 8 stay as they were (CPython)
                slot[7] = item.Flag;
            }
            else *(long*)slot = item.Bits;
        }

        private static int FormatLength(ulong format)
        {
            int n = 0;
            for (int k = 0; k < 8; k++)
            {
                byte c = (byte)(format >> (8 * k));
                if (c < (byte)'0' || c > (byte)'9') break;
                n = n * 10 + (c - '0');
            }
            return n;
        }

        private int StringFormatLength(ulong format, int i)
        {
            if (!IsStringFormat(format)) throw Damaged($"item {i} has the unknown format '{FormatOf(i)}'");
            return FormatLength(format);
        }

        private string FormatOf(int i)
        {
            ulong f = ((ulong*)(LookBase + _formatStart))[i];
            var bytes = BitConverter.GetBytes(f);
            int end = Array.IndexOf(bytes, (byte)0);
            return Encoding.ASCII.GetString(bytes, 0, end < 0 ? 8 : end);
        }

        // ---- attach and validation -------------------------------------------------------------------------------

        /// <summary>The mapping for a use (a write): attaches on first use; throws once closed or removed.</summary>
        private byte* Base
        {
            get
            {
                byte* b = _base;
                if (b != null && !IsClosed && RemovalUnchanged) return b;
                ThrowIfClosed();
                var s = Segment;   // attaches; checks for removal
                if (_base == null)
                {
                    Load((byte*)s.Address, s.Size);
                    _base = _lookBase = (byte*)s.Address;
                }
                return _base;
            }
        }

        /// <summary>The mapping for a look (a read): never attaches (see <see cref="IpcObject"/>).</summary>
        private byte* LookBase
        {
            get
            {
                byte* b = _lookBase;
                if (b != null && !IsClosed) return b;
                ThrowIfClosed();
                if (IsOpen) return Base;
                var s = LookSegment;
                if (_lookBase == null)
                {
                    Load((byte*)s.Address, s.Size);
                    _lookBase = (byte*)s.Address;
                }
                return _lookBase;
            }
        }

        private int Index(int index, byte* b)
        {
            int i = index < 0 ? index + _count : index;
            if ((uint)i >= (uint)_count)
                throw new ArgumentOutOfRangeException(null, _count == 0
                    ? $"Index {index} is outside the ShareableList '{Name}': it is empty."
                    : $"Index {index} is outside the ShareableList '{Name}' of {_count} items (valid indexes: {-_count} to {_count - 1}).");
            return i;
        }

        private protected override void Validate(Segment segment) => Check((byte*)segment.Address, segment.Size);

        /// <summary>Checks that the bytes are a ShareableList, and caches N and the offsets (fixed for a list's life).</summary>
        private void Load(byte* b, long size)
        {
            var offsets = Check(b, size);
            _count = offsets.Length - 1;
            _offsets = offsets;
            _dataStart = 8L * (_count + 2);
            _formatStart = _dataStart + offsets[_count];
            _codeStart = _formatStart + 8L * _count;
        }

        private long[] Check(byte* b, long size)
        {
            if (size < 16) throw Damaged($"it is {size} bytes, fewer than the 16 of an empty list");
            long n = *(long*)b;
            if (n < 0 || n > (size - 16) / 17) throw Damaged($"its item count {n} cannot fit in {size} bytes");
            var offsets = new long[n + 1];
            long* off = (long*)(b + 8);
            for (long i = 0; i <= n; i++)
            {
                offsets[i] = off[i];
                if (i == 0 ? offsets[0] != 0 : offsets[i] < offsets[i - 1] + 8 || offsets[i] % 8 != 0)
                    throw Damaged($"its offset table is not increasing by multiples of 8 at item {i}");
            }
            long data = offsets[n];
            if (data > size || 8 * (n + 2) + data + 9 * n > size) throw Damaged($"its {n} items need more than its {size} bytes");
            ulong* formats = (ulong*)(b + 8 * (n + 2) + data);
            sbyte* codes = (sbyte*)(formats + n);
            for (long i = 0; i < n; i++)
            {
                ulong f = formats[i];
                sbyte c = codes[i];
                bool ok = f == FormatQ || f == FormatD || f == FormatBool ? c == 0
                    : f == FormatNone ? c == 3 || c == 0
                    : IsStringFormat(f) && (c == 1 || c == 2) && FormatLength(f) <= offsets[i + 1] - offsets[i];
                if (!ok) throw Damaged($"item {i} has format '{Encoding.ASCII.GetString(BitConverter.GetBytes(f)).TrimEnd('\0')}' and code {c}");
            }
            return offsets;
        }

        private IpcObjectKindException Damaged(string why) =>
            new IpcObjectKindException(Name, $"The segment '{Name}' is not a ShareableList: {why}.");

        private protected override void OnClose() => Interlocked.Exchange(ref _shm, null)?.Close();
    }
}
