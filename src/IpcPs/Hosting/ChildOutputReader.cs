using System;
using System.IO;
using System.Threading.Tasks;

namespace IpcPs.Hosting
{
    /// <summary>What <see cref="ChildOutputReader.Read"/> found.</summary>
    internal enum ChildOutputKind
    {
        /// <summary>The end of the stream.</summary>
        End,
        /// <summary>A whole line (its end not included): at most <see cref="ChildOutputReader.MaxTextLength"/> characters, or a frame's.</summary>
        Line,
        /// <summary>Text without a line end yet, cut at <see cref="ChildOutputReader.MaxTextLength"/> or before a frame.</summary>
        Piece,
        /// <summary>A frame longer than <see cref="ChildProtocol.MaxFrameLength"/>: skipped to the next line end, never held whole.</summary>
        TooLong,
    }

    /// <summary>
    /// Reads a child's stdout (or stderr) in bounded pieces, never a line of unbounded length (StreamReader.ReadLine
    /// held 150 MB written without a newline as one line: the parent peaked at 1.24 GB). Every byte is the child's:
    /// it holds at most <see cref="MaxTextLength"/> characters of text, or <see cref="ChildProtocol.MaxFrameLength"/>
    /// of a frame, at once.
    /// - A line of text (no frame in it) longer than <see cref="MaxTextLength"/> comes in pieces of exactly that length.
    /// - With FRAMES, text that ends in a frame (a marker and a frame's characters up to the line end: what
    ///   <see cref="ChildProtocol.FrameStart"/> finds) comes as a piece of the text, then the frame's line; a frame
    ///   buffered past <see cref="ChildProtocol.MaxFrameLength"/> is dropped up to the next line end (TooLong).
    /// Line ends are "\n", "\r\n" and a lone "\r", as StreamReader.ReadLine has them. The result is in <see cref="Buffer"/>
    /// from <see cref="Start"/> for <see cref="Length"/> characters, valid until the next Read.
    /// </summary>
    internal sealed class ChildOutputReader
    {
        /// <summary>
        /// The longest text delivered at once, in characters (64 Ki). Text reaches here only when a child writes to the
        /// console directly ([Console]::Write, a native program): records travel as frames whatever their size. A
        /// line no one reads whole is cut rather than held, and the limit keeps each reader's buffer at a few hundred KB.
        /// </summary>
        public const int MaxTextLength = 64 * 1024;

        private readonly TextReader _reader;
        private bool _frames;
        private readonly int _maxText, _maxFrame;
        private const int InitialSize = 16 * 1024;
        /// <summary>The largest buffer kept while frames need it (4 Mi characters, 8 MB): a larger one is given back at once.</summary>
        internal const int KeepUpTo = 4 << 20;
        /// <summary>Reads in a row of at most a text's length after which a buffer of up to <see cref="KeepUpTo"/> is given back.</summary>
        internal const int SmallReadsBeforeGiveBack = 64;
        private char[] _buffer = new char[InitialSize];
        private int _smallReads;            // results in a row of at most _maxText characters, while the buffer is grown
        private int _pos, _end, _scanned;   // the current line starts at _pos; no line end in [_pos, _scanned); data ends at _end
        private int _frameChecked;          // with a frame at _pos: its characters up to here are a frame's
        private bool _eof;
        private bool _dropLf;               // a skipped frame ended in '\r': a '\n' right after it is its line end too

        public ChildOutputReader(TextReader reader, bool frames) : this(reader, frames, MaxTextLength, ChildProtocol.MaxFrameLength) { }

        /// <summary>Smaller limits are for tests only.</summary>
        internal ChildOutputReader(TextReader reader, bool frames, int maxText, int maxFrame)
        {
            _reader = reader;
            _frames = frames;
            _maxText = maxText;
            _maxFrame = Math.Max(maxFrame, maxText);
        }

        /// <summary>
        /// From the next Read on, a frame is text like any other (cut at <see cref="MaxTextLength"/>): for a child whose
        /// frames are over (a manager's after a spare's ready frame), so that text shaped as a frame cannot make this
        /// reader hold up to <see cref="ChildProtocol.MaxFrameLength"/> characters.
        /// </summary>
        public void EndFrames() => _frames = false;

        public char[] Buffer => _buffer;
        public int Start { get; private set; }
        public int Length { get; private set; }

