using System.Threading;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// Makes a change of several shared words all-or-nothing for a process that may be killed at any instruction.
    /// The lock holder collects its writes here (reads see them), then <see cref="Commit"/>: copy the writes to the
    /// shared log, publish the log's count (the commit point), apply them, zero the count. Whoever next takes the
    /// lock from a dead holder calls <see cref="Recover"/>, which re-applies a published log (writes are absolute
    /// values, so applying twice is harmless). Before the count is published nothing the others can reach changed.
    /// Log: i32 count, then count × (i32 offset, i32 value); offsets are from the segment's start.
    /// </summary>
    internal sealed unsafe class RedoLog
    {
        public const int Capacity = 96;   // a log takes 4 + 8 × Capacity bytes

        private readonly string _name;
        private readonly int[] _offsets = new int[Capacity];
        private readonly int[] _values = new int[Capacity];
        private int _count;

        public RedoLog(string name) => _name = name;

        /// <summary>
        /// The segment's size: every offset read or written through the log must lie below it. Offsets come from links
        /// read in shared memory, which any writer can damage: one out of range is a damaged object, never an access.
        /// </summary>
        public long Limit { get; set; }

        private void CheckOffset(int offset)
        {
            if (offset < 0 || offset > Limit - 4)
                throw new IpcObjectCorruptException(_name, $"Queue '{_name}' is damaged: a link leads to offset {offset}, outside its {Limit} bytes");
        }

        /// <summary>Starts a change (forgets one that was not committed).</summary>
        public void Begin() => _count = 0;

        public int Read(byte* segment, int offset)
        {
            CheckOffset(offset);
            for (int i = _count - 1; i >= 0; i--)
                if (_offsets[i] == offset) return _values[i];
            return Volatile.Read(ref *(int*)(segment + offset));
        }

        public void Write(int offset, int value)
        {
            CheckOffset(offset);
            for (int i = 0; i < _count; i++)
                if (_offsets[i] == offset) { _values[i] = value; return; }
            if (_count == Capacity) throw new System.InvalidOperationException("Redo log overflow.");   // a bug, never input
            _offsets[_count] = offset;
            _values[_count++] = value;
        }

        /// <summary>
        /// As <see cref="Write"/> for an offset the caller knows this change has not written yet (no search for an
        /// earlier write of it). False when the log is full: commit what is logged and begin again.
        /// </summary>
        public bool TryAppend(int offset, int value)
        {
            CheckOffset(offset);
            if (_count == Capacity) return false;
            _offsets[_count] = offset;
            _values[_count++] = value;
            return true;
        }

        /// <summary>How many writes are logged.</summary>
        public int Count => _count;

        public void Commit(byte* segment, int logOffset)
        {
            // Each shared write is followed by a crash point (compiled away unless a test enabled them).
            int* log = (int*)(segment + logOffset);
            for (int i = 0; i < _count; i++)
            {
                log[1 + 2 * i] = _offsets[i];
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.LogOffset);
                log[2 + 2 * i] = _values[i];
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.LogValue);
            }
            Volatile.Write(ref log[0], _count);   // the commit point
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.LogPublish);
            for (int i = 0; i < _count; i++)
            {
                *(int*)(segment + _offsets[i]) = _values[i];
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.LogApply);
            }
            Volatile.Write(ref log[0], 0);
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.LogClear);
            _count = 0;
        }

        /// <summary>After taking the lock from a dead holder: finishes its committed change, if any. SIZE bounds offsets.</summary>
        public static void Recover(byte* segment, int logOffset, long size)
        {
            int* log = (int*)(segment + logOffset);
            int n = Volatile.Read(ref log[0]);
            if (n <= 0 || n > Capacity) { log[0] = 0; return; }
            for (int i = 0; i < n; i++)
            {
                int offset = log[1 + 2 * i];
                if (offset >= 0 && offset <= size - 4) *(int*)(segment + offset) = log[2 + 2 * i];
            }
            Volatile.Write(ref log[0], 0);
        }
    }
}
