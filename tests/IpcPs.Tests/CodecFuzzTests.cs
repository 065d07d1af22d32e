using System;
using System.Collections;
using System.Collections.Generic;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>The message decoder on mutated messages: it answers MessageFormatException or a value, nothing else.</summary>
    public sealed class CodecFuzzTests
    {
        private static byte[] Encoded(object? value)
        {
            var w = MessageCodec.Encode(value, 2);
            try
            {
                var bytes = new byte[w.TotalLength];
                Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                return bytes;
            }
            finally { MessageCodec.Recycle(w); }
        }

        private static readonly List<byte[]> Seeds = new List<byte[]>
        {
            Encoded(null), Encoded(42), Encoded("text"), Encoded(new object?[] { 1, "a", 2.5, null, new object?[] { true } }),
            Encoded(new Hashtable { ["k"] = 1, ["v"] = new object?[] { "x" } }), Encoded(new[] { 1, 2, 3 }), Encoded(new byte[] { 1, 2 }),
            Encoded(DateTime.UtcNow), Encoded(Guid.NewGuid()), Encoded(12.5m),
        };

        [Fact]
        public void BinaryDecoderOnlySaysFormatError() =>
            Fuzzing.Run("codec.binary", Fuzzing.Mutations(Seeds), input => MessageCodec.Decode(input), typeof(MessageFormatException));
    }
}