        /// <summary>Characters dropped by the last TooLong.</summary>
        public long Skipped { get; private set; }

        public string Text => new string(_buffer, Start, Length);

        /// <summary>The next line or piece (see the class); the text of an End is empty.</summary>
        public ChildOutputKind Read()
        {
            GiveBack();   // before Length is cleared: it counts the last result
            Length = 0;
            while (true)
            {
                if (_dropLf && _pos < _end)
                {
                    if (_buffer[_pos] == '\n') { _pos++; Reset(); }
                    _dropLf = false;
                }
                int lineEnd = FindLineEnd();
                if (lineEnd >= 0)
                {
                    int length = lineEnd - _pos;
                    if (length <= _maxText || (_frames && IsFrameAt(_pos) && length <= _maxFrame))
                    {
                        // A '\r' at the end of what is here may be the start of "\r\n": decide once more has come.
                        if (_buffer[lineEnd] == '\r' && lineEnd + 1 == _end && !_eof) { Fill(); continue; }
                        Start = _pos;
                        Length = length;
                        _pos = lineEnd + (_buffer[lineEnd] == '\r' && lineEnd + 1 < _end && _buffer[lineEnd + 1] == '\n' ? 2 : 1);
                        Reset();
                        return ChildOutputKind.Line;
                    }
                    return Cut(lineEnd);
                }
                if (_end - _pos > _maxText)
                {
                    var kind = Cut(_end);
                    if (kind != ChildOutputKind.End) return kind;   // End: a frame that may still fit, read on
                }
                if (!Fill())
                {
                    if (_pos == _end) return ChildOutputKind.End;
                    // The last line, without its end.
                    Start = _pos;
                    Length = _end - _pos;
                    _pos = _end;
                    Reset();
                    return ChildOutputKind.Line;
                }
            }
        }

        /// <summary>
        /// Text at _pos runs on to LIMIT (a line end, or the end of what is here) past what a line may hold: a piece of
        /// text, or a frame too long (skipped), or End when it is a frame that may still fit.
        /// </summary>
        private ChildOutputKind Cut(int limit)
        {
            if (_frames && IsFrameAt(_pos))
            {
                if (limit - _pos <= _maxFrame) return ChildOutputKind.End;
                return SkipLine();
            }
            // Text up to the next marker (a frame may start there), at most _maxText of it.
            int cut = Math.Min(limit, _pos + _maxText);
            if (_frames)
            {
                int marker = NextMarker(_pos + 1, cut);
                if (marker < cut) cut = marker;
            }
            if (cut - _pos == _maxText && char.IsHighSurrogate(_buffer[cut - 1])) cut--;   // never split a surrogate pair
            Start = _pos;
            Length = cut - _pos;
            _pos = cut;
            Reset();
            return ChildOutputKind.Piece;
        }

        /// <summary>Drops everything up to and with the next line end (a frame longer than a frame may be); TooLong.</summary>
        private ChildOutputKind SkipLine()
        {
            long skipped = 0;
            while (true)
            {
                int lineEnd = FindLineEnd();
                if (lineEnd >= 0)
                {
                    skipped += lineEnd - _pos;
                    _pos = lineEnd + 1;
                    _dropLf = _buffer[lineEnd] == '\r';
                    break;
                }
                skipped += _end - _pos;
                _pos = _end = _scanned = 0;
                if (!Fill()) break;
            }
            Skipped = skipped;
            Start = _pos;
            Length = 0;
            Reset();
            return ChildOutputKind.TooLong;
        }

        /// <summary>
        /// A buffer grown for a frame (up to twice <see cref="ChildProtocol.MaxFrameLength"/> bytes) is given back once
        /// that frame has been delivered and what is left fits in a small one: a reader lives as long as its child (a
        /// manager's, as long as the manager), and held the largest frame's buffer (128 MB) to its end. With hysteresis,
        /// so that a stream of large frames (1 MB records) does not grow it again from 16 Ki for every frame (~7 copies
        /// and large-object allocations each): a buffer over <see cref="KeepUpTo"/> goes at once, a smaller one only
        /// after <see cref="SmallReadsBeforeGiveBack"/> results in a row that a text could have been (a reader left idle
        /// after a burst of frames holds at most 8 MB). Called at the start of a Read, when the last result (in the old
        /// buffer) is no longer valid.
        /// </summary>
        private void GiveBack()
        {
            if (_buffer.Length <= Math.Max(InitialSize, 4 * _maxText)) return;
            _smallReads = Length <= _maxText ? _smallReads + 1 : 0;
            int left = _end - _pos;
            if ((_buffer.Length <= KeepUpTo && _smallReads < SmallReadsBeforeGiveBack) || left > InitialSize / 2) return;
            var small = new char[InitialSize];
            Array.Copy(_buffer, _pos, small, 0, left);
            _scanned -= _pos;
            _end = left;
            _pos = 0;
            _buffer = small;
            _smallReads = 0;
        }

