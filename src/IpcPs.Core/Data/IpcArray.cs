using System;
using System.Collections;
using System.Runtime.InteropServices;

namespace IpcPs
{
    /// <summary>
    /// A fixed-length typed array in shared memory (CPython's multiprocessing.Array): layout in <see cref="IpcTypedData"/>.
    /// Indexes may be negative (from the end), as in CPython and PowerShell. Element access is one aligned load or
    /// store, not locked; ranges are copied in bulk (memcpy) under the lock when there is one.
    /// </summary>
    public sealed unsafe class IpcArray : IpcTypedData, IEnumerable
    {
        private IpcArray(string name) : base(name, IpcObjectKind.Array) { }

        internal static IpcArray Describe(string name) => new IpcArray(name);

        /// <summary>A zero-filled array of LENGTH elements of TYPE.</summary>
        public static IpcArray Create(string? name, IpcDataType type, int length, bool noLock = false)
        {
            if (type is null) throw new ArgumentNullException(nameof(type));
            return MakeData(name, IpcObjectKind.Array, type, length, noLock, n => new IpcArray(n), null);
        }

        /// <summary>An array of TYPE holding VALUES (its length is theirs). Every value is checked before anything is created.</summary>
        public static IpcArray Create(string? name, IpcDataType type, IEnumerable values, bool noLock = false)
        {
            if (type is null) throw new ArgumentNullException(nameof(type));
            var typed = ToTyped(type, values ?? throw new ArgumentNullException(nameof(values)));
            return MakeData(name, IpcObjectKind.Array, type, typed.Length, noLock, n => new IpcArray(n),
                (t, p, length) => CopyIn(t, typed, 0, (byte*)p, length));
        }

        /// <summary>
        /// Number of elements (the base's Length, declared again here so that it, not the indexer, is this type's first
        /// .NET property: PowerShell's formatter asks the .NET adapter for the first property of a fresh object, gets the
        /// indexer "Item" (not a property to it) and then prints the object as its ToString instead of its view).
        /// </summary>
        public new int Length => base.Length;

        /// <summary>The element at INDEX.</summary>
        public object this[int index]
        {
            get => Type.Read(LookData + (long)Index(index) * Type.Size);
            set => Type.Write(Data + (long)Index(index) * Type.Size, value);
        }

        /// <summary>The element at INDEX (a method: PowerShell hides exceptions thrown by indexers).</summary>
        public object Get(int index) => this[index];

        /// <summary>Sets the element at INDEX; an error if VALUE does not fit the type.</summary>
        public void Set(int index, object value) => this[index] = value;

        /// <summary>The element at INDEX as T, unboxed (for C#): T must be the element's .NET type (byte for 'c').</summary>
        public T Read<T>(int index) where T : unmanaged
        {
            CheckGeneric<T>();
            return *(T*)(LookData + (long)Index(index) * sizeof(T));
        }

        /// <summary>Writes the element at INDEX, unboxed (for C#): T must be the element's .NET type (byte for 'c').</summary>
        public void Write<T>(int index, T value) where T : unmanaged
        {
            CheckGeneric<T>();
            *(T*)(Data + (long)Index(index) * sizeof(T)) = value;
        }

        /// <summary>COUNT elements from START (CPython's a[start:start+count]) as a typed .NET array, copied in bulk.</summary>
        public Array GetRange(int start, int count)
        {
            CheckRange(start, count);
            var result = Array.CreateInstance(Type.ClrType, count);
            Locked(() => CopyOut(Type, Data + (long)start * Type.Size, result, 0, count));
            return result;
        }

        /// <summary>Every element, as a typed .NET array (int[], double[], char[] for 'c', …).</summary>
        public Array ToArray() => GetRange(0, Length);

        /// <summary>
        /// Writes VALUES (any list; a typed array of the element type is copied in bulk; a string for 'c') starting at
        /// START. Every value is checked first: on an error nothing is written.
        /// </summary>
        public void SetRange(int start, object values)
        {
            var typed = ToTyped(Type, values as IEnumerable ?? throw new ArgumentException("SetRange needs a list of values."));
            CheckRange(start, typed.Length);
            Locked(() => CopyIn(Type, typed, 0, Data + (long)start * Type.Size, typed.Length));
        }

        /// <summary>Copies COUNT elements from START into DESTINATION (an array of the element type) at DESTINATIONINDEX, in bulk.</summary>
        public void CopyTo(int start, Array destination, int destinationIndex, int count)
        {
            if (destination is null) throw new ArgumentNullException(nameof(destination));
            CheckRange(start, count);
            if (destination.GetType().GetElementType() != Type.ClrType || destination.Rank != 1)
                throw new ArgumentException($"The destination must be a {Type.ClrType.Name}[] for the type '{Type.Code}' of '{Name}'.");
            if (destinationIndex < 0 || count > destination.Length - destinationIndex)
                throw new ArgumentOutOfRangeException(null, "The destination is too small.");
            Locked(() => CopyOut(Type, Data + (long)start * Type.Size, destination, destinationIndex, count));
        }

