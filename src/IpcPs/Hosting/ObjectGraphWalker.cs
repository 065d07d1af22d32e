using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using IpcPs.Core.Managers;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The one walk over a PowerShell object graph that <see cref="IpcObjectConverter"/> needs: it finds the handles
    /// in a value (Find), puts live handles in place of their descriptors (Replace), or copies the graph with
    /// descriptors in place of live handles (Copy). Containers are dictionaries, collections (lists, arrays of
    /// references, stacks, queues), PSObjects around them, and custom objects (their note properties). Each container
    /// is visited once (<see cref="IdentityMap"/>, by reference), so cycles and shared references are walked once
    /// and a copy keeps them; a container nested deeper than <see cref="ObjectGraph.MaxNesting"/>, or met when the stack
    /// is nearly used up, is left as it is. Everything else is a leaf, given to the mode's leaf function.
    /// </summary>
    internal sealed class ObjectGraphWalker
    {
        public enum Mode { Find, Replace, Copy }

        private readonly Mode _mode;
        private readonly Func<object, object?> _leaf;
        private readonly IdentityMap _seen = new IdentityMap();
        private readonly List<object?>? _copies;

        /// <param name="mode">What the walk does with containers.</param>
        /// <param name="leaf">Called for every value that is not a container: returns what goes in its place.</param>
        public ObjectGraphWalker(Mode mode, Func<object, object?> leaf)
        {
            _mode = mode;
            _leaf = leaf;
            if (mode == Mode.Copy) _copies = new List<object?>();
        }

        public object? Walk(object? value) => Walk(value, 0);

        private object? Walk(object? value, int nesting)
        {
            if (value is null) return null;
            var kind = KindOf(value);
            if (kind == Kind.Leaf) return _leaf(value);
            if (kind == Kind.Wrapper)
            {
                // A PSObject around a container: the container is walked; a copy drops the wrapper (it is serialized anyway).
                var inner = Walk(((PSObject)value).BaseObject, nesting);
                return _mode == Mode.Copy ? inner : value;
            }
            int number = _seen.Find(value);
            if (number >= 0) return _mode == Mode.Copy ? _copies![number] : value;
            if (nesting >= ObjectGraph.MaxNesting || !HasStack()) return value;
            number = _seen.Add(value);
            switch (kind)
            {
                case Kind.Dictionary: return WalkDictionary((IDictionary)value, number, nesting);
                case Kind.Collection: return WalkCollection((ICollection)value, number, nesting);
                default: return WalkBag((PSObject)value, number, nesting);
            }
        }

        private object WalkDictionary(IDictionary dict, int number, int nesting)
        {
            if (_mode == Mode.Copy)
            {
                var copy = new Hashtable();
                _copies!.Add(copy);   // before the entries: an entry may lead back here
                foreach (DictionaryEntry e in dict) copy[e.Key] = Walk(e.Value, nesting + 1);
                return copy;
            }
            if (_mode == Mode.Find)
            {
                foreach (DictionaryEntry e in dict) Walk(e.Value, nesting + 1);
                return dict;
            }
            foreach (var key in dict.Keys.Cast<object>().ToList())
            {
                var old = dict[key];
                var replaced = Walk(old, nesting + 1);
                if (!ReferenceEquals(old, replaced)) dict[key] = replaced;
            }
            return dict;
        }

        private object WalkCollection(ICollection collection, int number, int nesting)
        {
            if (_mode == Mode.Copy)
            {
                if (!(collection is IList list)) { _copies!.Add(collection); return collection; }   // a stack, a queue: serialized as it is
                var items = new object?[list.Count];
                _copies!.Add(items);
                for (int i = 0; i < items.Length; i++) items[i] = Walk(list[i], nesting + 1);
                return items;
            }
            if (_mode == Mode.Replace && collection is IList writable && (!writable.IsFixedSize || writable is object[]) && !writable.IsReadOnly)
            {
                for (int i = 0; i < writable.Count; i++)
                {
                    var old = writable[i];
                    var replaced = Walk(old, nesting + 1);
                    if (!ReferenceEquals(old, replaced)) writable[i] = replaced;
                }
                return collection;
            }
            foreach (var item in collection) Walk(item, nesting + 1);
            return collection;
        }

        private object WalkBag(PSObject bag, int number, int nesting)
        {
            if (_mode == Mode.Copy)
            {
                // The copy carries what the serializer would write: the type names and every property's value.
                var copy = new PSObject();
                _copies!.Add(copy);
                copy.TypeNames.Clear();
                foreach (var t in bag.TypeNames) copy.TypeNames.Add(t);
                foreach (var p in PSMessageFallback.ReadableProperties(bag))
                    copy.Properties.Add(new PSNoteProperty(p.Key, Walk(p.Value, nesting + 1)));
                return copy;
            }
            foreach (var p in bag.Properties.OfType<PSNoteProperty>().ToList())
            {
                var old = p.Value;
                var replaced = Walk(old, nesting + 1);
                if (_mode == Mode.Replace && !ReferenceEquals(old, replaced)) p.Value = replaced;
            }
            return bag;
        }

        private enum Kind { Leaf, Wrapper, Dictionary, Collection, Bag }

        private static Kind KindOf(object value)
        {
            switch (value)
            {
                case IpcObject _:
                case IManagedProxy _:
                case IIpcBackendStore _:   // a Redis dict or list is shared by name: a leaf, never copied as a collection
                case string _:
                    return Kind.Leaf;
                case PSObject pso:
                    var inner = pso.BaseObject;
                    if (inner is IpcObject || inner is IManagedProxy || inner is IIpcBackendStore || IpcObjectConverter.IsDescriptor(pso) || ManagerProxyDescriptor.Is(pso)
                        || BackendHandles.IsStoreDescriptor(pso)) return Kind.Leaf;
                    if (inner is PSCustomObject) return IsCustomObject(pso) ? Kind.Bag : Kind.Leaf;
                    return inner is string || KindOf(inner) == Kind.Leaf ? Kind.Leaf : Kind.Wrapper;
                case IDictionary _: return Kind.Dictionary;
                case Array a when a.GetType().GetElementType()!.IsValueType: return Kind.Leaf;   // no references inside
                case ICollection _: return Kind.Collection;
                default: return Kind.Leaf;
            }
        }

        private const string CustomObject = "System.Management.Automation.PSCustomObject";
        private const string DeserializedCustomObject = "Deserialized.System.Management.Automation.PSCustomObject";

        /// <summary>
        /// A [pscustomobject], live or as it arrives (by its type names). Other objects on a PSObject of its own (a
        /// FileInfo as remoting delivers it) are leaves: their properties are the object's data, not containers a
        /// handle was put in, and reading a PSObject's properties costs kilobytes, more than a crafted message may
        /// make the receiver spend on each of its objects.
        /// </summary>
        private static bool IsCustomObject(PSObject pso)
        {
            foreach (var name in pso.TypeNames)
                if (string.Equals(name, CustomObject, StringComparison.Ordinal) || string.Equals(name, DeserializedCustomObject, StringComparison.Ordinal))
                    return true;
            return false;
        }

        private static bool HasStack()
        {
            try
            {
                ObjectGraph.CheckStack();
                return true;
            }
            catch (InsufficientExecutionStackException) { return false; }
        }
    }
}
