using System;
using System.Runtime.CompilerServices;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// What every walk over an object graph shares (the message codec, and Hosting's ObjectGraphWalker): the nesting
    /// limit, the stack check, and <see cref="IdentityMap"/> (objects met before, by reference).
    /// </summary>
    public static class ObjectGraph
    {
        /// <summary>
        /// How deep containers (arrays, lists, hashtables, custom objects) may nest. The encoder writes a container
        /// met deeper as its text (as remoting cuts at its depth); the decoder refuses one (a crafted message).
        /// </summary>
        public const int MaxNesting = 64;

        /// <summary>
        /// The net under every recursion over a graph: throws <see cref="InsufficientExecutionStackException"/>
        /// (catchable, unlike a stack overflow) when the thread's stack is nearly used up.
        /// </summary>
        public static void CheckStack() => RuntimeHelpers.EnsureSufficientExecutionStack();

        /// <summary>
        /// <see cref="CheckStack"/> every eighth level of nesting (7, 15, …): eight levels of the codec's recursion
        /// take a few kilobytes, far less than the margin EnsureSufficientExecutionStack keeps (64 KiB and more), and
        /// a check per container was measurable on small messages, which now make none.
        /// </summary>
        public static void CheckStack(int nesting)
        {
            if ((nesting & 7) == 7) RuntimeHelpers.EnsureSufficientExecutionStack();
        }
    }

    /// <summary>
    /// Numbers objects by reference, in the order they are added (0, 1, 2, …): a visited set that also answers "which
    /// one". The first few live in a small array searched linearly, so a message with a container or two costs no
    /// hashing and no allocation; past that, an open-addressing table keyed by reference identity takes over (one
    /// hash per object for "seen, or number it now").
    /// </summary>
    public sealed class IdentityMap
    {
        private const int InlineSlots = 8;
        private readonly object?[] _inline = new object?[InlineSlots];
        private object?[]? _keys;   // open addressing, linear probing; the length is a power of two
        private int[]? _numbers;
        private int _count;

        /// <summary>How many objects have been numbered.</summary>
        public int Count => _count;

        /// <summary>The number OBJ was given, or -1 when it was never added.</summary>
        public int Find(object obj)
        {
            if (_count <= InlineSlots)
            {
                for (int i = 0; i < _count; i++)
                    if (ReferenceEquals(_inline[i], obj)) return i;
                return -1;
            }
            var keys = _keys!;
            int mask = keys.Length - 1;
            for (int slot = RuntimeHelpers.GetHashCode(obj) & mask; ; slot = (slot + 1) & mask)
            {
                var key = keys[slot];
                if (key is null) return -1;
                if (ReferenceEquals(key, obj)) return _numbers![slot];
            }
        }

        /// <summary>The number OBJ was given before; or, when it is new, gives it the next number and returns -1.</summary>
        public int FindOrAdd(object obj)
        {
            int n = _count;
            if (n <= InlineSlots)
            {
                for (int i = 0; i < n; i++)
                    if (ReferenceEquals(_inline[i], obj)) return i;
                if (n < InlineSlots)
                {
                    _inline[n] = obj;
                    _count = n + 1;
                    return -1;
                }
                if (_keys is null) { _keys = new object?[64]; _numbers = new int[64]; }
                for (int i = 0; i < InlineSlots; i++) Insert(_inline[i]!, i);
            }
            else if ((n + 1) * 2 > _keys!.Length) Grow();
            var keys = _keys!;
            int mask = keys.Length - 1;
            int slot = RuntimeHelpers.GetHashCode(obj) & mask;
            for (; keys[slot] is object key; slot = (slot + 1) & mask)
                if (ReferenceEquals(key, obj)) return _numbers![slot];
            keys[slot] = obj;
            _numbers![slot] = n;
            _count = n + 1;
            return -1;
        }

        /// <summary>Gives OBJ the next number (the caller has checked that it is new) and returns it.</summary>
        public int Add(object obj)
        {
            int n = _count;
            if (n < InlineSlots) _inline[n] = obj;
            else
            {
                if (n == InlineSlots)
                {
                    if (_keys is null) { _keys = new object?[64]; _numbers = new int[64]; }
                    for (int i = 0; i < InlineSlots; i++) Insert(_inline[i]!, i);
                }
                if ((n + 1) * 2 > _keys!.Length) Grow();
                Insert(obj, n);
            }
            _count = n + 1;
            return n;
        }

        private void Insert(object obj, int number)
        {
            var keys = _keys!;
            int mask = keys.Length - 1;
            int slot = RuntimeHelpers.GetHashCode(obj) & mask;
            while (keys[slot] != null) slot = (slot + 1) & mask;
            keys[slot] = obj;
            _numbers![slot] = number;
        }

        private void Grow()
        {
            var oldKeys = _keys!;
            var oldNumbers = _numbers!;
            _keys = new object?[oldKeys.Length * 2];
            _numbers = new int[oldKeys.Length * 2];
            for (int i = 0; i < oldKeys.Length; i++)
                if (oldKeys[i] is object key) Insert(key, oldNumbers[i]);
        }

        /// <summary>Forgets every object (holding none of them any longer); a large table is dropped, not kept.</summary>
        public void Clear()
        {
            if (_count == 0) return;
            for (int i = 0; i < _count && i < InlineSlots; i++) _inline[i] = null;
            if (_count > InlineSlots)
            {
                if (_keys!.Length > 4096) { _keys = null; _numbers = null; }
                else Array.Clear(_keys, 0, _keys.Length);
            }
            _count = 0;
        }
    }
}
