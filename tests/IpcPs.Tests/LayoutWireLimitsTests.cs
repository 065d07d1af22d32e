using System;
using System.Linq;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The wire format's limits (docs/design.md, "Wire format", "Nesting", "Bounded decoding"): containers nest at most
    /// 64 deep (the encoder writes a deeper one as its text, the decoder refuses it), and every malformed message — a
    /// count past its bytes, a length past int, bytes after the value, an unknown tag or element code, a reference to
    /// a value not yet met, a number out of its type's range, a null key — is MessageFormatException.
    /// </summary>
    [Collection("codec")]
    public sealed class LayoutWireLimitsTests
    {
        private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

        private static object? Decode(byte[] bytes)
        {
            using (CodecTesting.Fallback(powerShell: false)) return MessageCodec.Decode(bytes);
        }

        /// <summary>N arrays, each holding the next; the innermost holds null.</summary>
        private static byte[] Nested(int n) => Enumerable.Repeat(Hex("20 01"), n).SelectMany(b => b).Concat(Hex("00")).ToArray();

        [Fact]
        public void ContainersNestSixtyFourDeepAndNoDeeper()
        {
            Assert.Equal(64, MessageCodec.MaxNesting);
            var decoded = Decode(Nested(64));
            for (int level = 0; level < 64; level++) decoded = Assert.IsType<object?[]>(decoded)[0];
            Assert.Null(decoded);
            Assert.Contains("nests containers more than 64 deep", Assert.Throws<MessageFormatException>(() => Decode(Nested(65))).Message);

            // The encoder cuts where the decoder would refuse: the 65th level arrives as its text.
            object? chain = null;
            for (int i = 0; i < 65; i++) chain = new object?[] { chain };
            byte[] bytes;
            using (CodecTesting.Fallback(powerShell: false)) bytes = CodecTesting.Encoded(chain);
            object? back = Decode(bytes);
            for (int level = 0; level < 64; level++) back = Assert.IsType<object?[]>(back)[0];
            Assert.Equal("System.Object[]", back);
        }

        public static TheoryData<string, string> Malformed() => new TheoryData<string, string>
        {
            { "an array claiming more items than bytes", "20 FFFFFFFF07" },
            { "a string longer than the message", "10 05 6162" },
            { "a length past int", "10 FFFFFFFF0F" },
            { "a length of six LEB128 bytes", "10 8080808080 00" },
            { "bytes after the value", "00 00" },
            { "an empty message", "" },
            { "an unknown tag", "18" },
            { "another unknown tag", "31" },
            { "a reference to a value not met", "25 00" },
            { "a reference to the value being read, numbered later", "20 01 25 01" },
            { "a char past U+FFFF", "11 00000100" },
            { "an int16 out of range", "0A 00800000" },
            { "a uint16 out of range", "0B FFFFFFFF" },
            { "a decimal with scale 29", "07 00000000 00000000 00000000 00001D00" },
            { "an unknown element code", "23 0B 00" },
            { "a primitive array claiming more elements than bytes", "23 04 05 01000000" },
            { "a null hashtable key", "21 01 01 00 00" },
            { "a cut int64", "04 000000" },
            { "a cut Guid", "14 0011" },
            { "a cut Version", "16 01000000 02000000" },
            { "a property bag without PowerShell", "24 00 00" },
            { "a CLIXML text without PowerShell", "30 00" },
        };

        [Theory, MemberData(nameof(Malformed))]
        public void AMalformedMessageIsAFormatError(string what, string hex)
        {
            var e = Record.Exception(() => Decode(Hex(hex)));
            Assert.True(e is MessageFormatException, $"{what}: {e?.GetType().Name ?? "decoded"} ({e?.Message})");
        }

        [Fact]
        public void EmptyValuesAreValues()
        {
            Assert.Equal(Array.Empty<byte>(), Decode(Hex("15 00")));
            Assert.Equal("", Decode(Hex("10 00")));
            Assert.Empty(Assert.IsType<object?[]>(Decode(Hex("20 00"))));
            Assert.Empty(Assert.IsType<int[]>(Decode(Hex("23 04 00"))));
            Assert.Equal(new Version(1, 2), Decode(Hex("16 01000000 02000000 FFFFFFFF 05000000")));   // no build: no revision either
        }
    }
}
