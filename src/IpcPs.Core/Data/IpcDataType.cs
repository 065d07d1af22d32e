using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace IpcPs
{
    /// <summary>
    /// An element type of <see cref="IpcValue"/> and <see cref="IpcArray"/>: a CPython typecode with its Linux x86-64
    /// size (reference §10). Conversions are checked: a value that does not fit is an <see cref="OverflowException"/>,
    /// a value of the wrong kind (text for a number, a fraction for an integer) an <see cref="ArgumentException"/>;
    /// CPython's silent ctypes truncation is deliberately not copied.
    /// </summary>
    public sealed class IpcDataType
    {
        private static readonly IpcDataType[] All =
        {
            new IpcDataType('b', "sbyte", typeof(sbyte), 1, sbyte.MinValue, sbyte.MaxValue),
            new IpcDataType('B', "byte", typeof(byte), 1, byte.MinValue, byte.MaxValue),
            new IpcDataType('h', "short", typeof(short), 2, short.MinValue, short.MaxValue),
            new IpcDataType('H', "ushort", typeof(ushort), 2, ushort.MinValue, ushort.MaxValue),
            new IpcDataType('i', "int", typeof(int), 4, int.MinValue, int.MaxValue),
            new IpcDataType('I', "uint", typeof(uint), 4, uint.MinValue, uint.MaxValue),
            new IpcDataType('l', "long", typeof(long), 8, long.MinValue, long.MaxValue),
            new IpcDataType('L', "ulong", typeof(ulong), 8, ulong.MinValue, ulong.MaxValue),
            new IpcDataType('q', "long", typeof(long), 8, long.MinValue, long.MaxValue),
            new IpcDataType('Q', "ulong", typeof(ulong), 8, ulong.MinValue, ulong.MaxValue),
            new IpcDataType('f', "float", typeof(float), 4, 0, 0),
            new IpcDataType('d', "double", typeof(double), 8, 0, 0),
            new IpcDataType('c', "char", typeof(char), 1, 0, 255),
        };

        /// <summary>Names accepted besides the typecodes (case-insensitive; .NET and C# names). Each maps to one typecode.</summary>
        private static readonly Dictionary<string, char> Names = new Dictionary<string, char>(StringComparer.OrdinalIgnoreCase)
        {
            ["sbyte"] = 'b', ["System.SByte"] = 'b', ["int8"] = 'b',
            ["byte"] = 'B', ["System.Byte"] = 'B', ["uint8"] = 'B',
            ["short"] = 'h', ["int16"] = 'h', ["System.Int16"] = 'h',
            ["ushort"] = 'H', ["uint16"] = 'H', ["System.UInt16"] = 'H',
            ["int"] = 'i', ["int32"] = 'i', ["System.Int32"] = 'i',
            ["uint"] = 'I', ["uint32"] = 'I', ["System.UInt32"] = 'I',
            ["long"] = 'q', ["int64"] = 'q', ["System.Int64"] = 'q',
            ["ulong"] = 'Q', ["uint64"] = 'Q', ["System.UInt64"] = 'Q',
            ["float"] = 'f', ["single"] = 'f', ["System.Single"] = 'f',
            ["double"] = 'd', ["System.Double"] = 'd',
            ["char"] = 'c', ["System.Char"] = 'c',
        };

        private readonly decimal _min, _max;

        private IpcDataType(char code, string name, Type clrType, int size, decimal min, decimal max)
        {
            Code = code;
            Name = name;
            ClrType = clrType;
            Size = size;
            _min = min;
            _max = max;
        }

        /// <summary>The CPython typecode ('i', 'd', …).</summary>
        public char Code { get; }

        /// <summary>The C# name of the element type ('l' and 'q' are both long: 8 bytes on Linux).</summary>
        public string Name { get; }

        /// <summary>The .NET type values are read as. 'c' is one byte in memory, read as a [char] 0–255.</summary>
        public Type ClrType { get; }

        /// <summary>Bytes per element in shared memory.</summary>
        public int Size { get; }

        /// <summary>The typecodes and names <see cref="Parse"/> accepts, for messages and tab completion.</summary>
        public static IReadOnlyList<string> KnownNames { get; } =
            All.Select(t => t.Code.ToString()).Concat(new[] { "sbyte", "byte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double", "char" }).ToArray();

        /// <summary>The type of a typecode (case-sensitive: 'b' and 'B' differ) or a .NET name (case-insensitive).</summary>
        public static IpcDataType Parse(string text)
        {
            if (text is null) throw new ArgumentNullException(nameof(text));
            if (text.Length == 1 && FromCode(text[0]) is IpcDataType t) return t;
            if (Names.TryGetValue(text.Trim(), out char code)) return FromCode(code)!;
            throw new ArgumentException(
                $"'{text}' is not a type IpcPs can share. Use a CPython typecode ({string.Join(" ", All.Select(a => a.Code))}) or a .NET name ({string.Join(", ", KnownNames.Skip(All.Length))}).");
        }

        internal static IpcDataType? FromCode(char code) => All.FirstOrDefault(t => t.Code == code);

        public override string ToString() => $"{Code} ({Name})";

        // ---- checked conversions ---------------------------------------------------------------------------------

        /// <summary>VALUE as this type's .NET type (boxed), or an error saying why it cannot be.</summary>
        internal object Convert(object? value)
        {
            switch (Code)
            {
                case 'f': return ToSingle(value);
                case 'd': return ToDouble(value);
                case 'c': return (char)(byte)ToInteger(value);
                default:
                    decimal v = ToInteger(value);
                    return Code switch
                    {
                        'b' => (sbyte)v, 'B' => (byte)v, 'h' => (short)v, 'H' => (ushort)v, 'i' => (int)v, 'I' => (uint)v,
                        'l' => (long)v, 'q' => (long)v, 'L' => (ulong)v, _ => (object)(ulong)v,
                    };
            }
        }

        /// <summary>Writes VALUE, converted with checks, at P.</summary>
        internal unsafe void Write(byte* p, object? value)
        {
            switch (Code)
            {
                case 'f': *(float*)p = ToSingle(value); return;
                case 'd': *(double*)p = ToDouble(value); return;
            }
            decimal v = ToInteger(value);
            switch (Size)
            {
                case 1: if (Code == 'b') *(sbyte*)p = (sbyte)v; else *p = (byte)v; return;
                case 2: if (Code == 'h') *(short*)p = (short)v; else *(ushort*)p = (ushort)v; return;
                case 4: if (Code == 'i') *(int*)p = (int)v; else *(uint*)p = (uint)v; return;
                default: if (Code == 'L' || Code == 'Q') *(ulong*)p = (ulong)v; else *(long*)p = (long)v; return;
            }
        }

        /// <summary>The element at P, boxed as <see cref="ClrType"/>.</summary>
        internal unsafe object Read(byte* p) => Code switch
        {
            'b' => *(sbyte*)p,
            'B' => *p,
            'h' => *(short*)p,
            'H' => *(ushort*)p,
            'i' => *(int*)p,
            'I' => *(uint*)p,
            'l' => *(long*)p,
            'q' => *(long*)p,
            'L' => *(ulong*)p,
            'Q' => *(ulong*)p,
            'f' => *(float*)p,
            'd' => *(double*)p,
            _ => (object)(char)*p,
        };

        private decimal ToInteger(object? value)
        {
            decimal v;
            switch (value)
            {
                case bool b: v = b ? 1 : 0; break;
                case sbyte x: v = x; break;
                case byte x: v = x; break;
                case short x: v = x; break;
                case ushort x: v = x; break;
                case int x: v = x; break;
                case uint x: v = x; break;
                case long x: v = x; break;
                case ulong x: v = x; break;
                case BigInteger x:
                    if (x < new BigInteger(_min) || x > new BigInteger(_max)) throw Overflow(value);
                    v = (decimal)x;
                    break;
                case decimal x:
                    if (x != decimal.Truncate(x)) throw Fraction(value);
                    v = x;
                    break;
                case double d: v = FromFloating(d, value); break;
                case float f: v = FromFloating(f, value); break;
                case char c when Code == 'c': v = c; break;
                case string s when Code == 'c' && s.Length == 1: v = s[0]; break;
                case byte[] bytes when Code == 'c' && bytes.Length == 1: v = bytes[0]; break;
                case object o when Core.IpcHost.Current.IsWrapped(o): return ToInteger(Core.IpcHost.Current.Unwrap(o));
                default: throw WrongType(value);
            }
            if (v < _min || v > _max) throw Overflow(value);
            return v;
        }

        private decimal FromFloating(double d, object value)
        {
            if (double.IsNaN(d) || double.IsInfinity(d)) throw Overflow(value);
            if (Math.Truncate(d) != d) throw Fraction(value);
            const double TwoTo63 = 9223372036854775808.0, TwoTo64 = 18446744073709551616.0;
            if (d >= -TwoTo63 && d < TwoTo63) return (long)d;   // exact: D is integral and in range
            if (d >= 0 && d < TwoTo64) return (ulong)d;
            throw Overflow(value);
        }

        private double ToDouble(object? value) => value switch
        {
            double d => d,
            float f => f,
            int x => x,
            long x => x,
            bool b => b ? 1 : 0,
            sbyte x => x,
            byte x => x,
            short x => x,
            ushort x => x,
            uint x => x,
            ulong x => x,
            decimal x => (double)x,
            BigInteger x => (double)x,
            object o when Core.IpcHost.Current.IsWrapped(o) => ToDouble(Core.IpcHost.Current.Unwrap(o)),
            _ => throw WrongType(value),
        };

        private float ToSingle(object? value)
        {
            double d = ToDouble(value);
            if (!double.IsInfinity(d) && !double.IsNaN(d) && Math.Abs(d) > float.MaxValue) throw Overflow(value);
            return (float)d;
        }

        private string Describe(object? value) =>
            value is null ? "$null" : $"{System.Convert.ToString(value, CultureInfo.InvariantCulture)} ({value.GetType().Name})";

        private Exception WrongType(object? value) => new ArgumentException(Code == 'c'
            ? $"Cannot store {Describe(value)} as type 'c' (char): give one character (code 0–255), a one-character string, or a number 0–255."
            : $"Cannot store {Describe(value)} as type '{Code}' ({Name}): a number is required.");

        private Exception Fraction(object? value) =>
            new ArgumentException($"Cannot store {Describe(value)} as type '{Code}' ({Name}): it has a fractional part.");

        private Exception Overflow(object? value) => new OverflowException(Code == 'f'
            ? $"{Describe(value)} is outside the range of type 'f' (float, ±{float.MaxValue:R})."
            : $"{Describe(value)} is outside the range of type '{Code}' ({Name}: {_min} to {_max}).");
    }
}
