using System;
using System.Collections;
using System.Linq;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A manager store (Dict, List, Namespace) removed under an open handle (Remove-IpcObject elsewhere; a server restarted
    /// without persistence loses it the same way): every operation of the handle is IpcObjectNotFound, as every other
    /// object's, and none writes a key (it wrote the data key again without its meta: a write accepted, listed by no
    /// Get-IpcObject, and deleted by the next New-* of the name).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisStoreRemovedTests : RedisTestBase
    {
        public RedisStoreRemovedTests(RedisFixture f) : base(f, "sr_") { }

        private void AssertNoKeys(string name) =>
            Assert.Empty(Db.Multiplexer.GetServers()[0].Keys(Db.Database, "ipcps:{" + name + "}*").Select(k => k.ToString()));

        /// <summary>
        /// Setting a list item past its end says so as reading it does (IndexOutOfRangeException), not as a failure of
        /// the server: through the store script, Redis's "ERR index out of range" came back as an IpcBackendException
        /// that named the script (review finding).
        /// </summary>
        [Fact]
        public void Setting_a_list_item_past_its_end_is_IndexOutOfRange_as_reading_it_is()
        {
            var l = B.Manager().List(NewName());
            l.Append(1);
            Assert.Throws<IndexOutOfRangeException>(() => l.Get(5));
            var e = Assert.Throws<IndexOutOfRangeException>(() => l[5] = 2);
            Assert.DoesNotContain("script", e.Message);
            Assert.Equal(1, l.GetCount());
            l[0] = 7;
            Assert.Equal(7L, Convert.ToInt64(l.Get(0)));
        }

        [Fact]
        public void A_removed_dict_refuses_every_operation_and_writes_nothing()
        {
            var d = B.Manager().Dict(NewName());
            d["a"] = 1;
            B.Remove(d.Name);
            Assert.Throws<IpcObjectNotFoundException>(() => d["k"] = 1);
            Assert.Throws<IpcObjectNotFoundException>(() => d.Update(new Hashtable { ["x"] = 1 }));
            Assert.Throws<IpcObjectNotFoundException>(() => d.SetDefault("k", 2));
            Assert.Throws<IpcObjectNotFoundException>(() => d.Pop("a"));
            Assert.Throws<IpcObjectNotFoundException>(() => d.Remove("a"));
            Assert.Throws<IpcObjectNotFoundException>(() => d.Clear());
            Assert.Throws<IpcObjectNotFoundException>(() => d.Get("a"));
            Assert.Throws<IpcObjectNotFoundException>(() => d.GetCount());
            Assert.Throws<IpcObjectNotFoundException>(() => d.ContainsKey("a"));
            Assert.Throws<IpcObjectNotFoundException>(() => d.ToHashtable());
            AssertNoKeys(d.Name);
        }

        [Fact]
        public void A_removed_list_refuses_every_operation_and_writes_nothing()
        {
            var l = B.Manager().List(NewName());
            l.Add(1);
            B.Remove(l.Name);
            Assert.Throws<IpcObjectNotFoundException>(() => l.Add(2));
            Assert.Throws<IpcObjectNotFoundException>(() => l.Extend(Enumerable.Range(0, 3000).Cast<object>().ToArray()));
            Assert.Throws<IpcObjectNotFoundException>(() => l.Insert(0, 3));
            Assert.Throws<IpcObjectNotFoundException>(() => l[0] = 4);
            Assert.Throws<IpcObjectNotFoundException>(() => l.Pop());
            Assert.Throws<IpcObjectNotFoundException>(() => l.Remove(1));
            Assert.Throws<IpcObjectNotFoundException>(() => l.Reverse());
            Assert.Throws<IpcObjectNotFoundException>(() => l.Clear());
            Assert.Throws<IpcObjectNotFoundException>(() => l.Get(0));
            Assert.Throws<IpcObjectNotFoundException>(() => l.GetCount());
            Assert.Throws<IpcObjectNotFoundException>(() => l.IndexOf(1));
            Assert.Throws<IpcObjectNotFoundException>(() => l.ToArray());
            AssertNoKeys(l.Name);
        }

        [Fact]
        public void A_store_still_there_works_as_before_with_long_batches()
        {
            var l = B.Manager().List(NewName());
            l.Extend(Enumerable.Range(0, 20_000).Cast<object>().ToArray());   // past Lua's unpack limit: in chunks
            Assert.Equal(20_000, l.GetCount());
            Assert.Equal(19_999, l.Get(-1));
            Assert.Equal(5, l.IndexOf(5));
            l[0] = "x";
            Assert.Equal("x", l.Get(0));
            var d = B.Manager().Dict(NewName());
            var h = new Hashtable();
            for (int i = 0; i < 9_000; i++) h["k" + i] = i;
            d.Update(h);
            Assert.Equal(9_000, d.GetCount());
            Assert.Equal(8_999, d["K8999"]);
            Assert.Null(d["missing"]);
            Assert.True(d.ContainsKey("k1"));
            Assert.True(d.Remove("k1"));
            Assert.False(d.Remove("k1"));
            Assert.Equal(8_999, d.ToHashtable().Count);
            d.Clear();
            Assert.Equal(0, d.GetCount());
            l.Unlink();
            d.Unlink();
        }
    }
}
