using System;
using System.Collections;
using System.Linq;

namespace IpcPs
{
    /// <summary>
    /// A list that lives in a manager (CPython's ListProxy), usable as a PowerShell list: $l[i], $l[i] = v, Add,
    /// Insert, Remove, RemoveAt, Reverse, Count, enumeration (a snapshot taken in one call). Negative indexes count
    /// from the end. Each operation is one round trip and atomic on the server.
    /// Deliberately an ICollection with a long indexer, not an IList: PowerShell reads the Count of an IList (or of
    /// anything with an int indexer) before every $l[i], to resolve a negative index, which would double the round
    /// trips; here $l[i] is one call and the manager resolves negative indexes itself.
    /// </summary>
    public sealed class ManagedList : ICollection, IManagedProxy, IReprWriter
    {
        internal ManagedList(ManagerReference reference) => Reference = reference;

        ManagerReference IManagedProxy.Reference => Reference;
        private ManagerReference Reference { get; }

        public object? this[long index]
        {
            get => Reference.Call("Get", index);
            set => Reference.Call("Set", index, value);
        }

        public int Count => GetCount();

        /// <summary>How many items there are (a method: PowerShell reads a property that failed as $null, about_IpcPs).</summary>
        public int GetCount() => Reference.Call<int>("Count");

        /// <summary>The item at INDEX, negative from the end (a method: PowerShell reads an indexer that failed as $null).</summary>
        public object? Get(long index) => Reference.Call("Get", index);

        /// <summary>Appends VALUE (list.append); returns its index.</summary>
        public int Add(object? value) => Reference.Call<int>("Add", value);

        /// <summary>Appends VALUE (CPython's list.append).</summary>
        public void Append(object? value) => Add(value);

        /// <summary>Appends every item of VALUES in one call (list.extend).</summary>
        public void Extend(IEnumerable values) => Reference.Call("Extend", (object)values.Cast<object?>().ToArray());   // one argument: the items

        public void Insert(int index, object? value) => Reference.Call("Insert", index, value);

        /// <summary>Removes the first item equal to VALUE; true if there was one.</summary>
        public bool Remove(object? value) => Reference.Call<bool>("Remove", value);

        public void RemoveAt(int index) => Reference.Call("RemoveAt", index);

        /// <summary>Removes and returns the last item (list.pop()), or the one at INDEX.</summary>
        public object? Pop() => Reference.Call("Pop");
        public object? Pop(int index) => Reference.Call("Pop", index);

        /// <summary>Reverses the list in place, in the manager.</summary>
        public void Reverse() => Reference.Call("Reverse");

        public bool Contains(object? value) => Reference.Call<bool>("Contains", value);
        public int IndexOf(object? value) => Reference.Call<int>("IndexOf", value);
        public void Clear() => Reference.Call("Clear");

        /// <summary>A local copy of the whole list, taken in one call.</summary>
        public object?[] ToArray() => Reference.Call<object?[]>("Items");

        /// <summary>
        /// The items, from a snapshot taken in one call. PowerShell's + and += enumerate their list operand into a new
        /// local array (an operator cannot be given to an enumerable type): with a manager list that would quietly put
        /// a local copy where the shared list was, so it is refused, saying what to write instead.
        /// </summary>
        public IEnumerator GetEnumerator()
        {
            Core.IpcHost.RefuseConcatenation("A manager list");
            foreach (var item in ToArray()) yield return item;
        }
        public void CopyTo(Array array, int index) => ToArray().CopyTo(array, index);

        public bool IsSynchronized => true;
        public object SyncRoot => this;

        /// <summary>Python's repr of the list ([9, 8, 'a', None]; bounded: see PyRepr).</summary>
        public override string ToString() => PyRepr.Of(this);

        void IReprWriter.WriteRepr(PyRepr repr) => repr.WriteList(ToArray());
        string IReprWriter.CycleText => "[...]";
    }
}
