using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using IpcPs.Core.Messaging;
using Xunit;
using static IpcPs.Tests.CodecTesting;

namespace IpcPs.Tests
{
    /// <summary>
    /// Decoding allocates at most 64 bytes per byte of message + 256 KiB (DecodeCost), whatever the message claims:
    /// crafted claims are refused within the bound, each value costs no more than the decoder charges for it,
    /// ordinary messages are never refused, and a sender learns at once what its receiver would refuse.
    /// </summary>
    [Collection("codec")]
    public sealed class CodecAllocationTests
    {
        /// <summary>TAG COUNT repeated LEVELS times (each container claiming COUNT items), then zero bytes up to SIZE.</summary>
        private static byte[] NestedClaims(byte[] head, int levels, int size)
        {
            var bytes = new List<byte>();
            for (int i = 0; i < levels; i++) bytes.AddRange(head);
            while (bytes.Count < size) bytes.Add(0);
            return bytes.ToArray();
        }

        private static byte[] Leb(int n) => CodecFuzzTests.Leb(n);

        public static IEnumerable<object[]> Claims()
        {
            const int size = 66 * 1024;
            // Each level claims about what the whole message holds: checked against the bytes left, every claim passed,
            // and each level allocated for it before failing (a 66 KB message allocated 167 MB).
            yield return new object[] { "arrays", NestedClaims(new byte[] { (byte)Tag.Array }.Concat(Leb(size - 400)).ToArray(), 64, size) };
            yield return new object[] { "lists", NestedClaims(new byte[] { (byte)Tag.List }.Concat(Leb(size - 400)).ToArray(), 64, size) };
            yield return new object[] { "hashtables", NestedClaims(new byte[] { (byte)Tag.Hashtable, 1 }.Concat(Leb(size / 2 - 400)).Concat(new byte[] { (byte)Tag.String, 0 }).ToArray(), 64, size) };
            yield return new object[] { "ordered dictionaries", NestedClaims(new byte[] { (byte)Tag.Ordered, 1 }.Concat(Leb(size / 2 - 400)).Concat(new byte[] { (byte)Tag.String, 0 }).ToArray(), 64, size) };
            yield return new object[] { "bag type names", new byte[] { (byte)Tag.PropertyBag }.Concat(Leb(size - 10)).Concat(Enumerable.Repeat((byte)0, size)).ToArray() };
            yield return new object[] { "bag properties", new byte[] { (byte)Tag.PropertyBag, 0 }.Concat(Leb(size / 2 - 10)).Concat(Enumerable.Repeat((byte)0, size)).ToArray() };
            yield return new object[] { "primitive arrays", new byte[] { (byte)Tag.Array, 2 }.Concat(Enumerable.Repeat(new byte[] { (byte)Tag.PrimitiveArray, 6 }.Concat(Leb(size / 8)), 2).SelectMany(b => b)).Concat(Enumerable.Repeat((byte)0, size)).ToArray() };
            yield return new object[] { "empty hashtables", new byte[] { (byte)Tag.Array }.Concat(Leb(size / 3)).Concat(Enumerable.Range(0, size / 3).SelectMany(_ => new byte[] { (byte)Tag.Hashtable, 1, 0 })).ToArray() };
            yield return new object[] { "empty bags", new byte[] { (byte)Tag.Array }.Concat(Leb(size / 3)).Concat(Enumerable.Range(0, size / 3).SelectMany(_ => new byte[] { (byte)Tag.PropertyBag, 0, 0 })).ToArray() };
            yield return new object[] { "many type names", new byte[] { (byte)Tag.PropertyBag }.Concat(Leb(size / 2)).Concat(Enumerable.Range(0, size / 2).SelectMany(_ => new byte[] { 1, (byte)'T' })).Concat(new byte[] { 0 }).ToArray() };
            yield return new object[] { "forward references", new byte[] { (byte)Tag.Array }.Concat(Leb(size / 2)).Concat(Enumerable.Range(0, size / 2).SelectMany(_ => new byte[] { (byte)Tag.Ref, 1 })).ToArray() };
            yield return new object[] { "deep nesting", Enumerable.Repeat(new byte[] { (byte)Tag.Array, 1 }, size / 2).SelectMany(b => b).ToArray() };
        }

        [Theory]
        [MemberData(nameof(Claims))]
        public void CraftedClaimsAreRefusedWithinTheBound(string what, byte[] message)
        {
            using var fallback = Fallback(powerShell: true);
            Assert.NotNull(what);
            for (int i = 0; i < 2; i++) { try { MessageCodec.Decode(message); } catch (MessageFormatException) { } }   // warm up
            var e = Assert.Throws<MessageFormatException>(() => DecodeWithinBound(message));
            Assert.False(string.IsNullOrEmpty(e.Message));
        }

        private static object?[] Many(int n, Func<int, object?> make) => Enumerable.Range(0, n).Select(make).ToArray();

        private static PSObject Bag(int typeNames, int properties, Func<int, object?>? value = null)
        {
            var p = new PSObject();
            if (typeNames >= 0)
            {
                p.TypeNames.Clear();
                for (int k = 0; k < typeNames; k++) p.TypeNames.Add("T" + k);
            }
            for (int k = 0; k < properties; k++) p.Properties.Add(new PSNoteProperty("p" + k, value?.Invoke(k) ?? true));
            return p;
        }

