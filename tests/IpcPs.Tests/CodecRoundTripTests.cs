using System.Collections;
using CsCheck;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>The binary codec gives back what it was given, for generated values of every primitive kind.</summary>
    [Collection("codec")]
    public sealed class CodecRoundTripTests
    {
        [Fact]
        public void PrimitivesRoundTrip()
        {
            Gen.OneOf<object?>(
                    Gen.Int.Select(i => (object?)i), Gen.Long.Select(l => (object?)l), Gen.Double.Select(d => (object?)d),
                    Gen.String.Select(s => (object?)s), Gen.Bool.Select(b => (object?)b), Gen.Const(default(object)),
                    Gen.Byte.Array.Select(b => (object?)b),
                    Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[-1, 1000], Gen.Int[-1, 1000], (a, b, c, d) =>
                        (object?)(c < 0 ? new System.Version(a, b) : d < 0 ? new System.Version(a, b, c) : new System.Version(a, b, c, d))),
                    Gen.Int[0, 3].Select(i => (object?)new System.Uri(new[] { "http://example.org/a?b=c", "relative/path", "file:///tmp/x", "urn:isbn:123" }[i], System.UriKind.RelativeOrAbsolute)))
                .Sample(value =>
                {
                    var w = MessageCodec.Encode(value, 2);
                    var bytes = new byte[w.TotalLength];
                    System.Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                    if (w.Tail != null) System.Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                    MessageCodec.Recycle(w);
                    var back = MessageCodec.Decode(bytes);
                    if (value is double d && back is double e) Assert.Equal(System.BitConverter.DoubleToInt64Bits(d), System.BitConverter.DoubleToInt64Bits(e));
                    else if (value is byte[] a) Assert.Equal(a, (byte[])back!);
                    else Assert.Equal(value, back);
                });
        }
    }
}
