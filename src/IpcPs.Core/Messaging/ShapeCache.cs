using System;
using System.Text;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// What the decoder remembers of the shapes of objects it has read (docs/design.md, "Fast objects"): the strings of
    /// short property names and hashtable keys, and the type-name lists of property bags, each found again by its exact
    /// UTF-8 bytes. A stream of objects of one shape then decodes its names without making a string for each, and the
    /// bags of one type-name list share one array (the host shares one list for them in turn).
    /// <para>
    /// Never trusted, always bounded: an entry is used only when the message's bytes are the entry's bytes, compared in
    /// full (a hash only picks the slot); the tables have a fixed number of slots, a newcomer replaces what was in its
    /// slot, and only short byte runs are kept (<see cref="MaxNameBytes"/>, <see cref="MaxTypeListBytes"/>): whatever a
    /// sender writes, the caches hold at most a few hundred kilobytes. Entries are immutable and replaced whole, so
    /// threads share the tables without a lock. The decoder still charges every name and list as if it made them
    /// (<see cref="DecodeCost"/>): a hit allocates less than its charge, never more.
    /// </para>
    /// </summary>
    internal static unsafe class ShapeCache
    {
        /// <summary>Names of at most this many UTF-8 bytes are remembered (longer ones are decoded each time).</summary>
        public const int MaxNameBytes = 64;

        /// <summary>Type-name lists of at most this many bytes on the wire are remembered.</summary>
        public const int MaxTypeListBytes = 512;

        private const int NameSlots = 1024, TypeListSlots = 64;   // powers of two

        private sealed class Entry
        {
            public readonly byte[] Bytes;
            public readonly object Value;   // a string (a name) or a string[] (a type-name list)
            public Entry(byte[] bytes, object value) { Bytes = bytes; Value = value; }
        }

        private static readonly Entry?[] Names = new Entry?[NameSlots];
        private static readonly Entry?[] TypeLists = new Entry?[TypeListSlots];

        /// <summary>The string of BUFFER[OFFSET..OFFSET+COUNT) as UTF-8 (bounds checked by the caller): a remembered one when the bytes match.</summary>
        public static string Name(byte[] buffer, int offset, int count)
        {
            if (count == 0) return string.Empty;
            if (count > MaxNameBytes) return Encoding.UTF8.GetString(buffer, offset, count);
            fixed (byte* p = &buffer[offset])
            {
                int slot = (int)(Hash(p, count) & (NameSlots - 1));
                var e = Names[slot];
                if (e != null && Same(e.Bytes, p, count)) return (string)e.Value;
                string s = Encoding.UTF8.GetString(buffer, offset, count);
                Names[slot] = new Entry(Copy(p, count), s);
                return s;
            }
        }

        /// <summary>
        /// The type names of a bag whose NAMES names (already checked: each a length and that many bytes) are
        /// BUFFER[OFFSET..OFFSET+COUNT): a remembered array when the bytes match. The array is shared: never written.
        /// </summary>
        public static string[] TypeList(byte[] buffer, int offset, int count, int names)
        {
            if (count > MaxTypeListBytes) return ReadList(buffer, offset, names);
            fixed (byte* p = &buffer[offset])
            {
                int slot = (int)(Hash(p, count) & (TypeListSlots - 1));
                var e = TypeLists[slot];
                if (e != null && Same(e.Bytes, p, count) && ((string[])e.Value).Length == names) return (string[])e.Value;
                var list = ReadList(buffer, offset, names);
                TypeLists[slot] = new Entry(Copy(p, count), list);
                return list;
            }
        }

        private static string[] ReadList(byte[] buffer, int offset, int names)
        {
            var r = new MessageReader(buffer, offset, buffer.Length - offset);
            var list = new string[names];
            for (int i = 0; i < names; i++) list[i] = r.ReadString();
            return list;
        }

        private static byte[] Copy(byte* p, int count)
        {
            var bytes = new byte[count];
            fixed (byte* d = bytes) Buffer.MemoryCopy(p, d, count, count);
            return bytes;
        }

        private static bool Same(byte[] known, byte* p, int count)
        {
            if (known.Length != count) return false;
            fixed (byte* k = known)
            {
                int i = 0;
                for (; i + 8 <= count; i += 8) if (*(long*)(k + i) != *(long*)(p + i)) return false;
                for (; i < count; i++) if (k[i] != p[i]) return false;
            }
            return true;
        }

        /// <summary>Picks a slot (a word at a time); what is in the slot is still compared byte for byte.</summary>
        private static uint Hash(byte* p, int count)
        {
            ulong h = 0xcbf29ce484222325UL ^ (ulong)count;
            int i = 0;
            for (; i + 8 <= count; i += 8) h = (h ^ *(ulong*)(p + i)) * 0x100000001b3UL;
            for (; i < count; i++) h = (h ^ p[i]) * 0x100000001b3UL;
            return (uint)(h ^ (h >> 29) ^ (h >> 41));
        }
    }
}
