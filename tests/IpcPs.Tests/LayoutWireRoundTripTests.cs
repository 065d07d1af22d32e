using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using CsCheck;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Round trips of every tag (CsCheck): generated values of each primitive kind over their whole range, containers of
    /// every kind nested in one another, primitive arrays of every element type, graphs with shared references and
    /// cycles, property bags and CLIXML values through PowerShell's serializer. What is decoded is what was encoded: the
    /// same values, of the same types (a list arrives as an ArrayList, as remoting delivers it), the same sharing.
    /// </summary>
    [Collection("codec")]
    public sealed class LayoutWireRoundTripTests
    {
        private static readonly Gen<object?> Primitive = Gen.OneOf<object?>(
            Gen.Const(default(object)), Gen.Bool.Select(v => (object?)v), Gen.Int.Select(v => (object?)v), Gen.Long.Select(v => (object?)v),
            Gen.Double.Select(v => (object?)v), Gen.Float.Select(v => (object?)v), Gen.Decimal.Select(v => (object?)v),
            Gen.Byte.Select(v => (object?)v), Gen.SByte.Select(v => (object?)v), Gen.Short.Select(v => (object?)v),
            Gen.UShort.Select(v => (object?)v), Gen.UInt.Select(v => (object?)v), Gen.ULong.Select(v => (object?)v),
            Gen.String.Select(v => (object?)v), Gen.Char.Select(v => (object?)v),
            Gen.Select(Gen.Long[0, DateTime.MaxValue.Ticks], Gen.Int[0, 2], (t, k) => (object?)new DateTime(t, (DateTimeKind)k)),
            Gen.Long.Select(v => (object?)new TimeSpan(v)), Gen.Guid.Select(v => (object?)v), Gen.Byte.Array[0, 40].Select(v => (object?)v),
            Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[-1, int.MaxValue], Gen.Int[-1, int.MaxValue], (a, b, c, d) =>
                (object?)(c < 0 ? new Version(a, b) : d < 0 ? new Version(a, b, c) : new Version(a, b, c, d))),
            Gen.Int[0, 3].Select(i => (object?)new Uri(new[] { "http://example.org/a?b=c#d", "relative/path", "file:///tmp/x", "urn:isbn:123" }[i], UriKind.RelativeOrAbsolute)));

        /// <summary>A typed array of each element type the format carries raw.</summary>
        private static readonly Gen<object?> PrimitiveArray = Gen.OneOf<object?>(
            Gen.Bool.Array[0, 9].Select(a => (object?)a), Gen.SByte.Array[0, 9].Select(a => (object?)a), Gen.Short.Array[0, 9].Select(a => (object?)a),
            Gen.UShort.Array[0, 9].Select(a => (object?)a), Gen.Int.Array[0, 9].Select(a => (object?)a), Gen.UInt.Array[0, 9].Select(a => (object?)a),
            Gen.Long.Array[0, 9].Select(a => (object?)a), Gen.ULong.Array[0, 9].Select(a => (object?)a), Gen.Float.Array[0, 9].Select(a => (object?)a),
            Gen.Double.Array[0, 9].Select(a => (object?)a), Gen.Char.Array[0, 9].Select(a => (object?)a));

        private static Gen<object?> Value(int depth) => depth == 0
            ? Gen.Frequency((6, Primitive), (1, PrimitiveArray))
            : Gen.Frequency((6, Primitive), (1, PrimitiveArray), (3, Container(depth - 1)));

        private static Gen<object?> Container(int depth)
        {
            var items = Value(depth).Array[0, 5];
            return Gen.OneOf<object?>(
                items.Select(a => (object?)a),
                items.Select(a => (object?)new ArrayList(a)),
                items.Select(a => (object?)new List<object?>(a)),
                Gen.Select(items, Gen.Bool, (a, ignoreCase) =>
                {
                    var h = ignoreCase ? new Hashtable(StringComparer.OrdinalIgnoreCase) : new Hashtable();
                    for (int i = 0; i < a.Length; i++) h["k" + i] = a[i];
                    return (object?)h;
                }),
                items.Select(a =>
                {
                    var o = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                    for (int i = 0; i < a.Length; i++) o["k" + i] = a[i];
                    return (object?)o;
                }));
        }

        private static object? RoundTrip(object? value)
        {
            var bytes = CodecTesting.Encoded(value);
            return MessageCodec.Decode(bytes);
        }

        [Fact]
        public void EveryPrimitiveComesBackAsItWent()
        {
            using (CodecTesting.Fallback(powerShell: false))
                Primitive.Sample(v => Same(v, RoundTrip(v), "root"), iter: 2000);
        }

        [Fact]
        public void EveryPrimitiveArrayComesBackWithItsElementType()
        {
            using (CodecTesting.Fallback(powerShell: false))
                PrimitiveArray.Sample(v => Same(v, RoundTrip(v), "root"), iter: 1000);
        }

        [Fact]
        public void NestedContainersComeBackAsTheyWent()
        {
            using (CodecTesting.Fallback(powerShell: false))
                Container(3).Sample(v => Same(v, RoundTrip(v), "root"), iter: 500);
        }

        [Fact]
        public void SharedReferencesAndCyclesComeBackShared()
        {
            using (CodecTesting.Fallback(powerShell: false))
                CodecTesting.Graphs(bags: false).Sample(g => CodecTesting.AssertSameGraph(g, RoundTrip(g)), iter: 500);
        }

        [Fact]
        public void PropertyBagsAndSerializedObjectsComeBackThroughPowerShell()
        {
            using (CodecTesting.Fallback(powerShell: true))
            {
                Gen.Select(Primitive.Array[0, 4], Gen.Int[0, 6], (values, day) => (values, day)).Sample(input =>
                {
                    var bag = new PSObject();
                    for (int i = 0; i < input.values.Length; i++) bag.Properties.Add(new PSNoteProperty("p" + i, input.values[i]));
                    bag.Properties.Add(new PSNoteProperty("day", (DayOfWeek)input.day));
                    var back = Assert.IsType<PSObject>(RoundTrip(bag));
                    Assert.Equal(new[] { "Deserialized.System.Management.Automation.PSCustomObject", "Deserialized.System.Object" }, back.TypeNames);
                    for (int i = 0; i < input.values.Length; i++) Same(input.values[i], back.Properties["p" + i].Value, "p" + i);
                    // The enum went as CLIXML: it arrives as PowerShell's deserializer makes it (its value, shown by name).
                    Assert.Equal(((DayOfWeek)input.day).ToString(), back.Properties["day"].Value?.ToString());
                }, iter: 200);
            }
        }

        /// <summary>EXPECTED and ACTUAL are the same value of the same type; containers as they arrive.</summary>
        private static void Same(object? expected, object? actual, string path)
        {
            switch (expected)
            {
                case null:
                    Assert.True(actual is null, $"{path}: expected null, got {actual}");
                    return;
                case double d:
                    Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits(Assert.IsType<double>(actual)));
                    return;
                case float f:
                    Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(Assert.IsType<float>(actual)));
                    return;
                case DateTime dt:
                {
                    var back = Assert.IsType<DateTime>(actual);
                    Assert.Equal(dt.Kind, back.Kind);
                    // ToBinary keeps a local time as its UTC instant (read back in this machine's zone).
                    Assert.Equal(dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : dt, dt.Kind == DateTimeKind.Local ? back.ToUniversalTime() : back);
                    return;
                }
                case Uri u:
                {
                    var back = Assert.IsType<Uri>(actual);
                    Assert.Equal(u.ToString(), back.ToString());
                    Assert.Equal(u.IsAbsoluteUri, back.IsAbsoluteUri);
                    return;
                }
                case Array a when !(a is object?[]):
                {
                    // byte[] and the primitive arrays: the same element type and bits.
                    var back = Assert.IsAssignableFrom<Array>(actual);
                    Assert.Equal(a.GetType(), back.GetType());
                    Assert.Equal(a.Length, back.Length);
                    for (int i = 0; i < a.Length; i++)
                    {
                        object? x = a.GetValue(i), y = back.GetValue(i);
                        if (x is double || x is float) Same(x, y, $"{path}[{i}]");
                        else Assert.Equal(x, y);
                    }
                    return;
                }
                case object?[] items:
                {
                    var back = Assert.IsType<object?[]>(actual);
                    Assert.Equal(items.Length, back.Length);
                    for (int i = 0; i < items.Length; i++) Same(items[i], back[i], $"{path}[{i}]");
                    return;
                }
                case IList list:
                {
                    var back = Assert.IsType<ArrayList>(actual);
                    Assert.Equal(list.Count, back.Count);
                    for (int i = 0; i < list.Count; i++) Same(list[i], back[i], $"{path}[{i}]");
                    return;
                }
                case Hashtable table:
                {
                    var back = Assert.IsType<Hashtable>(actual);
                    Assert.Equal(table.Count, back.Count);
                    foreach (DictionaryEntry e in table) Same(e.Value, back[e.Key], $"{path}.{e.Key}");
                    // Keys that ignore case still do (PowerShell's @{}), keys that keep it still do.
                    bool ignoreCase = table.ContainsKey("K0") || table.Count == 0;
                    if (table.Count > 0) Assert.Equal(ignoreCase, back.ContainsKey("K0"));
                    return;
                }
                case OrderedDictionary ordered:
                {
                    var back = Assert.IsType<OrderedDictionary>(actual);
                    Assert.Equal(ordered.Keys.Cast<object>(), back.Keys.Cast<object>());
                    for (int i = 0; i < ordered.Count; i++) Same(ordered[i], back[i], $"{path}[{i}]");
                    return;
                }
                default:
                    Assert.Equal(expected.GetType(), actual?.GetType());
                    Assert.Equal(expected, actual);
                    return;
            }
        }
    }
}
