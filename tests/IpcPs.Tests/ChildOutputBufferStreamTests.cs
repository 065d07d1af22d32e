using System;
using System.IO;
using System.Text;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A child's stdout reader (Hosting/ChildOutputReader) that streams large frames keeps the buffer they need: it was
    /// given back after every frame over 256 Ki characters, so a job streaming 1 MB records grew it again from 16 Ki for
    /// every frame (~7 copies and large-object allocations each). Given back only over KeepUpTo, or after
    /// SmallReadsBeforeGiveBack small results in a row.
    /// </summary>
    public sealed class ChildOutputBufferStreamTests
    {
        [Fact]
        public void AStreamOfFramesOfAMillionCharactersKeepsOneBuffer()
        {
            // 8 frames of ~1 Mi characters, two short lines after each, then enough short lines to give the buffer back;
            // the real limits, a pipe's 4 Ki chunks.
            const int frames = 8;
            int small = ChildOutputReader.SmallReadsBeforeGiveBack;
            var text = new StringBuilder();
            for (int f = 0; f < frames; f++)
                text.Append(ChildProtocol.Marker).Append("O ").Append((char)('A' + f), 1 << 20).Append("\nprogress ").Append(f).Append("\nok\n");
            for (int i = 0; i < small; i++) text.Append("line ").Append(i).Append('\n');
            var reader = new ChildOutputReader(new ChildOutputReaderTests.Trickle(text.ToString(), 4096), frames: true);

            char[]? grown = null;
            for (int f = 0; f < frames; f++)
            {
                Assert.Equal(ChildOutputKind.Line, reader.Read());
                Assert.Equal(ChildProtocol.Marker.Length + 2 + (1 << 20), reader.Length);
                Assert.Equal((char)('A' + f), reader.Buffer[reader.Start + reader.Length - 1]);
                grown ??= reader.Buffer;
                Assert.True(ReferenceEquals(grown, reader.Buffer),
                    $"frame {f}: the reader grew a new buffer ({reader.Buffer.Length:N0} characters) for a frame the last one held");
                Assert.Equal(ChildOutputKind.Line, reader.Read());
                Assert.Equal($"progress {f}", reader.Text);
                Assert.Equal(ChildOutputKind.Line, reader.Read());
                Assert.Equal("ok", reader.Text);
                Assert.Same(grown, reader.Buffer);
            }
            Assert.True(grown!.Length <= ChildOutputReader.KeepUpTo, $"buffer of {grown.Length:N0} characters");

            // Once frames stop, the buffer is given back (the last frame's "progress" and "ok" are two of the small results).
            for (int i = 0; i < small; i++)
            {
                Assert.Equal(ChildOutputKind.Line, reader.Read());
                Assert.Equal($"line {i}", reader.Text);
            }
            Assert.True(reader.Buffer.Length <= 16 * 1024, $"buffer of {reader.Buffer.Length:N0} characters after {small} short lines");
            Assert.Equal(ChildOutputKind.End, reader.Read());
        }
    }
}
