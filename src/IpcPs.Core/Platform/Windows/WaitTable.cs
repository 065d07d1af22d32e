using System;
using System.Threading;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The sleepers table of a waitable segment on Windows: the last page of its file mapping, after the bytes the
    /// kinds use (docs/design.md, "Waits on Windows"). Layout (offsets in the page):
    /// <code>
    ///  0  u64  magic "IPCPSWT1" (written by the creator; a segment opened as waitable without it is refused)
    ///  8  u64  incarnation: random, non-zero, written by the creator; names the kernel objects of this segment's waits
    /// 16..63   reserved
    /// 64  252 slots of 16 bytes: { i32 key = word offset + 1 (0 = free), i32 reserved, i64 state }
    ///     state = generation (high 32 bits) | sleepers (low 32 bits)
    /// </code>
    /// A slot is claimed for a word by the first sleeper on it (CAS of the key from 0) and never freed: a segment has
    /// a fixed handful of waitable words (at most 8 in IpcPs's kinds). The table belongs to the user like the segment;
    /// anything read from it is bounded (a key is only compared, a count is clamped), so a damaged table can cost
    /// wake-ups, never memory safety.
    /// </summary>
    internal static unsafe class WaitTable
    {
        public const ulong Magic = 0x31_54_57_53_50_43_50_49;   // "IPCPSWT1" little-endian
        public const int MagicOffset = 0, IncarnationOffset = 8, SlotsOffset = 64, SlotSize = 16, KeyOffset = 0, StateOffset = 8;

        /// <summary>The table's size: one page of the mapping.</summary>
        public const int Size = 4096;

        public const int Slots = (Size - SlotsOffset) / SlotSize;

        /// <summary>Fills a new table (the page is zeroed by the kernel) and returns its incarnation.</summary>
        public static ulong Initialise(byte* table)
        {
            var bytes = new byte[8];
            ulong incarnation = 0;
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create())
                while (incarnation == 0)
                {
                    rng.GetBytes(bytes);
                    incarnation = BitConverter.ToUInt64(bytes, 0);
                }
            *(ulong*)(table + IncarnationOffset) = incarnation;
            Volatile.Write(ref *(ulong*)(table + MagicOffset), Magic);
            return incarnation;
        }

        /// <summary>The incarnation of an existing table, or 0 when it is not one (no magic, or no incarnation).</summary>
        public static ulong Incarnation(byte* table) =>
            Volatile.Read(ref *(ulong*)(table + MagicOffset)) == Magic ? Volatile.Read(ref *(ulong*)(table + IncarnationOffset)) : 0;

        /// <summary>
        /// The state word of the slot for the word at OFFSET; with CREATE a free slot is claimed for it, without it null
        /// when no sleeper ever registered for that word (so nobody can be asleep on it).
        /// </summary>
        public static long* State(byte* table, int offset, bool create)
        {
            int key = offset + 1;
            int start = (int)((uint)(offset >> 2) * 2654435761u % Slots);
            for (int i = 0; i < Slots; i++)
            {
                byte* slot = table + SlotsOffset + (long)((start + i) % Slots) * SlotSize;
                int* k = (int*)(slot + KeyOffset);
                int seen = Volatile.Read(ref *k);
                if (seen == 0)
                {
                    if (!create) return null;
                    seen = Interlocked.CompareExchange(ref *k, key, 0);
                    if (seen == 0) return (long*)(slot + StateOffset);
                }
                if (seen == key) return (long*)(slot + StateOffset);
            }
            if (!create) return null;
            throw new InvalidOperationException($"The sleepers table of this segment is full ({Slots} waitable words).");
        }

        public static uint Generation(long state) => (uint)((ulong)state >> 32);

        /// <summary>Sleepers counted in STATE, clamped to what a count can be (a damaged table is the user's own).</summary>
        public static int Sleepers(long state)
        {
            uint n = (uint)state;
            return n > int.MaxValue ? int.MaxValue : (int)n;
        }

        public static long Of(uint generation, int sleepers) => (long)((ulong)generation << 32 | (uint)sleepers);
    }
}
