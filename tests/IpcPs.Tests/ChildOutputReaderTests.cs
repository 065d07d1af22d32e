using System;
using System.Collections.Generic;
using System.IO;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The bounded reader of a child's stdout (Hosting/ChildOutputReader): lines, pieces of long text, text before a
    /// frame, frames too long; whatever sizes the pipe hands over at a time (every case runs with reads of 1, 3 and
    /// 4,096 characters). Small limits here; the Pester file ChildOutput.Tests.ps1 runs the real ones through a child.
    /// </summary>
    public sealed class ChildOutputReaderTests
    {
        private const string M = ChildProtocol.Marker;

        /// <summary>A reader that hands over at most CHUNK characters per Read, as a pipe may (ChildOutputBufferStreamTests too).</summary>
        internal sealed class Trickle : TextReader
        {
            private readonly string _text;
            private readonly int _chunk;
            private int _at;
            public Trickle(string text, int chunk) { _text = text; _chunk = chunk; }
            public override int Read(char[] buffer, int index, int count)
            {
                int n = Math.Min(Math.Min(count, _chunk), _text.Length - _at);
                _text.CopyTo(_at, buffer, index, n);
                _at += n;
                return n;
            }
        }

        private static List<string> ReadAll(string text, int chunk, int maxText = 8, int maxFrame = 64)
        {
            var reader = new ChildOutputReader(new Trickle(text, chunk), frames: true, maxText, maxFrame);
            var found = new List<string>();
            ChildOutputKind kind;
            while ((kind = reader.Read()) != ChildOutputKind.End)
                found.Add(kind == ChildOutputKind.TooLong ? $"TooLong {reader.Skipped}" : $"{kind} {reader.Text}");
            return found;
        }

        public static IEnumerable<object[]> Chunks => new[] { new object[] { 1 }, new object[] { 3 }, new object[] { 4096 } };

        [Theory, MemberData(nameof(Chunks))]
        public void LineEndsAreThoseOfReadLine(int chunk) =>
            Assert.Equal(new[] { "Line ab", "Line cd", "Line ", "Line ef", "Line gh" }, ReadAll("ab\ncd\r\n\nef\rgh", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void LongTextComesInPiecesOfTheLimit(int chunk) =>
            Assert.Equal(new[] { "Piece aaaaaaaa", "Piece aaaaaaaa", "Line aaaa", "Line b" }, ReadAll(new string('a', 20) + "\nb", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void TextBeforeALongFrameIsAPieceAndTheFrameAWholeLine(int chunk) =>
            Assert.Equal(new[] { "Piece xy", $"Line {M}O QUJDRA==", "Line z" }, ReadAll($"xy{M}O QUJDRA==\nz\n", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void AMarkerIsNeverCutAcrossPieces(int chunk) =>
            Assert.Equal(new[] { "Piece 1234567", $"Line {M}O QUJDRA==" }, ReadAll($"1234567{M}O QUJDRA==\n", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void ASurrogatePairIsNeverCut(int chunk) =>
            Assert.Equal(new[] { "Piece 1234567", "Line \U0001F600" }, ReadAll("1234567\U0001F600\n", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void AFrameLongerThanTheBoundIsSkippedToTheNextLineEnd(int chunk)
        {
            var found = ReadAll($"{M}O {new string('A', 200)}\r\nnext\n", chunk);
            Assert.Equal(2, found.Count);
            Assert.StartsWith("TooLong ", found[0]);
            Assert.True(long.Parse(found[0].Substring(8)) > 64);
            Assert.Equal("Line next", found[1]);
        }

        [Theory, MemberData(nameof(Chunks))]
        public void TextThatLooksLikeAFrameButIsNotOneIsText(int chunk) =>
            // Not frame characters ('!'): the line is text, cut into pieces like any.
            Assert.Equal(new[] { $"Piece {M}O", "Piece  AAA!AAA", "Line AA" }, ReadAll($"{M}O AAA!AAAAA\n", chunk));

        [Theory, MemberData(nameof(Chunks))]
        public void AfterEndFramesAFrameIsTextCutIntoPieces(int chunk)
        {
            // A manager's stdout: a spare's ready frame, then frames are over; one shaped as a frame is held no longer
            // than any text (it was held whole, up to the frame bound).
            var reader = new ChildOutputReader(new Trickle($"{M}R QQ==\n{M}O {new string('A', 12)}\nz", chunk), frames: true, 8, 64);
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal($"{M}R QQ==", reader.Text);
            reader.EndFrames();
            var found = new List<string>();
            ChildOutputKind kind;
            while ((kind = reader.Read()) != ChildOutputKind.End) found.Add($"{kind} {reader.Text}");
            Assert.Equal(new[] { $"Piece {M}O", "Piece  AAAAAAA", "Line AAAAA", "Line z" }, found);
        }

        [Fact]
        public void FrameStartFindsOnlyAWholeFrameAtTheLineEnd()
        {
            int Start(string line) => ChildProtocol.FrameStart(line.ToCharArray(), 0, line.Length);
            Assert.Equal(0, Start($"{M}O QUJD"));
            Assert.Equal(3, Start($"abc{M}O QUJD"));
            Assert.Equal(8, Start($"{M}x{M}P QUJD"));   // text that holds a marker, then a frame
            Assert.Equal(-1, Start($"abc{M}O QU JD"));
            Assert.Equal(-1, Start($"abc{M}o QUJD"));
            Assert.Equal(-1, Start($"{M}O QUJD{M}"));
            Assert.Equal(-1, Start("plain text"));
        }

        [Fact]
        public void TheBufferStaysBoundedWhateverTheTextLength()
        {
            // 4 MB of text without a line end, with the real limits: pieces of MaxTextLength, a buffer of a few of them.
            var reader = new ChildOutputReader(new Trickle(new string('x', 4 << 20), 65536), frames: true);
            int pieces = 0;
            ChildOutputKind kind;
            while ((kind = reader.Read()) != ChildOutputKind.End)
            {
                Assert.Equal(ChildOutputReader.MaxTextLength, reader.Length);
                Assert.True(reader.Buffer.Length <= 4 * ChildOutputReader.MaxTextLength, $"buffer {reader.Buffer.Length}");
                pieces++;
            }
            Assert.Equal((4 << 20) / ChildOutputReader.MaxTextLength, pieces);
        }
    }
}