        public override string ToString() => IsClosed ? $"Array('{Name}', closed)" : $"Array('{Name}', {Type.Code}[{Length}])";

        // ---- an array to PowerShell: foreach, the pipeline, Measure-Object, $a.Count, $a[-1], GetRange -------------------
        // IEnumerable, not IList: PowerShell's serializer writes an IList as a bare list and drops its properties, and a
        // handle must cross a process as its descriptor (Name, Kind), which it writes for any other enumerable.

        /// <summary>The elements in order, each read when reached with one aligned load (as the indexer; no lock).</summary>
        public IEnumerator GetEnumerator()
        {
            int n = Length;
            for (int i = 0; i < n; i++) yield return this[i];
        }

        /// <summary>The index of the first element equal to VALUE (converted to the element type), or -1.</summary>
        public int IndexOf(object? value)
        {
            object target;
            try { target = Type.Convert(Core.IpcHost.Current.Unwrap(value)); }
            catch (Exception e) when (e is ArgumentException || e is OverflowException || e is InvalidCastException || e is FormatException) { return -1; }
            int n = Length;
            for (int i = 0; i < n; i++) if (Equals(this[i], target)) return i;
            return -1;
        }

        /// <summary>True when some element equals VALUE.</summary>
        public bool Contains(object? value) => IndexOf(value) >= 0;

        /// <summary>The number of elements (as Length): what PowerShell users write for a list.</summary>
        public int Count => Length;

        private void CheckRange(int start, int count)
        {
            int length = Length;
            if (count < 0) throw new ArgumentOutOfRangeException(null, "The count cannot be negative.");
            if (start < 0 || start > length || count > length - start)
                throw new ArgumentOutOfRangeException(null,
                    $"{count} elements from index {start} do not fit in the Array '{Name}' of length {length}.");
        }

        private void CheckGeneric<T>() where T : unmanaged
        {
            var expected = Type.Code == 'c' ? typeof(byte) : Type.ClrType;
            if (typeof(T) != expected)
                throw new ArgumentException($"The Array '{Name}' holds {expected.Name} (type '{Type.Code}'), not {typeof(T).Name}.");
        }

        /// <summary>VALUES as an array of TYPE's .NET type, each converted with checks (a typed array of that type as is).</summary>
        private static Array ToTyped(IpcDataType type, IEnumerable values)
        {
            if (values.GetType().GetElementType() == type.ClrType && values is Array same && same.Rank == 1) return same;
            if (type.Code == 'c' && values is byte[] bytes) return bytes;
            var list = new System.Collections.Generic.List<object?>();
            foreach (var v in values) list.Add(v);
            var typed = Array.CreateInstance(type.ClrType, list.Count);
            for (int i = 0; i < list.Count; i++)
            {
                try { typed.SetValue(type.Convert(list[i]), i); }
                catch (Exception e) when (e is ArgumentException || e is OverflowException)
                {
                    throw e is OverflowException ? new OverflowException($"Item {i}: {e.Message}") : (Exception)new ArgumentException($"Item {i}: {e.Message}");
                }
            }
            return typed;
        }

        /// <summary>Copies COUNT elements of SOURCE (from INDEX) to P: in bulk, or byte per char for 'c'.</summary>
        private static void CopyIn(IpcDataType type, Array source, int index, byte* p, int count)
        {
            if (count == 0) return;
            if (source is char[] chars)
            {
                for (int i = 0; i < count; i++) p[i] = (byte)chars[index + i];   // checked by ToTyped (0–255)
                return;
            }
            int size = source is byte[] && type.Code == 'c' ? 1 : type.Size;
            var h = GCHandle.Alloc(source, GCHandleType.Pinned);
            try
            {
                byte* from = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(source, index);
                long bytes = (long)count * size;
                Buffer.MemoryCopy(from, p, bytes, bytes);
            }
            finally { h.Free(); }
        }

        private static void CopyOut(IpcDataType type, byte* p, Array destination, int index, int count)
        {
            if (count == 0) return;
            if (destination is char[] chars)
            {
                for (int i = 0; i < count; i++) chars[index + i] = (char)p[i];
                return;
            }
            var h = GCHandle.Alloc(destination, GCHandleType.Pinned);
            try
            {
                byte* to = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(destination, index);
                long bytes = (long)count * type.Size;
                Buffer.MemoryCopy(p, to, bytes, bytes);
            }
            finally { h.Free(); }
        }
    }
}