        private void Reset()
        {
            _scanned = _pos;
            _frameChecked = 0;
        }

        /// <summary>The first '\n' or '\r' in [_scanned, _end), or −1 (then all of it has been scanned).</summary>
        private int FindLineEnd()
        {
            int count = _end - _scanned;
            if (count <= 0) return -1;
            int n = Array.IndexOf(_buffer, '\n', _scanned, count);
            int r = Array.IndexOf(_buffer, '\r', _scanned, (n < 0 ? _end : n) - _scanned);
            int found = r >= 0 ? r : n;
            _scanned = found >= 0 ? found : _end;
            return found;
        }

        /// <summary>
        /// Whether a frame starts at AT and all that is here of it is a frame's (a marker, a kind, a space, base64):
        /// checked incrementally, so a frame that grows is not scanned again from its start.
        /// </summary>
        private bool IsFrameAt(int at)
        {
            int end = _scanned;   // no line end before it
            if (_frameChecked == 0)
            {
                if (end - at < ChildProtocol.Marker.Length + 2 || !ChildProtocol.IsFrameHead(_buffer, at)) return false;
                _frameChecked = ChildProtocol.Marker.Length + 2;
            }
            for (int i = at + _frameChecked; i < end; i++)
                if (!ChildProtocol.IsFrameChar(_buffer[i])) return false;
            _frameChecked = Math.Max(_frameChecked, end - at);
            return true;
        }

        /// <summary>The first position in [FROM, TO) where a marker starts, or where what is here ends in the start of one; TO if none.</summary>
        private int NextMarker(int from, int to)
        {
            string marker = ChildProtocol.Marker;
            for (int i = from; i < to; i = i + 1)
            {
                i = Array.IndexOf(_buffer, marker[0], i, to - i);
                if (i < 0) return to;
                int k = 1;
                while (k < marker.Length && i + k < _end && _buffer[i + k] == marker[k]) k++;
                if (k == marker.Length || i + k == _end) return i;
            }
            return to;
        }

        /// <summary>
        /// Reads READER to its end in blocks, each to KEEP (null: dropped): a stream of which no line matters (a pool
        /// worker's), without a thread of its own and never holding more than a block. Never throws.
        /// </summary>
        public static async Task DrainAsync(TextReader reader, Action<char[], int>? keep)
        {
            var block = new char[4096];
            try
            {
                int n;
                while ((n = await reader.ReadAsync(block, 0, block.Length).ConfigureAwait(false)) > 0) keep?.Invoke(block, n);
            }
            catch (Exception) { /* the process and its pipes are gone */ }
        }

        /// <summary>Reads more after what is here (compacting or growing the buffer, never past a frame's bound); false at the end.</summary>
        private bool Fill()
        {
            if (_eof) return false;
            if (_pos > 0 && (_end == _buffer.Length || _pos == _end))
            {
                Array.Copy(_buffer, _pos, _buffer, 0, _end - _pos);
                _end -= _pos;
                _scanned -= _pos;
                _pos = 0;
            }
            if (_end == _buffer.Length)
            {
                // Only a frame (or text up to _maxText + 1) gets here: the bound is one frame's length and a line end.
                int size = (int)Math.Min((long)_buffer.Length * 2, _maxFrame + 2L);
                if (size <= _buffer.Length) throw new InvalidOperationException("The child output buffer cannot grow past its bound.");
                Array.Resize(ref _buffer, size);
            }
            int n = _reader.Read(_buffer, _end, _buffer.Length - _end);
            if (n <= 0) { _eof = true; return false; }
            _end += n;
            return true;
        }
    }
}
