using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;
using Xunit;
using static IpcPs.Tests.CodecTesting;

namespace IpcPs.Tests
{
    /// <summary>
    /// The CLIXML path (ClixmlGuard): text PowerShell's deserializer would choke on is refused before it sees it, and
    /// what the guard charges for a text covers what deserializing it (and looking for handles in it) allocates.
    /// </summary>
    [Collection("codec")]
    public sealed class CodecClixmlTests
    {
        private static byte[] ClixmlMessage(string text)
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            return new[] { (byte)Tag.Clixml }.Concat(CodecFuzzTests.Leb(utf8.Length)).Concat(utf8).ToArray();
        }

        [Fact]
        public void NestedMemberSetsAreRefusedBeforeTheyOverflowTheStack()
        {
            // 200,000 nested <MS> made PSSerializer.Deserialize overflow the stack: pwsh ended (exit 134).
            using var fallback = Fallback(powerShell: true);
            string text = Crafted.NestedMemberSets(200_000);
            var e = Assert.Throws<MessageFormatException>(() => ClixmlGuard.Deserialize(text));
            Assert.Contains("nests elements", e.Message);
            Assert.Throws<MessageFormatException>(() => DecodeWithinBound(ClixmlMessage(text)));
        }

        [Fact]
        public void TypeNameCopiesAreCharged()
        {
            // 10,000 names, copied by 10,000 objects of 30 bytes each: 800 MB for a 400 KB text.
            using var fallback = Fallback(powerShell: true);
            string text = Crafted.TypeNameClones(10_000, 10_000);
            var e = Assert.Throws<MessageFormatException>(() => WithinBound(Encoding.UTF8.GetByteCount(text), "CLIXML", null, () => ClixmlGuard.Deserialize(text)));
            Assert.Contains("more memory", e.Message);
            Assert.Throws<MessageFormatException>(() => DecodeWithinBound(ClixmlMessage(text)));
        }

        [Fact]
        public void ObjectsNestedAsDeepAsPowerShellAcceptsAreRead()
        {
            using var fallback = Fallback(powerShell: true);
            Assert.NotNull(ClixmlGuard.Deserialize(Crafted.NestedObjects(ClixmlGuard.MaxObjectDepth)));
            var e = Assert.Throws<MessageFormatException>(() => ClixmlGuard.Deserialize(Crafted.NestedObjects(ClixmlGuard.MaxObjectDepth + 1)));
            Assert.Contains("nests objects", e.Message);
        }

        [Theory]
        [InlineData("<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]><Objs/>")]
        [InlineData("<Objs><!-- a comment --></Objs>")]
        [InlineData("<Objs><S><![CDATA[x]]></S></Objs>")]
        [InlineData("<Objs><?pi x?></Objs>")]
        [InlineData("<Objs><Obj RefId=\"01\"/></Objs>")]
        [InlineData("<Objs><Obj><TNRef RefId=\"&#48;\"/></Obj></Objs>")]
        [InlineData("<Objs><Obj N=a/></Objs>")]
        [InlineData("<Objs></Obj></Objs></Objs>")]
        [InlineData("<Objs><Obj")]
        public void WhatPowerShellNeverWritesIsRefused(string text)
        {
            using var fallback = Fallback(powerShell: true);
            Assert.Throws<MessageFormatException>(() => ClixmlGuard.Deserialize(text));
        }

        [Fact]
        public void AnXmlDeclarationFirstIsAccepted()
        {
            using var fallback = Fallback(powerShell: true);
            string text = "<?xml version=\"1.0\" encoding=\"utf-16\"?>" + PSSerializer.Serialize(42);
            Assert.Equal(42, ClixmlGuard.Deserialize(text));
        }

