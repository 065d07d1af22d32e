using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using System.Text;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The wire format (docs/design.md, "Wire format"), pinned by golden bytes: one value of every tag, encoded exactly as
    /// written here (worked out from the document, not from the encoder) and decoded back. A change of the format — a tag,
    /// a width, a byte order, a count's encoding — fails here and must then be a deliberate, documented one.
    /// </summary>
    [Collection("codec")]
    public sealed class LayoutWireFormatTests
    {
        private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

        private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

        private static byte[] Join(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

        private static readonly Guid SomeGuid = new Guid("00112233-4455-6677-8899-aabbccddeeff");

        /// <summary>(what, the value, its bytes). Counts and lengths are LEB128; numbers little-endian.</summary>
        public static TheoryData<string> Cases() => new TheoryData<string>(Golden.Keys);

        private static readonly Dictionary<string, (Func<object?> Value, byte[] Bytes)> Golden = new Dictionary<string, (Func<object?>, byte[])>
        {
            ["00 null"] = (() => null, Hex("00")),
            ["01 false"] = (() => false, Hex("01")),
            ["02 true"] = (() => true, Hex("02")),
            ["03 int32"] = (() => -2, Hex("03 FEFFFFFF")),
            ["04 int64"] = (() => 1L << 40, Hex("04 0000000000010000")),
            ["05 double"] = (() => 1.5, Hex("05 000000000000F83F")),
            ["06 single"] = (() => 1.5f, Hex("06 0000C03F")),
            ["07 decimal"] = (() => 1.5m, Hex("07 0F000000 00000000 00000000 00000100")),   // decimal.GetBits: 15, scale 1
            ["08 byte"] = (() => (byte)200, Hex("08 C8")),
            ["09 sbyte"] = (() => (sbyte)-1, Hex("09 FF")),
            ["0A int16"] = (() => (short)-2, Hex("0A FEFFFFFF")),   // 4 bytes on the wire
            ["0B uint16"] = (() => (ushort)65535, Hex("0B FFFF0000")),
            ["0C uint32"] = (() => 4_000_000_000u, Hex("0C 00286BEE")),
            ["0D uint64"] = (() => ulong.MaxValue, Hex("0D FFFFFFFFFFFFFFFF")),
            ["10 string"] = (() => "hé", Hex("10 03 68C3A9")),
            ["10 string, a two-byte length"] = (() => new string('x', 200), Join(Hex("10 C801"), Enumerable.Repeat((byte)'x', 200).ToArray())),
            ["11 char"] = (() => 'A', Hex("11 41000000")),
            ["12 DateTime"] = (() => new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), Hex("12 80003B6D308FD748")),   // ToBinary: ticks, Kind in the top bits
            ["13 TimeSpan"] = (() => TimeSpan.FromSeconds(1), Hex("13 8096980000000000")),
            ["14 Guid"] = (() => SomeGuid, Hex("14 33221100554477668899AABBCCDDEEFF")),   // Guid.ToByteArray
            ["15 byte[]"] = (() => new byte[] { 1, 2, 3 }, Hex("15 03 010203")),
            ["16 Version"] = (() => new Version(1, 2), Hex("16 01000000 02000000 FFFFFFFF FFFFFFFF")),
            ["16 Version, four parts"] = (() => new Version(1, 2, 3, 4), Hex("16 01000000 02000000 03000000 04000000")),
            ["17 Uri"] = (() => new Uri("http://example.org/a"), Join(Hex("17 14"), Text("http://example.org/a"))),
            ["17 Uri, relative"] = (() => new Uri("rel/path", UriKind.Relative), Join(Hex("17 08"), Text("rel/path"))),
            ["20 object[]"] = (() => new object?[] { 1, "a", null }, Hex("20 03 03 01000000 10 01 61 00")),
            ["21 Hashtable, keys ignore case"] = (() => new Hashtable(StringComparer.OrdinalIgnoreCase) { ["k"] = 1 }, Hex("21 01 01 10 01 6B 03 01000000")),
            ["21 Hashtable, keys keep case"] = (() => new Hashtable { ["k"] = null }, Hex("21 00 01 10 01 6B 00")),
            ["22 OrderedDictionary"] = (() => new OrderedDictionary { ["a"] = true, ["b"] = false }, Hex("22 01 02 10 01 61 02 10 01 62 01")),
            ["23 int[]"] = (() => new[] { 1, 2 }, Hex("23 04 02 01000000 02000000")),
            ["23 bool[]"] = (() => new[] { true, false }, Hex("23 00 02 01 00")),
            ["23 sbyte[]"] = (() => new sbyte[] { -1 }, Hex("23 01 01 FF")),
            ["23 short[]"] = (() => new short[] { -2 }, Hex("23 02 01 FEFF")),
            ["23 ushort[]"] = (() => new ushort[] { 2 }, Hex("23 03 01 0200")),
            ["23 uint[]"] = (() => new uint[] { 2 }, Hex("23 05 01 02000000")),
            ["23 long[]"] = (() => new long[] { 2 }, Hex("23 06 01 0200000000000000")),
            ["23 ulong[]"] = (() => new ulong[] { 2 }, Hex("23 07 01 0200000000000000")),
            ["23 float[]"] = (() => new[] { 1.5f }, Hex("23 08 01 0000C03F")),
            ["23 double[]"] = (() => new[] { 1.0 }, Hex("23 09 01 000000000000F03F")),
            ["23 char[]"] = (() => new[] { 'a' }, Hex("23 0A 01 6100")),
            // The outer array is value 0, the shared inner one value 1: met again, it is a back-reference to 1.
            ["25 back-reference"] = (() => { var inner = new object?[0]; return new object?[] { inner, inner }; }, Hex("20 02 20 00 25 01")),
            ["25 back-reference to itself"] = (() => { var a = new object?[1]; a[0] = a; return a; }, Hex("20 01 25 00")),
            ["26 ArrayList"] = (() => new ArrayList { 1 }, Hex("26 01 03 01000000")),
            ["26 List<object>"] = (() => new List<object?> { "a" }, Hex("26 01 10 01 61")),
        };

        private static byte[] Encoded(object? value)
        {
            using (CodecTesting.Fallback(powerShell: false)) return CodecTesting.Encoded(value);
        }

        [Theory, MemberData(nameof(Cases))]
        public void EveryTagHasItsGoldenBytes(string what)
        {
            var (value, bytes) = Golden[what];
            Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Encoded(value())));
            object? back;
            using (CodecTesting.Fallback(powerShell: false)) back = MessageCodec.Decode(bytes);
            var expected = value();
            switch (expected)
            {
                case DateTime dt:
                    Assert.Equal(dt, back);
                    Assert.Equal(dt.Kind, ((DateTime)back!).Kind);
                    break;
                case Uri u:
                    Assert.Equal(u.ToString(), back!.ToString());
                    Assert.Equal(u.IsAbsoluteUri, ((Uri)back).IsAbsoluteUri);
                    break;
                case IList or IDictionary:
                    Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Encoded(back)));   // same structure, same sharing
                    Assert.Equal(expected is IList l && !(expected is Array) ? typeof(ArrayList) : expected.GetType(), back!.GetType());
                    break;
                default:
                    Assert.Equal(expected, back);
                    if (expected != null) Assert.Equal(expected.GetType(), back!.GetType());
                    break;
            }
        }

        [Fact]
        public void EveryTagIsTheDocumentedByte()
        {
            var documented = new Dictionary<string, byte>
            {
                ["Null"] = 0x00, ["False"] = 0x01, ["True"] = 0x02, ["Int32"] = 0x03, ["Int64"] = 0x04, ["Double"] = 0x05, ["Single"] = 0x06,
                ["Decimal"] = 0x07, ["Byte"] = 0x08, ["SByte"] = 0x09, ["Int16"] = 0x0A, ["UInt16"] = 0x0B, ["UInt32"] = 0x0C, ["UInt64"] = 0x0D,
                ["String"] = 0x10, ["Char"] = 0x11, ["DateTime"] = 0x12, ["TimeSpan"] = 0x13, ["Guid"] = 0x14, ["Bytes"] = 0x15,
                ["Version"] = 0x16, ["Uri"] = 0x17, ["Array"] = 0x20, ["Hashtable"] = 0x21, ["Ordered"] = 0x22, ["PrimitiveArray"] = 0x23,
                ["PropertyBag"] = 0x24, ["Ref"] = 0x25, ["List"] = 0x26, ["Clixml"] = 0x30,
            };
            Assert.Equal(documented.OrderBy(p => p.Key), Enum.GetValues<Tag>().ToDictionary(t => t.ToString(), t => (byte)t).OrderBy(p => p.Key));
            // Every tag has a golden case here (the PowerShell ones below).
            var covered = Golden.Keys.Select(k => Convert.ToByte(k.Substring(0, 2), 16)).Concat(new byte[] { 0x24, 0x30 }).ToHashSet();
            Assert.All(documented.Values, t => Assert.Contains(t, covered));
        }

        /// <summary>
        /// An sbyte[] passes for a byte[] at run time (the runtime's array casts): it must still travel as an sbyte[] (tag
        /// 23), through a queue and as a pipe's object, not as bytes (before, it came back as a byte[], -1 as 255).
        /// </summary>
        [Fact]
        public void AnSbyteArrayIsNotABytesValue()
        {
            object signed = new sbyte[] { -1, 2 };
            Assert.True(signed is byte[]);   // the trap
            Assert.Equal("230102FF02", Convert.ToHexString(Encoded(signed)));
            using var q = IpcQueue.Create(null, capacity: IpcQueue.MinimumCapacity);
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: IpcConnection.MinimumBufferSize);
            try
            {
                q.Put(signed);
                Assert.Equal(new sbyte[] { -1, 2 }, Assert.IsType<sbyte[]>(q.Get()));
                ends[1].Send(signed);
                Assert.Equal(new sbyte[] { -1, 2 }, Assert.IsType<sbyte[]>(ends[0].Recv()));
                ends[1].Send(new byte[] { 255 });   // a byte[] is still a raw frame
                Assert.Equal(new byte[] { 255 }, Assert.IsType<byte[]>(ends[0].Recv()));
            }
            finally
            {
                q.Unlink();
                ends[0].Unlink();
                ends[0].Close();
                ends[1].Close();
            }
        }

        /// <summary>24: a [pscustomobject]'s type names, then its properties (name, value) — with PowerShell's serializer plugged in.</summary>
        [Fact]
        public void APropertyBagHasItsGoldenBytes()
        {
            var bag = new PSObject();
            bag.Properties.Add(new PSNoteProperty("a", 1));
            var expected = Join(Hex("24 02 2B"), Text("System.Management.Automation.PSCustomObject"), Hex("0D"), Text("System.Object"),
                Hex("01 01 61 03 01000000"));
            using (CodecTesting.Fallback(powerShell: true))
            {
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(CodecTesting.Encoded(bag)));
                var back = Assert.IsType<PSObject>(MessageCodec.Decode(expected));
                Assert.Equal(new[] { "Deserialized.System.Management.Automation.PSCustomObject", "Deserialized.System.Object" }, back.TypeNames);
                Assert.Equal(1, back.Properties["a"].Value);
            }
        }

        /// <summary>30: anything else is its CLIXML text, as PowerShell's serializer writes it at the message's depth.</summary>
        [Fact]
        public void AnythingElseIsTaggedClixmlText()
        {
            var value = DayOfWeek.Monday;   // an enum: not a primitive of the format
            using (CodecTesting.Fallback(powerShell: true))
            {
                var text = PSSerializer.Serialize(value, 2);
                var bytes = CodecTesting.Encoded(value, depth: 2);
                var reader = new MessageReader(bytes, 1, bytes.Length - 1);
                Assert.Equal(0x30, bytes[0]);
                Assert.Equal(text, reader.ReadString());
                Assert.Equal(0, reader.Remaining);
                var back = MessageCodec.Decode(bytes);
                Assert.Equal("Monday", back!.ToString());
            }
        }
    }
}
