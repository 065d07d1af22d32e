using System;
using System.Collections.Generic;
using System.Linq;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The pipe's operations in the crash-injection matrix. Every pipe is one-way with the smallest ring (4 KiB), end 0
    /// receiving and end 1 sending, both held by the test process; the positions are moved off zero first so that
    /// frames wrap around the ring's end. After the worker died: either the ring is intact, every frame sent whole is
    /// received exactly once and a new frame goes through, or — only when a streamed frame (bigger than the ring) was
    /// cut — it is marked broken and both sides get ConnectionClosedException.
    /// </summary>
    internal abstract class PipeScenario : CrashScenario
    {
        protected const int Ring = IpcConnection.MinimumBufferSize;
        protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
        private static readonly int RingsOffset = Layout.Const<IpcConnection>("RingsOffset"), TailOff = Layout.Const<IpcConnection>("TailOff"),
            HeadOff = Layout.Const<IpcConnection>("HeadOff"), BrokenOff = Layout.Const<IpcConnection>("Broken"),
            WriterMid = Layout.Const<IpcConnection>("WriterMid"), ReaderMid = Layout.Const<IpcConnection>("ReaderMid");

        protected PipeScenario(string id) : base("pipe." + id) { }

        /// <summary>A frame's bytes: recognisable by TAG, LENGTH long.</summary>
        protected static byte[] Frame(int tag, int length)
        {
            var bytes = new byte[length];
            for (int i = 0; i < length; i++) bytes[i] = (byte)(tag * 31 + i * 7 + i / 251);
            return bytes;
        }

        protected static readonly byte[] Marker = Frame(9, 5);

        protected sealed class Ends : IDisposable
        {
            public IpcConnection Receiver = null!, Sender = null!;
            public string Name = "";

            public void Dispose()
            {
                Receiver.Close();
                Sender.Close();
            }
        }

        /// <summary>A pipe whose positions stand at OFFSET (a frame of OFFSET bytes went through), then FRAMES sent and not received.</summary>
        protected static Ends MakePipe(string name, int offset, params byte[][] frames)
        {
            var pair = IpcConnection.CreatePipe(name, duplex: false, bufferSize: Ring);
            var ends = new Ends { Receiver = pair[0], Sender = pair[1], Name = name };
            ends.Sender.SendBytes(new byte[offset - 8]);
            Assert.Equal(offset - 8, ends.Receiver.RecvBytes().Length);
            foreach (var f in frames) ends.Sender.SendBytes(f);
            return ends;
        }

        /// <summary>Receives frames until the marker, each within the wait (a missing frame fails, never hangs).</summary>
        protected static List<byte[]> ReceiveUntilMarker(IpcConnection receiver)
        {
            var got = new List<byte[]>();
            while (true)
            {
                Assert.True(receiver.Poll(Wait.TotalSeconds), $"Nothing arrived within {Wait.TotalSeconds} s (received so far: {got.Count} frames).");
                var f = receiver.RecvBytes();
                got.Add(f);
                if (f.SequenceEqual(Marker)) return got;
                Assert.True(got.Count < 10, "More frames arrived than were ever sent.");
            }
        }

        protected static void AssertFrames(IEnumerable<byte[]> expected, IEnumerable<byte[]> got)
        {
            var e = expected.ToList();
            var g = got.ToList();
            Assert.True(e.Count == g.Count && e.Zip(g, (x, y) => x.SequenceEqual(y)).All(b => b),
                $"Expected frames of {string.Join(", ", e.Select(f => f.Length))} bytes, got {string.Join(", ", g.Select(f => f.Length))}.");
        }

        /// <summary>The ring read by end 0: not broken, drained (head = tail), no side inside a frame; a new frame goes through.</summary>
        protected static unsafe void AssertIntactAndDrained(Ends ends)
        {
            using (var raw = new RawSegment(ends.Name))
            {
                Assert.Equal(0, raw.Int(RingsOffset + BrokenOff));
                long head = raw.Long(RingsOffset + HeadOff), tail = raw.Long(RingsOffset + TailOff);
                Assert.True(head == tail, $"The ring holds {tail - head} bytes nobody received (head {head}, tail {tail}).");
                Assert.Equal(0, raw.Int(RingsOffset + WriterMid));
                Assert.Equal(0, raw.Int(RingsOffset + ReaderMid));
            }
            var again = Frame(7, 3000);
            ends.Sender.SendBytes(again);
            Assert.True(ends.Receiver.Poll(Wait.TotalSeconds));
            Assert.Equal(again, ends.Receiver.RecvBytes());
        }

        /// <summary>
        /// A receiver says the ring is broken (whatever bytes are left in it: none can be read as frames any more), the
        /// ring is marked so, and a sender says so too from then on.
        /// </summary>
        protected static void AssertBroken(Ends ends)
        {
            Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => ends.Receiver.RecvBytes()).Message);
            using (var raw = new RawSegment(ends.Name)) Assert.Equal(1, raw.Int(RingsOffset + BrokenOff));
            Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => ends.Sender.SendBytes(Marker)).Message);
        }

        public override IDisposable Open(string name) => IpcConnection.Open(name, WorkerEnd);

        /// <summary>The end the worker uses: 1 to send, 0 to receive.</summary>
        protected abstract int WorkerEnd { get; }
    }

    /// <summary>A frame that fits, sent across the ring's end behind one already waiting.</summary>
    internal sealed class PipeSendSmall : PipeScenario
    {
        private static readonly byte[] Waiting = Frame(1, 10), Sent = Frame(2, 40);

        public PipeSendSmall() : base("send.small") { }

        protected override int WorkerEnd => 1;

        // Positions at ring - 30: the waiting frame takes 18 bytes, the sent one's header 8 more, its payload wraps.
        public override IDisposable Setup(string name) => MakePipe(name, Ring - 30, Waiting);

        public override void Operate(IDisposable handle) => ((IpcConnection)handle).SendBytes(Sent);

        public override void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n)
        {
            var ends = (Ends)state;
            // Published with the tail, or not at all: the ring is never broken by a frame that fits.
            bool sent = Past(trace, n, CrashPoints.PipePosition);
            ends.Sender.SendBytes(Marker);
            var expected = new List<byte[]> { Waiting };
            if (sent) expected.Add(Sent);
            expected.Add(Marker);
            AssertFrames(expected, ReceiveUntilMarker(ends.Receiver));
            AssertIntactAndDrained(ends);
        }
    }

    /// <summary>A frame that fits, received from behind the ring's end while another waits after it.</summary>
    internal sealed class PipeReceiveSmall : PipeScenario
    {
        private static readonly byte[] First = Frame(1, 10), Second = Frame(2, 40);

        public PipeReceiveSmall() : base("receive.small") { }

        protected override int WorkerEnd => 0;

        public override IDisposable Setup(string name) => MakePipe(name, Ring - 30, First, Second);

        public override void Operate(IDisposable handle) => Assert.Equal(First, ((IpcConnection)handle).RecvBytes());

        public override void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n)
        {
            var ends = (Ends)state;
            // Consumed with the head (then it died with the worker, as a message a dead process received), or still there.
            bool consumed = Past(trace, n, CrashPoints.PipePosition);
            ends.Sender.SendBytes(Marker);
            var expected = new List<byte[]>();
            if (!consumed) expected.Add(First);
            expected.Add(Second);
            expected.Add(Marker);
            AssertFrames(expected, ReceiveUntilMarker(ends.Receiver));
            AssertIntactAndDrained(ends);
        }
    }

    /// <summary>A frame three times the ring, streamed by the worker while the test process receives it.</summary>
    internal sealed class PipeSendStreamed : PipeScenario
    {
        private static readonly byte[] Big = Frame(4, 3 * Ring + 100);

        public PipeSendStreamed() : base("send.streamed") { }

        protected override int WorkerEnd => 1;

        public override IDisposable Setup(string name) => MakePipe(name, 1008);

        public override Peer? StartPeer(IDisposable state)
        {
            var ends = (Ends)state;
            return new Peer(p =>
            {
                while (true)
                {
                    var f = ends.Receiver.RecvBytes();   // a broken ring ends this with ConnectionClosedException
                    p.Frames.Add(f);
                    if (f.SequenceEqual(Marker)) return;
                }
            });
        }

        public override void Operate(IDisposable handle) => ((IpcConnection)handle).SendBytes(Big);

        public override void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n)
        {
            var ends = (Ends)state;
            // The sender marks "inside a streamed frame" before its first piece goes out and clears it after the last:
            // a death in between is a cut frame (broken), also when it falls after the last piece was published.
            bool broken = Past(trace, n, CrashPoints.PipeMid) && !Past(trace, n, CrashPoints.PipeMidClear);
            bool whole = Past(trace, n, CrashPoints.PipePosition, lastOccurrence: true);
            if (broken) Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => ends.Sender.SendBytes(Marker)).Message);
            else ends.Sender.SendBytes(Marker);
            peer!.Join(Wait);
            var expected = new List<byte[]>();
            if (whole) expected.Add(Big);
            if (!broken) expected.Add(Marker);
            AssertFrames(expected, peer.Frames);
            if (broken)
            {
                Assert.True(peer.Failure is ConnectionClosedException c && c.Message.Contains("broken"), $"The receiver ended with {peer.Failure?.ToString() ?? "no error"}.");
                AssertBroken(ends);
            }
            else
            {
                Assert.Null(peer.Failure);
                AssertIntactAndDrained(ends);
            }
        }
    }

    /// <summary>A frame three times the ring, received by the worker while the test process streams it (then a small one).</summary>
    internal sealed class PipeReceiveStreamed : PipeScenario
    {
        private static readonly byte[] Big = Frame(4, 3 * Ring + 100);

        public PipeReceiveStreamed() : base("receive.streamed") { }

        protected override int WorkerEnd => 0;

        public override IDisposable Setup(string name) => MakePipe(name, 1008);

        public override Peer? StartPeer(IDisposable state)
        {
            var ends = (Ends)state;
            return new Peer(p =>
            {
                ends.Sender.SendBytes(Big);
                ends.Sender.SendBytes(Marker);
            });
        }

        public override void Operate(IDisposable handle) => Assert.Equal(Big, ((IpcConnection)handle).RecvBytes());

        public override void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n)
        {
            var ends = (Ends)state;
            bool broken = Past(trace, n, CrashPoints.PipeMid) && !Past(trace, n, CrashPoints.PipeMidClear);
            bool consumed = Past(trace, n, CrashPoints.PipePosition, lastOccurrence: true);
            if (broken)
            {
                // The receiver died inside the frame: the sender, if it was still sending, learns it; the next receiver too.
                peer!.Join(Wait);
                Assert.True(peer.Failure is null || peer.Failure is ConnectionClosedException c && c.Message.Contains("broken"),
                    $"The sender ended with {peer.Failure}.");
                AssertBroken(ends);
                return;
            }
            var expected = new List<byte[]>();
            if (!consumed) expected.Add(Big);   // the worker died before taking any of it
            expected.Add(Marker);
            AssertFrames(expected, ReceiveUntilMarker(ends.Receiver));
            peer!.Join(Wait);
            Assert.Null(peer.Failure);
            AssertIntactAndDrained(ends);
        }
    }
}
