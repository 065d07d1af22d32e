using System;
using System.Collections;
using System.Collections.Generic;
using IpcPs.Core.Managers;

namespace IpcPs
{
    /// <summary>
    /// A dict that lives in a manager (CPython's DictProxy), usable as a PowerShell hashtable: $d['k'], $d['k'] = v,
    /// Keys, Values, Count, ContainsKey, Remove, enumeration (a snapshot taken in one call). Each operation is one
    /// round trip and atomic on the server. String keys ignore case, as in @{}; a missing key reads as $null.
    /// </summary>
    public sealed class ManagedDict : IDictionary, IManagedProxy, IReprWriter
    {
        internal ManagedDict(ManagerReference reference) => Reference = reference;

        ManagerReference IManagedProxy.Reference => Reference;
        private ManagerReference Reference { get; }

        public object? this[object key]
        {
            get => Reference.Call("Get", key);
            set => Reference.Call("Set", key, value);
        }

        public int Count => GetCount();

        /// <summary>How many entries there are (a method: PowerShell reads a property that failed as $null, about_IpcPs).</summary>
        public int GetCount() => Reference.Call<int>("Count");

        public ICollection Keys => Reference.Call<object?[]>("Keys");
        public ICollection Values => Reference.Call<object?[]>("Values");
        public bool ContainsKey(object key) => Reference.Call<bool>("ContainsKey", key);
        public bool Contains(object key) => ContainsKey(key);
        public void Add(object key, object? value) => Reference.Call("Add", key, value);

        /// <summary>Removes KEY; true if it was there.</summary>
        public bool Remove(object key) => Reference.Call<bool>("Remove", key);
        void IDictionary.Remove(object key) => Remove(key);

        public void Clear() => Reference.Call("Clear");

        /// <summary>The value of KEY, $null when absent (dict.get; a method: PowerShell reads an indexer that failed as $null).</summary>
        public object? Get(object key) => this[key];   // C# calls the getter directly: its exception propagates

        /// <summary>
        /// The value of KEY, or OTHERWISE itself when KEY is absent (dict.get), in one call that says whether KEY was
        /// there: a key removed meanwhile never reads as $null, and OTHERWISE never goes to the manager.
        /// </summary>
        public object? Get(object key, object? otherwise)
        {
            var reply = Reference.Call<object?[]>("TryGet", key);   // [true, value] or [false]
            bool found = reply.Length > 0 && ManagerReply.Expect<bool>(reply[0], "TryGet", Reference.Address);
            if (reply.Length != (found ? 2 : 1)) throw ManagerReply.Wrong("TryGet", Reference.Address, $"has {reply.Length} items");
            return found ? reply[1] : otherwise;
        }

        /// <summary>Removes KEY and returns its value; an error when absent (dict.pop).</summary>
        public object? Pop(object key) => Reference.Call("Pop", key);
        public object? Pop(object key, object? otherwise) => Reference.Call("Pop", key, otherwise);

        /// <summary>KEY's value, storing VALUE first when KEY is absent (dict.setdefault), atomically.</summary>
        public object? SetDefault(object key, object? value) => Reference.Call("SetDefault", key, value);

        /// <summary>Stores every entry of ENTRIES in one call (dict.update).</summary>
        public void Update(IDictionary entries) => Reference.Call("Update", entries is Hashtable h ? h : new Hashtable(entries));

        /// <summary>A local, ordered copy of the whole dict, taken in one call.</summary>
        public System.Collections.Specialized.OrderedDictionary ToHashtable()
        {
            var items = ManagerReply.Pairs<object>(Reference.Call("Items"), "Items", Reference.Address);
            int n = items.Length / 2;
            var copy = new System.Collections.Specialized.OrderedDictionary(n, StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < n; i++) copy[items[i]!] = items[n + i];
            return copy;
        }

        public IDictionaryEnumerator GetEnumerator() => ToHashtable().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public bool IsFixedSize => false;
        public bool IsReadOnly => false;
        public bool IsSynchronized => true;
        public object SyncRoot => this;

        public void CopyTo(Array array, int index) => ToHashtable().CopyTo(array, index);

        /// <summary>Python's repr of the dict ({1: 'a', 'k': None}), in insertion order (bounded: see PyRepr).</summary>
        public override string ToString() => PyRepr.Of(this);

        void IReprWriter.WriteRepr(PyRepr repr) => repr.WriteDict(ToHashtable());
        string IReprWriter.CycleText => "{...}";
    }
}
