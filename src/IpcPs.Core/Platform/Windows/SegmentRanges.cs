using System;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The waitable segments mapped in this process, by address: <see cref="IWordWait"/> gets only a word's address,
    /// and this finds the segment (its sleepers table and incarnation) and the word's offset in it. A sorted array of
    /// address records, replaced whole under a lock when a segment is mapped or released and read without one (a binary
    /// search: no system call, no allocation), so the cost on a wait or wake is a few comparisons and a weak lookup.
    /// <para>A record does not root its segment (a short weak reference): a closed sync object's mapping stays until its
    /// handle is garbage-collected (<c>IpcObject.UnmapOnClose</c>), and a strong reference here kept every such segment,
    /// its view and its handle for the process's life. Why this stays memory-safe:</para>
    /// <list type="bullet">
    /// <item>Records never overlap: a record is removed in <see cref="WindowsSegment"/>'s ReleaseHandle before its view
    /// is unmapped, so an address range is in the array only while it is mapped, and a later mapping at the same
    /// address is added only after the earlier record has gone. A record is removed by its start address for that
    /// reason (in the finalizer the weak reference is already cleared).</item>
    /// <item>A short weak reference is cleared by the GC as soon as the segment is found unreachable, before its finalizer
    /// can run (the finalizer unmaps). So a target got from it is a segment that was reachable then and, held by the
    /// caller's local from there on, is not finalized while held; the caller also takes a SafeHandle reference
    /// (<see cref="WindowsWordWait"/>: DangerousAddRef for the whole wait or wake), so an explicit Dispose cannot unmap
    /// it mid-wait either, and a segment disposed already is refused (ObjectDisposedException), its memory untouched.
    /// A blocked wait thus keeps its segment mapped until it returns.</item>
    /// <item>A cleared reference (the segment is awaiting its finalizer, no handle refers to it): no segment is
    /// returned and its memory is not touched. The reader's array snapshot may hold a record removed meanwhile: the
    /// WeakReference object stays valid while referenced (it is never freed by hand, unlike a GCHandle), and it only
    /// ever names its own segment.</item>
    /// </list>
    /// </summary>
    internal static class SegmentRanges
    {
        private sealed class Range
        {
            public Range(WindowsSegment segment)
            {
                Start = (long)segment.Address;
                Size = segment.Size;
                Segment = new WeakReference<WindowsSegment>(segment, trackResurrection: false);
            }

            public long Start { get; }
            public long Size { get; }
            public WeakReference<WindowsSegment> Segment { get; }
        }

        private static readonly object Gate = new object();
        private static Range[] _sorted = Array.Empty<Range>();

        /// <summary>How many segments are registered (mapped and not yet released): for tests.</summary>
        internal static int Count => System.Threading.Volatile.Read(ref _sorted).Length;

        public static void Add(WindowsSegment segment)
        {
            var range = new Range(segment);
            lock (Gate)
            {
                var next = new Range[_sorted.Length + 1];
                int i = 0, j = 0;
                while (i < _sorted.Length && _sorted[i].Start < range.Start) next[j++] = _sorted[i++];
                next[j++] = range;
                while (i < _sorted.Length) next[j++] = _sorted[i++];
                _sorted = next;
            }
        }

        /// <summary>Takes SEGMENT's record out: called before its view is unmapped, so its start names it alone.</summary>
        public static void Remove(WindowsSegment segment)
        {
            long start = (long)segment.Address;
            lock (Gate)
            {
                int at = Array.FindIndex(_sorted, r => r.Start == start);
                if (at < 0) return;
                var next = new Range[_sorted.Length - 1];
                Array.Copy(_sorted, 0, next, 0, at);
                Array.Copy(_sorted, at + 1, next, at, _sorted.Length - at - 1);
                _sorted = next;
            }
        }

        /// <summary>
        /// The waitable segment whose bytes hold ADDRESS, or null (none; or it is unreachable, awaiting its finalizer).
        /// Strong from here: hold it (and DangerousAddRef it) for as long as its memory is used.
        /// </summary>
        public static unsafe WindowsSegment? Find(void* address)
        {
            var sorted = System.Threading.Volatile.Read(ref _sorted);
            long a = (long)address;
            int lo = 0, hi = sorted.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                var range = sorted[mid];
                if (a < range.Start) hi = mid - 1;
                else if (a >= range.Start + range.Size) lo = mid + 1;
                else return range.Segment.TryGetTarget(out var segment) ? segment : null;
            }
            return null;
        }
    }
}
