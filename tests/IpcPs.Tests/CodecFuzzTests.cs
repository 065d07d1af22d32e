using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using System.Text;
using CsCheck;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;
using Xunit;
using static IpcPs.Tests.CodecTesting;

namespace IpcPs.Tests
{
    /// <summary>
    /// Fuzz targets of the message codec. Every input — mutated from valid encodings, crafted, or generated — must
    /// decode to a value or a MessageFormatException, nothing else (no other exception, no crash, no hang), and no
    /// decoding may allocate more than the bound (64 bytes per byte of input + 256 KiB).
    /// </summary>
    [Collection("codec")]
    public sealed class CodecFuzzTests
    {
        private static List<byte[]> BinarySeeds()
        {
            var list = new ArrayList { 1, "two" };
            list.Add(list);
            var table = new Hashtable { ["k"] = 1 };
            table["self"] = table;
            var shared = new object?[] { 7, "x" };
            return new List<byte[]>
            {
                Encoded(null), Encoded(42), Encoded("text"), Encoded(new object?[] { 1, "a", 2.5, null, new object?[] { true } }),
                Encoded(new Hashtable { ["k"] = 1, ["v"] = new object?[] { "x" } }), Encoded(new[] { 1, 2, 3 }), Encoded(new byte[] { 1, 2 }),
                Encoded(DateTime.UtcNow), Encoded(Guid.NewGuid()), Encoded(12.5m),
                Encoded(list), Encoded(table), Encoded(new object?[] { shared, shared, new[] { shared } }),
                Encoded(new OrderedDictionary { ["z"] = 1, ["a"] = new List<object?> { 1, 2 } }),
                Encoded(new object?[] { new object?[] { new object?[] { new Hashtable { ["deep"] = new object?[0] } } } }),
                Encoded(new object?[] { new[] { 1.5, 2.5 }, new[] { 'a', 'b' }, (short)3, (ulong)4, TimeSpan.FromSeconds(1) }),
            };
        }

        private static List<byte[]> FallbackSeeds()
        {
            var seeds = BinarySeeds();
            var root = Bag(("Name", "root"), ("Children", new ArrayList()), ("Parent", null));
            for (int i = 0; i < 3; i++)
                ((ArrayList)root.Properties["Children"].Value).Add(Bag(("Name", "c" + i), ("Parent", root)));
            seeds.Add(Encoded(root));
            seeds.Add(Encoded(new object?[] { root, root }));
            seeds.Add(Encoded(Bag(("A", 1), ("When", DateTime.UtcNow), ("Inner", Bag(("Tags", new object?[] { "a", "b" }))))));
            seeds.Add(Encoded(new System.IO.FileInfo("/etc/passwd"), depth: 1));
            seeds.Add(Encoded(new object?[] { System.IO.FileAttributes.Archive, new Version(1, 2, 3), new Uri("http://example.org/") }));
            seeds.Add(Encoded(new Dictionary<string, object?> { ["a"] = 1, ["b"] = new List<int> { 1, 2 } }));
            return seeds;
        }

        internal static PSObject Bag(params (string Name, object? Value)[] properties)
        {
            var pso = new PSObject();
            foreach (var (name, value) in properties) pso.Properties.Add(new PSNoteProperty(name, value));
            return pso;
        }

        private static void WarmUp(IEnumerable<byte[]> seeds)
        {
            // The first decodings load types and fill caches (PowerShell's type table, the JIT): not what a message costs.
            for (int round = 0; round < 3; round++)
                foreach (var s in seeds)
                {
                    try { MessageCodec.Decode(s); } catch (MessageFormatException) { }
                }
        }

        [Fact]
        public void BinaryDecoderOnlySaysFormatError()
        {
            using var fallback = Fallback(powerShell: false);
            var seeds = BinarySeeds();
            WarmUp(seeds);
            Fuzzing.Run("codec.binary", Gen.OneOf(Fuzzing.Mutations(seeds), Chained(seeds)), input => DecodeWithinBound(input), typeof(MessageFormatException));
        }

        [Fact]
        public void DecoderWithPowerShellFallbackOnlySaysFormatError()
        {
            using var fallback = Fallback(powerShell: true);
            var seeds = FallbackSeeds();
            WarmUp(seeds);
            Fuzzing.Run("codec.fallback", Gen.OneOf(Fuzzing.Mutations(seeds), Chained(seeds)), input => DecodeWithinBound(input), typeof(MessageFormatException));
        }

        [Fact]
        public void PropertyBagsOnlySayFormatError()
        {
            using var fallback = Fallback(powerShell: true);
            // Bags alone: type names, names, counts and values mutated.
            var seeds = new List<byte[]>
            {
                Encoded(Bag()), Encoded(Bag(("a", 1))), Encoded(Bag(("a", null), ("b", "x"), ("c", true))),
                Encoded(new object?[] { Bag(("x", 1)), Bag(("x", 2)) }),
                Encoded(Bag(("Inner", Bag(("Inner", Bag(("Leaf", 1.5))))))), Encoded(Bag(("List", new ArrayList { Bag(("v", 1)) }))),
            };
            var self = Bag(("Name", "me"));
            self.Properties.Add(new PSNoteProperty("Self", self));
            seeds.Add(Encoded(self));
            WarmUp(seeds);
            Fuzzing.Run("codec.bags", Gen.OneOf(Fuzzing.Mutations(seeds), Chained(seeds)), input => DecodeWithinBound(input), typeof(MessageFormatException));
        }

