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
    /// IpcObjectConverter's one graph walker (Rehydrate, Dehydrate, FindHandles): cycles and shared references are
    /// walked once and kept by a copy, nesting is bounded, and handles are found and replaced wherever they are.
    /// </summary>
    [Collection("codec")]
    public sealed class CodecGraphWalkerTests
    {
        private static PSObject Bag(params (string Name, object? Value)[] properties) => CodecFuzzTests.Bag(properties);

        [Fact]
        public void CyclesAreWalkedOnce()
        {
            var list = new ArrayList { 1 };
            list.Add(list);
            var table = new Hashtable { ["list"] = list };
            table["self"] = table;
            var root = Bag(("Name", "root"), ("Children", new ArrayList()));
            ((ArrayList)root.Properties["Children"].Value).Add(Bag(("Parent", root), ("Table", table)));
            foreach (var value in new object[] { list, table, root, new object?[] { root, list, table } })
            {
                Assert.Same(value, IpcObjectConverter.Rehydrate(value));
                Assert.Empty(IpcObjectConverter.FindHandles(value));
                Assert.Same(value, IpcObjectConverter.Dehydrate(value));   // nothing to replace: not copied
            }
        }

        [Fact]
        public void DeepNestingIsLeftAsItIsBeyondTheLimit()
        {
            var top = new ArrayList();
            var inner = top;
            for (int i = 0; i < 200_000; i++) { var next = new ArrayList(); inner.Add(next); inner = next; }
            Assert.Same(top, IpcObjectConverter.Rehydrate(top));
            Assert.Empty(IpcObjectConverter.FindHandles(top));
        }

        [Fact]
        public void HandlesAreFoundAndReplacedInsideCycles()
        {
            using var ev = IpcEvent.Create("codecwalk_" + Guid.NewGuid().ToString("N").Substring(0, 12));
            try
            {
                var list = new ArrayList { ev };
                list.Add(list);
                var root = Bag(("Event", ev), ("List", list));
                root.Properties.Add(new PSNoteProperty("Self", root));
                var graph = new object?[] { root, list, root };

                var found = IpcObjectConverter.FindHandles(graph).ToList();
                Assert.Equal(2, found.Count);
                Assert.All(found, h => Assert.Same(ev, h));

                var copy = Assert.IsType<object?[]>(IpcObjectConverter.Dehydrate(graph));
                Assert.Same(copy[0], copy[2]);   // one custom object, copied once
                var bag = Assert.IsType<PSObject>(copy[0]);
                Assert.Same(bag, bag.Properties["Self"].Value);
                var descriptor = Assert.IsType<PSObject>(bag.Properties["Event"].Value);
                Assert.Equal(ev.Name, descriptor.Properties["Name"].Value);
                var listCopy = Assert.IsType<object?[]>(copy[1]);
                Assert.Same(listCopy, listCopy[1]);
                Assert.Same(listCopy, bag.Properties["List"].Value);
                Assert.Same(ev, list[0]);   // the original is left alone

                // Serialized, deserialized where handles are not converted on the way (no runspace), then rehydrated:
                // the handles come back attached, the cycles as they were.
                var arrived = IpcObjectConverter.Rehydrate(PSSerializer.Deserialize(PSSerializer.Serialize(copy, 3)));
                var items = Assert.IsType<ArrayList>(arrived is PSObject wrapper ? wrapper.BaseObject : arrived);
                var back = Assert.IsType<PSObject>(items[0]);
                var attached = Assert.IsType<IpcEvent>(back.Properties["Event"].Value);
                try
                {
                    Assert.Equal(ev.Name, attached.Name);
                    Assert.Same(back, back.Properties["Self"].Value);
                    Assert.Same(back, items[2]);
                }
                finally { foreach (var h in IpcObjectConverter.FindHandles(arrived)) h.Close(); }
            }
            finally { ev.Unlink(); }
        }
    }
}