        public static IEnumerable<object[]> Texts()
        {
            var self = new ArrayList { 1 };
            self.Add(self);
            var bag = new PSObject();
            bag.Properties.Add(new PSNoteProperty("Name", "root"));
            bag.Properties.Add(new PSNoteProperty("Self", bag));
            var values = new (string, object, int)[]
            {
                ("a file, depth 1", new System.IO.FileInfo("/etc/passwd"), 1),
                ("a file, depth 2", new System.IO.FileInfo("/etc/passwd"), 2),
                ("a folder, depth 2", new System.IO.DirectoryInfo("/tmp"), 2),
                ("an enum", System.IO.FileAttributes.Archive, 1),
                ("a list that contains itself", self, 2),
                ("a custom object that refers to itself", bag, 2),
                ("custom objects", Enumerable.Range(0, 200).Select(i => { var p = new PSObject(); p.Properties.Add(new PSNoteProperty("a", i)); return p; }).ToArray(), 2),
                ("nested hashtables", Enumerable.Range(0, 20).Aggregate((object)new Hashtable(), (h, i) => new Hashtable { ["k"] = h, ["i"] = i }), 2),
                ("an XML document", new System.Xml.XmlDocument { InnerXml = "<r>" + string.Concat(Enumerable.Repeat("<a b='1'>t</a>", 500)) + "</r>" }, 1),
                ("a long string", new string('x', 200_000), 1),
                ("escaped text", string.Concat(Enumerable.Repeat("\u0001<&>\u0002", 20_000)), 1),
            };
            foreach (var (label, value, depth) in values) yield return new object[] { label, PSSerializer.Serialize(value, depth) };
            yield return new object[] { "type-name copies", Crafted.TypeNameClones(50, 200) };
            yield return new object[] { "nested member sets", Crafted.NestedMemberSets(100) };
            yield return new object[] { "nested objects", Crafted.NestedObjects(40) };
            yield return new object[] { "untyped objects", Crafted.Root + string.Concat(Enumerable.Repeat("<Obj><MS><I32 N=\"a\">1</I32></MS></Obj>", 500)) + "</Objs>" };
            yield return new object[] { "XML documents", Crafted.Root + string.Concat(Enumerable.Repeat("<XD>&lt;a/&gt;</XD>", 100)) + "</Objs>" };
        }

        [Theory]
        [MemberData(nameof(Texts))]
        public void NoTextCostsMoreThanTheGuardCharges(string what, string text)
        {
            using var fallback = Fallback(powerShell: true);
            for (int i = 0; i < 2; i++) IpcObjectConverter.Rehydrate(PSSerializer.Deserialize(text));
            long charge = ClixmlGuard.Check(text);
            // The least of three measures: PowerShell keeps per-object state in process-wide weak tables that grow in
            // steps (a resize copies every entry of the whole process, not of this text), and one step can fall on a
            // measure; it cannot fall on three in a row (CodecAllocationTests does the same).
            long used = long.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                IpcObjectConverter.Rehydrate(PSSerializer.Deserialize(text));
                used = Math.Min(used, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.True(used <= charge, $"{what}: deserializing {text.Length:N0} characters allocated {used:N0} bytes, the guard charged {charge:N0}.");
        }

        [Fact]
        public void AFailureAtTheDeepestLevelStaysWithinTheBound()
        {
            // The exception's stack trace grows with every level it unwinds (here 440 KB, mostly in PowerShell): what
            // the bound keeps a reserve for, besides the charges.
            using var _ = Fallback(powerShell: true);
            string bad = Crafted.Root + "<Obj><MS>" + string.Concat(Enumerable.Repeat("<MS N=\"a\">", 156)) + "x"
                + string.Concat(Enumerable.Repeat("</MS>", 156)) + "</MS></Obj></Objs>";
            var utf8 = Encoding.UTF8.GetBytes(bad);
            var message = Enumerable.Repeat(new byte[] { (byte)Tag.Array, 1 }, ObjectGraph.MaxNesting - 1).SelectMany(b => b)
                .Concat(new[] { (byte)Tag.Clixml }).Concat(CodecFuzzTests.Leb(utf8.Length)).Concat(utf8).ToArray();
            for (int i = 0; i < 2; i++) { try { MessageCodec.Decode(message); } catch (MessageFormatException) { } }
            Assert.Throws<MessageFormatException>(() => DecodeWithinBound(message));
        }

        [Fact]
        public void ASenderIsToldWhatItsReceiversDeserializerWouldRefuse()
        {
            // A .NET object graph deeper than PowerShell's deserializer reads (50 levels): refused when sent, with the
            // reason, instead of being lost at the receiver.
            using var fallback = Fallback(powerShell: true);
            var deep = new Stack();
            var inner = deep;
            for (int i = 0; i < 60; i++) { var next = new Stack(); inner.Push(next); inner = next; }
            var e = Assert.Throws<ArgumentException>(() => MessageCodec.Encode(deep, 2));
            Assert.Contains("receiver would refuse", e.Message);
        }
    }
}
