using System;
using System.Linq;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// States a death leaves, made by hand in the segment where the matrix (<see cref="CrashInjectionTests"/>) can meet
    /// them only by chance: what a receiver killed inside a streamed frame leaves depends on the bytes of the frame.
    /// </summary>
    public sealed class CrashInjectionForgedTests
    {
        /// <summary>A holder that is gone whatever happens to pids meanwhile: this process's pid with another start time.</summary>
        private static readonly long Gone = HolderId.Of(HolderId.MyPid, HolderId.Start(HolderId.Me) + 12345L);

        private static readonly int RingsOffset = Layout.Const<IpcConnection>("RingsOffset"), HeadOff = Layout.Const<IpcConnection>("HeadOff"),
            ReadLock = Layout.Const<IpcConnection>("ReadLock"), ReaderMid = Layout.Const<IpcConnection>("ReaderMid"),
            BrokenOff = Layout.Const<IpcConnection>("Broken");

        /// <summary>
        /// A receiver died inside a frame: the read lock is a dead holder's, the "receiver inside a frame" flag is set, and
        /// the head stands in the middle of the frame, at bytes that look like a frame header (a payload may hold any
        /// bytes). The next receiver must not read them as a frame: the stream has lost its place.
        /// </summary>
        [Fact]
        public void AReceiverAfterOneThatDiedInsideAFrameSaysBrokenAndReadsNothing()
        {
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: IpcConnection.MinimumBufferSize);
            using var receiver = ends[0];
            using var sender = ends[1];
            try
            {
                // A payload that starts with a frame header of its own: 20 raw bytes follow.
                var payload = new byte[100];
                BitConverter.GetBytes(20).CopyTo(payload, 0);
                BitConverter.GetBytes(IpcConnection.RawFlag).CopyTo(payload, 4);
                for (int i = 8; i < payload.Length; i++) payload[i] = (byte)i;
                sender.SendBytes(payload);
                using (var raw = new RawSegment(receiver.Name))
                {
                    raw.Long(RingsOffset + HeadOff) += 8;   // past the real header: the dead receiver had consumed it
                    raw.Int(RingsOffset + ReaderMid) = 1;
                    raw.Long(RingsOffset + ReadLock) = Gone;
                }
                var e = Assert.Throws<ConnectionClosedException>(() => receiver.RecvBytes());
                Assert.Contains("broken", e.Message);
                using (var raw = new RawSegment(receiver.Name)) Assert.Equal(1, raw.Int(RingsOffset + BrokenOff));
                // From then on, on both sides.
                Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => receiver.RecvBytes()).Message);
                Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => sender.SendBytes(new byte[1])).Message);
            }
            finally { receiver.Unlink(); }
        }

        /// <summary>
        /// A sender died inside a frame after publishing all of it but before clearing its flag (or bumping the data
        /// signal): the frame is whole in the ring. A receiver that was waiting inside it notices the death after a quiet
        /// slice; it must take the bytes that are there before it calls the ring broken.
        /// </summary>
        [Fact]
        public unsafe void AReceiverTakesTheBytesADeadSenderPublishedBeforeCallingTheRingBroken()
        {
            int ring = IpcConnection.MinimumBufferSize;
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: ring);
            using var receiver = ends[0];
            using var sender = ends[1];
            try
            {
                int tailOff = Layout.Const<IpcConnection>("TailOff"), writeLock = Layout.Const<IpcConnection>("WriteLock");
                int writerMid = Layout.Const<IpcConnection>("WriterMid"), data = Layout.Const<IpcConnection>("DataOffset");
                var frame = Enumerable.Range(0, 2 * ring - 100).Select(i => (byte)(i * 13)).ToArray();
                byte[]? got = null;
                Exception? failure = null;
                // The receiver meets the frame's first part only: it reads it and waits inside the frame.
                using (var raw = new RawSegment(receiver.Name))
                {
                    raw.Long(RingsOffset + writeLock) = HolderId.Me;   // a sender is inside: held while the pieces are forged
                    raw.Int(RingsOffset + writerMid) = 1;
                    BitConverter.GetBytes((long)frame.Length | ((long)IpcConnection.RawFlag << 32)).CopyTo(new Span<byte>(raw.Base + data, 8));
                    frame.AsSpan(0, ring - 8).CopyTo(new Span<byte>(raw.Base + data + 8, ring - 8));
                    raw.Long(RingsOffset + tailOff) = ring;
                }
                var reader = new System.Threading.Thread(() =>
                {
                    try { got = receiver.RecvBytes(); }
                    catch (Exception e) { failure = e; }
                }) { IsBackground = true };
                reader.Start();
                using (var raw = new RawSegment(receiver.Name))
                {
                    // Once the receiver has taken the first part (head = ring), the rest goes in and the sender "dies":
                    // the tail is published, the signal never bumped, the flag still set, the lock a dead holder's.
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    while (raw.Long(RingsOffset + HeadOff) != ring)
                    {
                        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "The receiver never took the first part.");
                        System.Threading.Thread.Yield();
                    }
                    int rest = frame.Length - (ring - 8);
                    frame.AsSpan(ring - 8, rest).CopyTo(new Span<byte>(raw.Base + data, rest));
                    raw.Long(RingsOffset + writeLock) = Gone;
                    raw.Long(RingsOffset + tailOff) = ring + rest;
                }
                Assert.True(reader.Join(TimeSpan.FromSeconds(10)), "The receiver did not end.");
                Assert.Null(failure);
                Assert.Equal(frame, got);
            }
            finally { receiver.Unlink(); }
        }
    }
}
