using System;
using System.Text;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The first <see cref="Capacity"/> characters of a text that arrives in pieces, from any thread: a child's error
    /// output, kept for the reason a job, a manager's start or a pool worker failed. The rest is dropped, so a child
    /// that writes without end costs a fixed amount. Each piece goes in whole or up to the bound, never interleaved with
    /// another thread's; once a character has been dropped nothing more is kept, so the text is always a start of what
    /// came. It never ends in the first half of a surrogate pair.
    /// </summary>
    internal sealed class TextHead
    {
        private readonly StringBuilder _text = new StringBuilder();
        private bool _full;   // a character was dropped (under the lock of _text)

        public TextHead(int capacity)
        {
            if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be positive.");
            Capacity = capacity;
        }

        /// <summary>The most characters kept.</summary>
        public int Capacity { get; }

        /// <summary>
        /// Adds LENGTH characters of BUFFER from START, or as many as there is room for; with LINEEND a line end
        /// (<see cref="Environment.NewLine"/>) after them, in the same step (no other thread's piece comes between), if
        /// there is room for all of it.
        /// </summary>
        public void Append(char[] buffer, int start, int length, bool lineEnd = false)
        {
            lock (_text)
            {
                Add(buffer, start, length);
                if (lineEnd) Add(NewLine, 0, NewLine.Length);
            }
        }

        /// <summary>Adds TEXT, or as much of it as there is room for; with LINEEND a line end after it, as above.</summary>
        public void Append(string text, bool lineEnd = false) => Append(text.ToCharArray(), 0, text.Length, lineEnd);

        private static readonly char[] NewLine = Environment.NewLine.ToCharArray();

        private void Add(char[] buffer, int start, int length)
        {
            if (_full || length <= 0) return;
            int n = Math.Min(length, Capacity - _text.Length);
            if (n < length)
            {
                _full = true;
                if (n > 0 && char.IsHighSurrogate(buffer[start + n - 1])) n--;   // its other half is dropped
            }
            _text.Append(buffer, start, n);
        }

        /// <summary>What was kept.</summary>
        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }
    }
}
