using System;
using System.IO;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// What a child's stdout reader keeps after a large frame (Hosting/ChildOutputReader): the buffer a frame needed is
    /// given back once the frame has been delivered, so a job's reader (for the child's whole life) and a manager's
    /// (for the manager's whole life) do not hold twice the largest frame a child ever wrote.
    /// </summary>
    public sealed class ChildOutputBufferTests
    {
        [Fact]
        public void TheBufferOfALargeFrameIsGivenBackOnceTheFrameIsDelivered()
        {
            // A frame line of 8 Mi characters (a large record), then ordinary lines, with the real limits.
            string frame = ChildProtocol.Marker + "O " + new string('A', 8 << 20);
            var reader = new ChildOutputReader(new StringReader(frame + "\nafter\nlast\n"), frames: true);
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal(frame.Length, reader.Length);
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal("after", reader.Text);
            Assert.True(reader.Buffer.Length <= 4 * ChildOutputReader.MaxTextLength,
                $"the reader still holds a buffer of {reader.Buffer.Length:N0} characters after the frame that needed it");
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal("last", reader.Text);
            Assert.Equal(ChildOutputKind.End, reader.Read());
        }

        [Fact]
        public void AFrameSkippedAsTooLongLeavesNoLargeBufferEither()
        {
            // Skipped frames never grow the buffer past the bound (here 100,002 characters, under KeepUpTo: kept while
            // frames may need it); it is given back after SmallReadsBeforeGiveBack small results in a row (the TooLong
            // is the first). With the real bound (64 Mi characters, over KeepUpTo) it would go at the next read.
            int n = ChildOutputReader.SmallReadsBeforeGiveBack;
            string frame = ChildProtocol.Marker + "O " + new string('A', 300_000);
            var text = new System.Text.StringBuilder(frame).Append('\n');
            for (int i = 1; i <= n; i++) text.Append("line ").Append(i).Append('\n');
            var reader = new ChildOutputReader(new StringReader(text.ToString()), frames: true, 1024, 100_000);
            Assert.Equal(ChildOutputKind.TooLong, reader.Read());
            char[] grown = reader.Buffer;
            Assert.True(grown.Length > 16 * 1024, $"buffer of {grown.Length:N0} characters");
            for (int i = 1; i < n; i++)
            {
                Assert.Equal(ChildOutputKind.Line, reader.Read());
                Assert.Equal($"line {i}", reader.Text);
            }
            Assert.Same(grown, reader.Buffer);
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal($"line {n}", reader.Text);
            Assert.True(reader.Buffer.Length <= 16 * 1024, $"buffer of {reader.Buffer.Length:N0} characters");
            Assert.Equal(ChildOutputKind.End, reader.Read());
        }
    }
}
