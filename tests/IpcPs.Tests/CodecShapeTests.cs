using System;
using System.Collections;
using System.Collections.Generic;
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
    /// The decoder's memory of shapes (Core/Messaging/ShapeCache): a name or a type-name list found again is exactly what
    /// its bytes say, whatever came before in the same slot; a message decodes the same whether the cache knows its
    /// shapes or not; and the cache stays bounded whatever a sender writes.
    /// </summary>
    [Collection("codec")]
    public sealed class CodecShapeTests
    {
        private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

        [Fact]
        public void NamesAreWhatTheirBytesSayWhateverSharedTheirSlot()
        {
            // Far more names than slots: every slot is taken over many times, in both orders.
            var names = Enumerable.Range(0, 5000).Select(i => "n" + i.ToString("x")).Concat(new[] { "Id", "ID", "id", "é", "naïve", "x\u0000y", new string('z', 64), new string('z', 65) }).ToList();
            foreach (var order in new[] { names, Enumerable.Reverse(names).ToList(), names })
                foreach (var name in order)
                {
                    var bytes = Utf8(name);
                    var padded = new byte[bytes.Length + 3];
                    Buffer.BlockCopy(bytes, 0, padded, 2, bytes.Length);
                    Assert.Equal(name, ShapeCache.Name(padded, 2, bytes.Length));
                }
        }

        [Fact]
        public void NamesFoundAgainAreOneString()
        {
            var bytes = Utf8("Property");
            var first = ShapeCache.Name(bytes, 0, bytes.Length);
            Assert.Same(first, ShapeCache.Name((byte[])bytes.Clone(), 0, bytes.Length));
        }

        [Fact]
        public void TypeListsAreWhatTheirBytesSay()
        {
            Gen.String.Array[1, 6].Sample(names =>
            {
                var w = new MessageWriter();
                foreach (var n in names) w.WriteString(n);
                var bytes = w.Buffer.Take(w.Length).ToArray();
                Assert.Equal(names, ShapeCache.TypeList(bytes, 0, bytes.Length, names.Length));
                Assert.Equal(names, ShapeCache.TypeList((byte[])bytes.Clone(), 0, bytes.Length, names.Length));
            }, iter: 2000);
        }

        [Fact]
        public void BagsDecodeTheSameWithOrWithoutTheirShapesKnown()
        {
            using var fallback = Fallback(powerShell: true);
            // Few names and type names, so that shapes repeat, collide and change between messages; then mutations of
            // them decoded twice in a row (the second time with every shape of the first known): the same either way.
            var nameList = new[] { "Id", "id", "Name", "Size", "Ok", "é", "Long" + new string('x', 70), "a", "b" };
            var typeNameList = new[] { "My.Type", "My.Typf", "System.Object", "Deserialized.X", "" };
            var names = Gen.Int[0, nameList.Length - 1].Select(i => nameList[i]);
            var typeNames = Gen.Int[0, typeNameList.Length - 1].Select(i => typeNameList[i]);
            var bags = Gen.Select(typeNames.Array[0, 3], Gen.Select(names, Gen.Int[0, 9]).Array[0, 5], (tn, props) => MakeBag(tn, props));
            Fuzzing.Run("codec.shapes", bags.Array[1, 4], batch =>
            {
                foreach (var o in batch)
                {
                    var back = (PSObject)DecodeWithinBound(Encoded(o))!;
                    Assert.Equal(o.TypeNames.Select(t => t.StartsWith("Deserialized.", StringComparison.Ordinal) ? t : "Deserialized." + t), back.TypeNames);
                    Assert.Equal(o.Properties.Select(p => (p.Name, p.Value)), back.Properties.Select(p => (p.Name, p.Value)));
                }
            });
            var random = new Random(15);
            var seeds = Enumerable.Range(0, 40).Select(_ => Encoded(Enumerable.Range(0, random.Next(1, 4)).Select(_ => (object?)MakeBag(
                Enumerable.Range(0, random.Next(0, 3)).Select(_ => typeNameList[random.Next(typeNameList.Length)]).ToArray(),
                Enumerable.Range(0, random.Next(0, 5)).Select(_ => (nameList[random.Next(nameList.Length)], random.Next(10))).ToArray())).ToArray())).ToList();
            Fuzzing.Run("codec.shapes.mutated", Fuzzing.Mutations(seeds), input =>
            {
                string first = Describe(input), second = Describe(input);
                Assert.Equal(first, second);
            });
        }

        private static PSObject MakeBag(string[] typeNames, (string, int)[] properties)
        {
            var o = new PSObject();
            o.TypeNames.Clear();
            foreach (var t in typeNames.Where(t => t.Length > 0)) o.TypeNames.Add(t);
            foreach (var (n, v) in properties.GroupBy(p => p.Item1, StringComparer.OrdinalIgnoreCase).Select(g => g.First()))
                o.Properties.Add(new PSNoteProperty(n, v));
            return o;
        }

        /// <summary>What INPUT decodes to, as text (or the format error it is).</summary>
        private static string Describe(byte[] input)
        {
            object? value;
            try { value = DecodeWithinBound(input); }
            catch (MessageFormatException) { return "format error"; }
            var sb = new StringBuilder();
            Describe(value, sb, 0);
            return sb.ToString();
        }

        private static void Describe(object? value, StringBuilder sb, int depth)
        {
            if (depth > 8) { sb.Append('…'); return; }
            switch (value)
            {
                case PSObject o when o.BaseObject is PSCustomObject:
                    sb.Append('{').Append(string.Join(",", o.TypeNames)).Append('|');
                    foreach (var p in o.Properties) { sb.Append(p.Name).Append('='); Describe(p.Value, sb, depth + 1); sb.Append(';'); }
                    sb.Append('}');
                    break;
                case IDictionary d:
                    sb.Append("@{");
                    foreach (DictionaryEntry e in d) { Describe(e.Key, sb, depth + 1); sb.Append('='); Describe(e.Value, sb, depth + 1); sb.Append(';'); }
                    sb.Append('}');
                    break;
                case IEnumerable e when !(value is string):
                    sb.Append('[');
                    foreach (var item in e) { Describe(item, sb, depth + 1); sb.Append(','); }
                    sb.Append(']');
                    break;
                default: sb.Append(value?.GetType().Name).Append(':').Append(value); break;
            }
        }

        [Fact]
        public void HashtableKeysAreWhatTheirBytesSay()
        {
            using var fallback = Fallback(powerShell: false);
            var keys = Enumerable.Range(0, 3000).Select(i => "k" + i).ToList();
            for (int round = 0; round < 2; round++)
                foreach (var chunk in keys.Select((k, i) => (k, i)).GroupBy(p => p.i / 4))
                {
                    var h = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (var (k, i) in chunk) h[k] = i;
                    var back = (Hashtable)MessageCodec.Decode(Encoded(h))!;
                    Assert.Equal(h.Keys.Cast<string>().OrderBy(k => k), back.Keys.Cast<string>().OrderBy(k => k));
                    foreach (var (k, i) in chunk) Assert.Equal(i, back[k]);
                }
        }
    }
}
