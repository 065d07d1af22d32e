using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CsCheck;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The fast path of custom objects (Hosting/CustomObjects) reads exactly what PowerShell's public path reads, and
    /// builds exactly what adding the properties one by one builds; anything it does not cover it leaves to that path.
    /// </summary>
    [Collection("codec")]
    public sealed class CodecFastObjectTests
    {
        private static readonly Gen<object?> Values = Gen.OneOf<object?>(
            Gen.Int.Select(i => (object?)i), Gen.String.Select(s => (object?)s), Gen.Const(0).Select(_ => (object?)null), Gen.Bool.Select(b => (object?)b));

        private static PSObject Make(IEnumerable<(string Name, object? Value)> properties)
        {
            var o = new PSObject();
            foreach (var (name, value) in properties) o.Properties.Add(new PSNoteProperty(name, value));
            return o;
        }

        [Fact]
        public void ReadsWhatThePublicPathReads()
        {
            Assert.True(CustomObjects.Available, CustomObjects.Unavailable);
            // Distinct names (case ignored), as PowerShell allows them.
            var gen = Gen.Select(Gen.String.AlphaNumeric, Values).Array[0, 12]
                .Select(ps => ps.Where(p => p.Item1.Length > 0).GroupBy(p => p.Item1.ToLowerInvariant()).Select(g => g.First()).ToArray());
            gen.Sample(props =>
            {
                var o = Make(props);
                Assert.True(CustomObjects.TryRead(o, out var typeNames, out var read));
                Assert.Equal(o.TypeNames.ToArray(), typeNames);
                var expected = PSMessageFallback.ReadableProperties(o);
                Assert.Equal(expected.Select(p => p.Key), read.Select(p => p.Key));
                Assert.Equal(expected.Select(p => p.Value), read.Select(p => p.Value));
            });
        }

        [Fact]
        public void LeavesToThePublicPathWhatItDoesNotCover()
        {
            var scripted = Make(new[] { ("A", (object?)1) });
            scripted.Properties.Add(new PSScriptProperty("Twice", ScriptBlock.Create("2")));
            Assert.False(CustomObjects.TryRead(scripted, out _, out _), "a script property");
            var aliased = Make(new[] { ("A", (object?)1) });
            aliased.Properties.Add(new PSAliasProperty("B", "A"));
            Assert.False(CustomObjects.TryRead(aliased, out _, out _), "an alias property");
            Assert.False(CustomObjects.TryRead(new PSObject((object)42), out _, out _), "not a custom object");   // not a custom object
            var withMethod = Make(new[] { ("A", (object?)1) });
            withMethod.Members.Add(new PSScriptMethod("M", ScriptBlock.Create("1")));   // a method is not a property: skipped
            Assert.True(CustomObjects.TryRead(withMethod, out _, out var props));
            Assert.Equal(new[] { "A" }, props.Select(p => p.Key));
        }

        [Fact]
        public void ReadsObjectsWhosePSObjectWasUsed()
        {
            // Enumerating Properties or reading $o.psobject makes PowerShell add its hidden members (PSTypeNames, the
            // member sets): still a plain custom object, read as fast, with the same properties.
            var o = Make(new[] { ("Id", (object?)1), ("Name", "x") });
            foreach (var unused in o.Properties) { }
            Assert.True(CustomObjects.TryRead(o, out _, out var read), "a custom object whose hidden members were made");
            Assert.Equal(new[] { "Id", "Name" }, read.Select(p => p.Key));
            Assert.Equal(PSMessageFallback.ReadableProperties(o).Select(p => p.Value), read.Select(p => p.Value));
        }

        [Fact]
        public void BuildsBagsDirectly()
        {
            Assert.True(CustomObjects.Direct, "this PowerShell has what building bags directly needs");
            var bag = CustomObjects.CreateBag(new[] { "T" }, 2);
            CustomObjects.AddProperties(bag, new[] { "A", "B" }, new object?[] { 1, null }, 2);
            Assert.Equal(new[] { ("A", PSMemberTypes.NoteProperty, true, true), ("B", PSMemberTypes.NoteProperty, true, true) },
                bag.Properties.Select(p => (p.Name, p.MemberType, p.IsInstance, p.IsSettable)));
            bag.Properties["B"].Value = "set";
            Assert.Equal("set", bag.Properties["B"].Value);
            bag.Properties.Add(new PSNoteProperty("C", 3));   // the public path still works on such a bag
            Assert.Equal(new[] { "A", "B", "C" }, bag.Properties.Select(p => p.Name));
        }

        [Fact]
        public void BuildsWhatAddingOneByOneBuilds()
        {
            var gen = Gen.Select(Gen.String.AlphaNumeric, Values).Array[0, 12]
                .Select(ps => ps.Where(p => p.Item1.Length > 0).GroupBy(p => p.Item1.ToLowerInvariant()).Select(g => g.First()).ToArray());
            gen.Sample(props =>
            {
                var fast = CustomObjects.CreateBag(new[] { "System.Management.Automation.PSCustomObject", "System.Object" });
                CustomObjects.AddProperties(fast, props.Select(p => p.Item1).ToArray(), props.Select(p => p.Item2).ToArray(), props.Length);
                var slow = new PSObject();
                slow.TypeNames.Clear();
                slow.TypeNames.Add("Deserialized.System.Management.Automation.PSCustomObject");
                slow.TypeNames.Add("Deserialized.System.Object");
                foreach (var (name, value) in props) slow.Properties.Add(new PSNoteProperty(name, value));
                Assert.Equal(slow.TypeNames, fast.TypeNames);
                Assert.Equal(slow.Properties.Select(p => (p.Name, p.MemberType, p.Value, p.IsInstance, p.IsSettable, p.TypeNameOfValue)),
                    fast.Properties.Select(p => (p.Name, p.MemberType, p.Value, p.IsInstance, p.IsSettable, p.TypeNameOfValue)));
            });
        }
    }
}
