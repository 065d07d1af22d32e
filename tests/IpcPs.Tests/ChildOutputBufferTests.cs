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
            // Skipped frames never grow the buffer past the bound; after one, the buffer is small again.
            string frame = ChildProtocol.Marker + "O " + new string('A', 300_000);
            var reader = new ChildOutputReader(new StringReader(frame + "\nafter\n"), frames: true, 1024, 100_000);
            Assert.Equal(ChildOutputKind.TooLong, reader.Read());
            Assert.Equal(ChildOutputKind.Line, reader.Read());
            Assert.Equal("after", reader.Text);
            Assert.True(reader.Buffer.Length <= 16 * 1024, $"buffer of {reader.Buffer.Length:N0} characters");
        }
    }
}
