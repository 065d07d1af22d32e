using System;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The waitable segments mapped in this process, by address: <see cref="IWordWait"/> gets only a word's address,
    /// and this finds the segment (its sleepers table and incarnation) and the word's offset in it. A sorted array,
    /// replaced whole under a lock when a segment is mapped or released and read without one (a binary search: no
    /// system call, no allocation), so the cost on a wait or wake is a few comparisons.
    /// </summary>
    internal static class SegmentRanges
    {
        private static readonly object Gate = new object();
        private static WindowsSegment[] _sorted = Array.Empty<WindowsSegment>();

        public static void Add(WindowsSegment segment)
        {
            lock (Gate)
            {
                var next = new WindowsSegment[_sorted.Length + 1];
                int i = 0, j = 0;
                long start = (long)segment.Address;
                while (i < _sorted.Length && (long)_sorted[i].Address < start) next[j++] = _sorted[i++];
                next[j++] = segment;
                while (i < _sorted.Length) next[j++] = _sorted[i++];
                _sorted = next;
            }
        }

        public static void Remove(WindowsSegment segment)
        {
            lock (Gate)
            {
                int at = Array.IndexOf(_sorted, segment);
                if (at < 0) return;
                var next = new WindowsSegment[_sorted.Length - 1];
                Array.Copy(_sorted, 0, next, 0, at);
                Array.Copy(_sorted, at + 1, next, at, _sorted.Length - at - 1);
                _sorted = next;
            }
        }

        /// <summary>The waitable segment whose bytes hold ADDRESS, or null.</summary>
        public static unsafe WindowsSegment? Find(void* address)
        {
            var sorted = System.Threading.Volatile.Read(ref _sorted);
            long a = (long)address;
            int lo = 0, hi = sorted.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                long start = (long)sorted[mid].Address;
                if (a < start) hi = mid - 1;
                else if (a >= start + sorted[mid].Size) lo = mid + 1;
                else return sorted[mid];
            }
            return null;
        }
    }
}