        public static IEnumerable<object[]> Values()
        {
            // (label, value): each decoded with an allowance that cannot run out, so what it costs is measured against
            // what the decoder charged for it.
            yield return new object[] { "empty hashtables", Many(2000, i => new Hashtable()) };
            yield return new object[] { "hashtables of one", Many(2000, i => new Hashtable(StringComparer.OrdinalIgnoreCase) { ["a"] = true }) };
            yield return new object[] { "empty ordered", Many(2000, i => new OrderedDictionary()) };
            yield return new object[] { "ordered of five", Many(2000, i => new OrderedDictionary { ["a"] = 1, ["b"] = 2, ["c"] = 3, ["d"] = 4, ["e"] = 5 }) };
            yield return new object[] { "empty lists", Many(2000, i => new ArrayList()) };
            yield return new object[] { "empty arrays", Many(2000, i => new object[0]) };
            yield return new object[] { "empty int arrays", Many(2000, i => new int[0]) };
            yield return new object[] { "one-letter strings", Many(2000, i => "a") };
            yield return new object[] { "ints", Many(2000, i => i) };
            yield return new object[] { "decimals and guids", Many(2000, i => i % 2 == 0 ? (object)(decimal)i : Guid.NewGuid()) };
            yield return new object[] { "versions and uris", Many(2000, i => i % 2 == 0 ? (object)new Version(1, i) : new Uri("http://example.org/" + i)) };
            yield return new object[] { "empty byte arrays", Many(2000, i => new byte[0]) };
            var shared = new object?[] { 1, "x" };
            yield return new object[] { "shared references", Many(2000, i => shared) };
            yield return new object[] { "bags without type names", Many(2000, i => Bag(0, 0)) };
            yield return new object[] { "bags of five type names", Many(2000, i => Bag(5, 0)) };
            yield return new object[] { "bags of 200 type names", Many(50, i => Bag(200, 0)) };
            yield return new object[] { "bags of one property", Many(2000, i => Bag(0, 1)) };
            yield return new object[] { "bags of ten properties", Many(2000, i => Bag(0, 10)) };
            yield return new object[] { "custom objects", Many(2000, i => Bag(-1, 5, k => k)) };
            yield return new object[] { "enums", Many(2000, i => System.IO.FileAttributes.Archive) };
            yield return new object[] { "files", Many(50, i => new System.IO.FileInfo("/etc/passwd")) };
            yield return new object[] { "dictionaries", Many(200, i => new Dictionary<string, object?> { ["a"] = i, ["b"] = new[] { 1, 2 } }) };
        }

        [Theory]
        [MemberData(nameof(Values))]
        public void NoValueCostsMoreThanItsCharge(string what, object?[] value)
        {
            using var fallback = Fallback(powerShell: true);
            var w = MessageCodec.Encode(value, 2, checkCost: false);
            var bytes = new byte[w.TotalLength];
            Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
            long encoderCharge = w.DecodeCharge;
            MessageCodec.Recycle(w);
            for (int i = 0; i < 2; i++) MessageCodec.Decode(bytes, 0, bytes.Length, long.MaxValue, out _);
            // The least of four measures: PowerShell's process-wide tables grow in steps, and the decoding a step falls on
            // pays for every object decoded before it, in any test (see CodecTesting.WithinBound); two measures in a row
            // were seen to take a step each (1.3 MB over for 2,000 bags).
            long used = long.MaxValue, charged = 0;
            for (int i = 0; i < 4; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                MessageCodec.Decode(bytes, 0, bytes.Length, long.MaxValue, out charged);
                used = Math.Min(used, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(encoderCharge, charged);
            // The decoder's table of numbered values and its list object are its only costs not charged one by one.
            Assert.True(used <= charged + 1024, $"{what}: decoding allocated {used:N0} bytes, but charged only {charged:N0}.");
        }

        public static IEnumerable<object[]> Ordinary()
        {
            yield return new object[] { "100,000 ints", Many(100_000, i => i) };
            yield return new object[] { "10,000 custom objects", Many(10_000, i => Bag(-1, 5, k => "value " + k)) };
            yield return new object[] { "10,000 records of file listings", Many(10_000, i => Bag(-1, 4, k => k == 3 ? (object)System.IO.FileAttributes.Archive : "name" + k)) };
            yield return new object[] { "10,000 enums", Many(10_000, i => (System.IO.FileAttributes)(i % 8)) };
            yield return new object[] { "10,000 hashtables", Many(10_000, i => new Hashtable { ["Name"] = "n" + i, ["Size"] = (long)i }) };
            yield return new object[] { "1,000 files", Many(1000, i => new System.IO.FileInfo("/etc/passwd")) };
            yield return new object[] { "a megabyte string", new object?[] { new string('x', 1 << 20) } };
        }

        [Theory]
        [MemberData(nameof(Ordinary))]
        public void OrdinaryMessagesAreNeverRefused(string what, object?[] value)
        {
            using var fallback = Fallback(powerShell: true);
            var bytes = Encoded(value, out long charge, depth: 1);
            Assert.True(charge <= DecodeCost.Allowance(bytes.Length), what);
            var back = Assert.IsType<object?[]>(DecodeWithinBound(bytes));
            Assert.Equal(value.Length, back.Length);
        }

        [Fact]
        public void TheSenderIsToldWhatTheReceiverWouldRefuse()
        {
            using var fallback = Fallback(powerShell: true);
            var value = Many(30_000, i => Bag(0, 0));
            var e = Assert.Throws<ArgumentException>(() => MessageCodec.Encode(value, 2));
            Assert.Contains("memory to decode", e.Message);
            var w = MessageCodec.Encode(value, 2, checkCost: false);
            var bytes = new byte[w.TotalLength];
            Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
            MessageCodec.Recycle(w);
            Assert.Throws<MessageFormatException>(() => DecodeWithinBound(bytes));
        }
    }
}
