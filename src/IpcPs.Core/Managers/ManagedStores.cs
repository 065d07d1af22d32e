using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace IpcPs.Core.Managers
{
    /// <summary>An object the manager owns; a proxy's call names one of its operations (never code).</summary>
    internal interface IManagedStore
    {
        object? Invoke(string method, object?[] args);
    }

    /// <summary>
    /// The dict behind a ManagedDict: insertion-ordered (as Python's), string keys compared ignoring case (as
    /// PowerShell's @{}); a missing key reads as null (as a hashtable). Every operation holds the store's lock, so
    /// concurrent callers (one thread per connection) see each operation whole.
    /// </summary>
    internal sealed class DictStore : IManagedStore
    {
        private readonly OrderedStore _items = new OrderedStore();

        public DictStore(object?[] args)
        {
            if (args.Length > 0 && args[0] is IDictionary initial)
                foreach (DictionaryEntry e in initial) _items.Set(e.Key, e.Value);
        }

        public object? Invoke(string method, object?[] args)
        {
            lock (_items)
            {
                switch (method)
                {
                    case "Get": return _items.TryGet(Key(args, 0), out var found) ? found : null;
                    case "TryGet": return _items.TryGet(Key(args, 0), out var value) ? new object?[] { true, value } : new object?[] { false };
                    case "Set": _items.Set(Key(args, 0), Arg(args, 1)); return null;
                    case "Add":
                    {
                        var k = Key(args, 0);
                        if (_items.Contains(k)) throw new ArgumentException($"The key '{k}' is already in the dict.");
                        _items.Set(k, Arg(args, 1));
                        return null;
                    }
                    case "ContainsKey": return _items.Contains(Key(args, 0));
                    case "Remove": return _items.Remove(Key(args, 0));
                    case "Count": return _items.Count;
                    case "Keys": return _items.Keys();
                    case "Values": return _items.Values();
                    case "Items": return _items.Items();   // keys then values: enumeration and display take one snapshot
                    case "Clear": _items.Clear(); return null;
                    case "Update":
                        if (Arg(args, 0) is IDictionary more) foreach (DictionaryEntry e in more) _items.Set(e.Key, e.Value);
                        else throw new ArgumentException("Update takes a hashtable.");
                        return null;
                    case "SetDefault":
                    {
                        var k = Key(args, 0);
                        if (!_items.TryGet(k, out var v)) _items.Set(k, v = Arg(args, 1));
                        return v;
                    }
                    case "Pop":
                    {
                        var k = Key(args, 0);
                        if (!_items.TryGet(k, out var v))
                        {
                            if (args.Length > 1) return args[1];
                            throw new KeyNotFoundException($"The key '{k}' is not in the dict.");
                        }
                        _items.Remove(k);
                        return v;
                    }
                    default: throw Unknown("Dict", method);
                }
            }
        }

        internal static object? Arg(object?[] args, int i) =>
            i < args.Length ? args[i] : throw new ArgumentException($"The call needs at least {i + 1} arguments.");

        private static object Key(object?[] args, int i) => Arg(args, i) ?? throw new ArgumentNullException("key", "A dict key cannot be null.");

        internal static Exception Unknown(string type, string method) =>
            new MissingMethodException($"A managed {type} has no operation '{method}'.");
    }

    /// <summary>The list behind a ManagedList. Negative indexes count from the end (Python); every operation holds the lock.</summary>
    internal sealed class ListStore : IManagedStore
    {
        private readonly List<object?> _items = new List<object?>();

        public ListStore(object?[] args)
        {
            if (args.Length > 0 && args[0] is IEnumerable initial && !(args[0] is string) && !(args[0] is IDictionary))
                foreach (var item in initial) _items.Add(item);
            else if (args.Length > 0 && args[0] != null) _items.Add(args[0]);
        }

        public object? Invoke(string method, object?[] args)
        {
            lock (_items)
            {
                switch (method)
                {
                    case "Get": return _items[Index(args, 0, false)];
                    case "Set": _items[Index(args, 0, false)] = DictStore.Arg(args, 1); return null;
                    case "Add": _items.Add(DictStore.Arg(args, 0)); return _items.Count - 1;
                    case "Extend":
                        if (DictStore.Arg(args, 0) is IEnumerable more && !(args[0] is string)) foreach (var x in more) _items.Add(x);
                        else _items.Add(args[0]);
                        return null;
                    case "Insert": _items.Insert(Index(args, 0, true), DictStore.Arg(args, 1)); return null;
                    case "Remove":
                    {
                        int i = IndexOf(DictStore.Arg(args, 0));
                        if (i >= 0) _items.RemoveAt(i);
                        return i >= 0;
                    }
                    case "RemoveAt": _items.RemoveAt(Index(args, 0, false)); return null;
                    case "Pop":
                    {
                        int i = args.Length > 0 ? Index(args, 0, false) : _items.Count - 1;
                        if (i < 0) throw new ArgumentOutOfRangeException(null, "Pop from an empty list.");
                        var v = _items[i];
                        _items.RemoveAt(i);
                        return v;
                    }
                    case "Reverse": _items.Reverse(); return null;
                    case "Count": return _items.Count;
                    case "Items": return _items.ToArray();
                    case "IndexOf": return IndexOf(DictStore.Arg(args, 0));
                    case "Contains": return IndexOf(DictStore.Arg(args, 0)) >= 0;
                    case "Clear": _items.Clear(); return null;
                    default: throw DictStore.Unknown("List", method);
                }
            }
        }

        private int IndexOf(object? value)
        {
            for (int i = 0; i < _items.Count; i++) if (Equals(_items[i], value)) return i;
            return -1;
        }

        // Python's indexing: -1 is the last item. INSERT accepts Count (append) and clamps as list.insert does.
        private int Index(object?[] args, int at, bool insert)
        {
            long i = Convert.ToInt64(DictStore.Arg(args, at), System.Globalization.CultureInfo.InvariantCulture);
            if (i < 0) i += _items.Count;
            if (insert) return (int)Math.Max(0, Math.Min(i, _items.Count));
            if (i < 0 || i >= _items.Count)
                throw new ArgumentOutOfRangeException(null, $"The index {args[at]} is outside the list of {_items.Count} items.");
            return (int)i;
        }
    }

    /// <summary>The attributes behind a ManagedNamespace (names compared ignoring case, as PowerShell's properties).</summary>
    internal sealed class NamespaceStore : IManagedStore
    {
        private readonly OrderedStore _attrs = new OrderedStore();

        public NamespaceStore(object?[] args)
        {
            if (args.Length > 0 && args[0] is IDictionary initial)
                foreach (DictionaryEntry e in initial) _attrs.Set(Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture)!, e.Value);
        }

        public object? Invoke(string method, object?[] args)
        {
            lock (_attrs)
            {
                switch (method)
                {
                    case "Get":
                    {
                        string n = Name(args);
                        return _attrs.TryGet(n, out var v) ? v : throw new MissingMemberException($"The namespace has no attribute '{n}'.");
                    }
                    case "Set": _attrs.Set(Name(args), DictStore.Arg(args, 1)); return null;
                    case "Remove": return _attrs.Remove(Name(args));
                    case "Items": return _attrs.Items();
                    default: throw DictStore.Unknown("Namespace", method);
                }
            }
        }

        private static string Name(object?[] args) =>
            DictStore.Arg(args, 0) as string ?? throw new ArgumentException("An attribute name must be a string.");
    }
}
