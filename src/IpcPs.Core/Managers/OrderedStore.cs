using System;
using System.Collections.Generic;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// An insertion-ordered map with O(1) get, set and remove (OrderedDictionary's set of an existing key and its
    /// remove scan the whole list). String keys compare ignoring case, other keys by Equals. Not thread-safe: the
    /// stores lock around it.
    /// </summary>
    internal sealed class OrderedStore
    {
        private sealed class Entry
        {
            public Entry(object key, object? value) { Key = key; Value = value; }
            public object Key;
            public object? Value;
        }

        private sealed class KeyComparer : IEqualityComparer<object>
        {
            public new bool Equals(object? x, object? y) =>
                x is string a && y is string b ? StringComparer.OrdinalIgnoreCase.Equals(a, b) : object.Equals(x, y);

            public int GetHashCode(object obj) => obj is string s ? StringComparer.OrdinalIgnoreCase.GetHashCode(s) : obj.GetHashCode();
        }

        private readonly Dictionary<object, LinkedListNode<Entry>> _index = new Dictionary<object, LinkedListNode<Entry>>(new KeyComparer());
        private readonly LinkedList<Entry> _order = new LinkedList<Entry>();

        public int Count => _index.Count;

        public bool Contains(object key) => _index.ContainsKey(key);

        public bool TryGet(object key, out object? value)
        {
            if (_index.TryGetValue(key, out var node)) { value = node.Value.Value; return true; }
            value = null;
            return false;
        }

        /// <summary>Sets KEY (an existing key keeps its place and its first spelling, as in a hashtable).</summary>
        public void Set(object key, object? value)
        {
            if (_index.TryGetValue(key, out var node)) node.Value.Value = value;
            else _index[key] = _order.AddLast(new Entry(key, value));
        }

        public bool Remove(object key)
        {
            if (!_index.TryGetValue(key, out var node)) return false;
            _index.Remove(key);
            _order.Remove(node);
            return true;
        }

        public void Clear()
        {
            _index.Clear();
            _order.Clear();
        }

        public object?[] Keys()
        {
            var r = new object?[_index.Count];
            int i = 0;
            foreach (var e in _order) r[i++] = e.Key;
            return r;
        }

        public object?[] Values()
        {
            var r = new object?[_index.Count];
            int i = 0;
            foreach (var e in _order) r[i++] = e.Value;
            return r;
        }

        /// <summary>Keys then values in one array (the wire form of a snapshot).</summary>
        public object?[] Items()
        {
            int n = _index.Count, i = 0;
            var r = new object?[2 * n];
            foreach (var e in _order) { r[i] = e.Key; r[n + i] = e.Value; i++; }
            return r;
        }
    }
}
