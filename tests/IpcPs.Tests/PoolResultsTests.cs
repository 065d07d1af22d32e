using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A pool item's result on its way back (Hosting/PoolResults): anything but plain values is encoded by the worker
    /// when the item finishes; the parent decodes it, and a damaged one fails its item instead of losing it.
    /// </summary>
    public sealed class PoolResultsTests
    {
        private static readonly object?[] None = Array.Empty<object?>();

        [Fact]
        public void PlainValuesAreLeftForTheHeartbeatAndObjectsAreNot()
        {
            Assert.True(PoolResults.IsPlain(new object?[] { 1, "a", null, 2.5, true, 3L, 'c', DateTime.UtcNow, Guid.Empty, PSObject.AsPSObject(7) }, None));
            Assert.False(PoolResults.IsPlain(new object?[] { 1, new Hashtable() }, None));
            Assert.False(PoolResults.IsPlain(new object?[] { new PSObject() }, None));   // a [pscustomobject]
            Assert.False(PoolResults.IsPlain(new object?[] { new object?[] { 1 } }, None));
            Assert.False(PoolResults.IsPlain(new object?[] { new System.IO.DirectoryInfo("/") }, None));

            Assert.True(PoolResults.IsPlain(None, new object?[] { new object?[] { "W", "careful" }, new object?[] { "E", new Hashtable { ["Message"] = "m" } } }));
            Assert.True(PoolResults.IsPlain(None, new object?[] { new object?[] { "I", new Hashtable { ["MessageData"] = "text" } } }));
            Assert.False(PoolResults.IsPlain(None, new object?[] { new object?[] { "I", new Hashtable { ["MessageData"] = new Hashtable() } } }));
        }

        [Fact]
        public void AnEncodedResultComesBackAsTheResultItWas()
        {
            var result = new object?[] { 5L, new object?[] { new Hashtable { ["N"] = 1 } }, None, null };
            var encoded = PoolResults.Encode(result, 2);
            Assert.Equal(2, encoded.Length);
            Assert.Equal(5L, encoded[0]);
            ((Hashtable)((object?[])result[1]!)[0]!)["N"] = 2;   // changed after the item finished: what went stays 1

            var plain = new object?[] { 6L, new object?[] { 7 }, None, null };
            var message = RoundTrip(new object?[] { "done", 1, new object?[] { encoded, plain }, 0L });
            PoolResults.DecodeIn(message);
            var results = (object?[])message[2]!;
            var first = (object?[])results[0]!;
            Assert.Equal(5L, first[0]);
            Assert.Equal(1, ((Hashtable)((object?[])first[1]!)[0]!)["N"]);
            Assert.Equal(new object?[] { 7 }, (object?[])((object?[])results[1]!)[1]!);
        }

        [Fact]
        public void AResultTheCodecRefusesBecomesItsItemsErrorWithoutItsOutput()
        {
            var tooMany = Enumerable.Range(0, 20000).Select(_ => (object?)new Hashtable()).ToArray();
            var encoded = PoolResults.Encode(new object?[] { 3L, new object?[] { tooMany }, None, null }, 2);
            Assert.Equal(4, encoded.Length);
            Assert.Equal(3L, encoded[0]);
            Assert.Empty((object?[])encoded[1]!);
            Assert.Empty((object?[])encoded[2]!);
            Assert.Contains("decode", (string)((Hashtable)encoded[3]!)["Message"]!);
        }

        [Theory]
        [InlineData("garbage")]     // not a message
        [InlineData("other index")] // a result, of another item
        [InlineData("not a result")]
        [InlineData("empty")]
        public void ADamagedEncodedResultFailsItsItemInsteadOfLosingIt(string damage)
        {
            byte[] bytes = damage switch
            {
                "garbage" => new byte[] { 0xFF, 0x01, 0x02, 0x03 },
                "other index" => Encoded(new object?[] { 9L, None, None, null }),
                "not a result" => Encoded("hello"),
                _ => Array.Empty<byte>(),
            };
            var message = new object?[] { "done", 1, new object?[] { new object?[] { 4L, bytes } }, 0L };
            PoolResults.DecodeIn(message);
            var r = (object?[])((object?[])message[2]!)[0]!;
            Assert.Equal(4, r.Length);
            Assert.Equal(4L, r[0]);
            Assert.Empty((object?[])r[1]!);
            Assert.Equal("PoolResultUnreadable", ((Hashtable)r[3]!)["ErrorId"]);
        }

        [Fact]
        public void LeavesOtherMessagesAlone()
        {
            var ready = new object?[] { "ready", 12, null };
            PoolResults.DecodeIn(ready);
            Assert.Equal(new object?[] { "ready", 12, null }, ready);
            var odd = new object?[] { "done", 1, "not results", 0L };
            PoolResults.DecodeIn(odd);
            Assert.Equal("not results", odd[2]);
        }

        private static byte[] Encoded(object? value) => MessageCodec.EncodeToArray(value, 2);

        private static object?[] RoundTrip(object?[] message) => (object?[])MessageCodec.Decode(Encoded(message))!;
    }
}