        [Fact]
        public void BackReferencesOnlySayFormatError()
        {
            using var fallback = Fallback(powerShell: true);
            // Graphs full of back-references, whose numbers are then pointed anywhere: forward, past the end, at the
            // container still being read, at a leaf.
            var seeds = FallbackSeeds();
            WarmUp(seeds);
            var retarget = Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int[0, 1 << 20], Gen.Int[0, 300], Gen.Int[0, 3], (s, at, number, how) =>
            {
                var bytes = seeds[s];
                var refs = Enumerable.Range(0, bytes.Length - 1).Where(i => bytes[i] == (byte)Tag.Ref).ToList();
                int pos = refs.Count > 0 ? refs[at % refs.Count] : at % Math.Max(1, bytes.Length);
                var leb = new List<byte>();
                uint n = how == 3 ? uint.MaxValue : (uint)number;
                do { byte b = (byte)(n & 0x7F); n >>= 7; leb.Add(n != 0 ? (byte)(b | 0x80) : b); } while (n != 0);
                // Replace the tag and its (one-byte) number, or insert a reference where there was none.
                int skip = refs.Count > 0 ? 2 : 0;
                return bytes.Take(pos).Append((byte)Tag.Ref).Concat(leb).Concat(bytes.Skip(Math.Min(bytes.Length, pos + skip))).ToArray();
            });
            Fuzzing.Run("codec.refs", Gen.OneOf(retarget, Chained(seeds)), input => DecodeWithinBound(input), typeof(MessageFormatException));
        }

        [Fact]
        public void ClixmlFallbackOnlySaysFormatError()
        {
            using var fallback = Fallback(powerShell: true);
            // CLIXML texts (what PowerShell writes, and crafted ones) mutated as text, decoded both through the guard
            // directly and inside a message.
            var texts = new List<string>
            {
                PSSerializer.Serialize(new System.IO.FileInfo("/etc/passwd"), 2),
                PSSerializer.Serialize(new object?[] { 1, "a", new Hashtable { ["k"] = new ArrayList { 1 } } }, 2),
                PSSerializer.Serialize(System.IO.FileAttributes.Hidden | System.IO.FileAttributes.Archive, 1),
                PSSerializer.Serialize(Bag(("A", Bag(("B", new object?[] { 1, 2 })))), 3),
                PSSerializer.Serialize(new System.Xml.XmlDocument { InnerXml = "<a><b c='1'>text</b></a>" }, 1),
                Crafted.NestedMemberSets(40), Crafted.TypeNameClones(20, 20), Crafted.NestedObjects(30),
            };
            var seeds = texts.Select(t => Encoding.UTF8.GetBytes(t)).ToList();
            foreach (var t in texts) { try { ClixmlGuard.Deserialize(t); } catch (MessageFormatException) { } }
            Fuzzing.Run("codec.clixml", Gen.OneOf(Fuzzing.Mutations(seeds), Chained(seeds)), input =>
            {
                string text = Encoding.UTF8.GetString(input);
                try { WithinBound(Encoding.UTF8.GetByteCount(text), "CLIXML of", input, () => IpcObjectConverter.Rehydrate(ClixmlGuard.Deserialize(text))); }
                catch (MessageFormatException) { }
                var message = new byte[] { (byte)Tag.Clixml }.Concat(Leb(input.Length)).Concat(input).ToArray();
                DecodeWithinBound(message);
            }, typeof(MessageFormatException));
        }

        [Fact]
        public void GraphsRoundTripWithTheirReferences()
        {
            using var fallback = Fallback(powerShell: true);
            Fuzzing.Run("codec.roundtrip", Graphs(bags: true), graph =>
            {
                var bytes = Encoded(graph, out long charge);
                long charged = 0;
                var back = WithinBound(bytes.Length, "decoding a graph of", bytes, () => MessageCodec.Decode(bytes, 0, bytes.Length, out charged));
                Assert.Equal(charge, charged);   // the encoder knows what its receiver will charge
                AssertSameGraph(graph, back);
            });
        }

        internal static byte[] Leb(int n)
        {
            var r = new List<byte>();
            uint u = (uint)n;
            while (u >= 0x80) { r.Add((byte)(u | 0x80)); u >>= 7; }
            r.Add((byte)u);
            return r.ToArray();
        }
    }

    /// <summary>CLIXML that PowerShell's serializer never writes, made to hurt its deserializer.</summary>
    internal static class Crafted
    {
        public const string Root = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";

        /// <summary>Member sets in member sets: PowerShell recurses into each with no limit.</summary>
        public static string NestedMemberSets(int depth) =>
            Root + "<Obj><MS>" + string.Concat(Enumerable.Repeat("<MS N=\"a\">", depth)) + string.Concat(Enumerable.Repeat("</MS>", depth)) + "</MS></Obj></Objs>";

        /// <summary>A type-name list of NAMES names, then OBJECTS objects each copying it through a 30-byte &lt;TNRef&gt;.</summary>
        public static string TypeNameClones(int names, int objects) =>
            Root + "<Obj RefId=\"0\"><TN RefId=\"0\">" + string.Concat(Enumerable.Range(0, names).Select(i => "<T>a</T>")) + "</TN></Obj>"
            + string.Concat(Enumerable.Repeat("<Obj><TNRef RefId=\"0\"/></Obj>", objects)) + "</Objs>";

        /// <summary>Lists in lists, DEPTH deep, as PowerShell writes them (the first with its type names, the others referring to them).</summary>
        public static string NestedObjects(int depth) =>
            Root + "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST>"
            + string.Concat(Enumerable.Range(1, depth - 1).Select(i => $"<Obj RefId=\"{i}\"><TNRef RefId=\"0\"/><LST>")) + "<I32>1</I32>"
            + string.Concat(Enumerable.Repeat("</LST></Obj>", depth)) + "</Objs>";
    }
}
