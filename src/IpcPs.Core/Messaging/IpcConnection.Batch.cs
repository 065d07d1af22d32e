using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // Batches on a pipe (docs/design.md, "Pipe", "Batches"): one lock acquisition and one publication (tail or head,
    // signal, wake-up call) for many frames. Each frame is still a frame as Send writes it, so a receiver cannot tell
    // a batch from single sends, and a sender killed mid-batch leaves the frames it published whole, as single sends
    // would. A frame that does not fit in the free room makes the sender publish what it wrote and wait for room; a
    // frame bigger than the ring streams as it does alone.
    public sealed unsafe partial class IpcConnection : IEncodedBatchChannel
    {
        /// <summary>
        /// Sends every item of ITEMS (an object[] or any collection; a string or a dictionary is one item, as in the
        /// pipeline) in order, each as one message (a byte[] as raw bytes, as Send). Blocks while the buffer is full.
        /// </summary>
        public void SendMany(IEnumerable items) => SendBatch(items, Deadline.Infinite, Core.IpcHost.CallerInterrupt, null);

        /// <summary>
        /// Receives up to MAX messages at once: waits for the first, then takes what is there (never waits for more).
        /// ConnectionClosedException when the other end is closed and nothing is left. A damaged message is met as that
        /// many Recvs would meet it: the messages before it are returned, it fails the next receive of this end (this
        /// call, when it is the first), and the ones after it, already out of the pipe, are kept by this handle, whose
        /// next receive of any kind returns them first (Poll() is true meanwhile; closing the handle drops them).
        /// </summary>
        public object?[] RecvMany(int max) => RecvMany(max, double.PositiveInfinity);

        /// <summary>As RecvMany(MAX), waiting at most TIMEOUTSECONDS for the first message: an empty array when none came.</summary>
        public object?[] RecvMany(int max, double timeoutSeconds)
        {
            var got = new List<object?>();
            ReceiveFrames(max, Deadline.AfterSeconds(timeoutSeconds), timeoutSeconds > 0 ? Core.IpcHost.CallerInterrupt : CancellationToken.None, got);   // Ctrl+C ends the wait, as Recv's
            return got.ToArray();
        }

        int IBatchChannel.TrySendMany(IEnumerable messages, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) throw NoPriority();
            return SendBatch(messages, IpcQueue.ChannelDeadline(timeout), cancel, depth);
        }

        bool IEncodedBatchChannel.SendsRawBytes => true;

        int IEncodedBatchChannel.TrySendEncoded(MessageBatch batch, long? priority, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) throw NoPriority();
            RequireWritable();
            return SendFrames(batch, IpcQueue.ChannelDeadline(timeout), cancel);
        }

        private InvalidOperationException NoPriority() => new InvalidOperationException($"'{Name}' is a pipe: only a priority queue takes a priority.");

        private void RequireWritable()
        {
            ThrowIfClosed();
            if (!Writable) throw new InvalidOperationException($"The connection '{Name}' end {End} is receive-only.");
        }

        int IBatchChannel.TryReceiveMany(int max, TimeSpan timeout, CancellationToken cancel, ICollection<object?> into) =>
            ReceiveFrames(max, IpcQueue.ChannelDeadline(timeout), cancel, into);

        int IBatchChannel.MaxBatch => int.MaxValue;

        private int SendBatch(IEnumerable items, Deadline deadline, CancellationToken cancel, int? depth)
        {
            RequireWritable();
            var batch = MessageBatch.Encode(items, depth ?? _depth, rawBytes: true);
            try { return SendFrames(batch, deadline, cancel); }
            finally { MessageBatch.Recycle(batch); }
        }

        /// <summary>Sends the batch's frames in order; returns how many went (fewer only when DEADLINE passed).</summary>
        private int SendFrames(MessageBatch batch, Deadline deadline, CancellationToken cancel)
        {
            int k = batch.Count;
            if (k == 0) return 0;
            for (int i = 0; i < k; i++)
                if (batch.Length(i) > int.MaxValue - FrameHeader)
                    throw new MessageTooLargeException(Name, batch.Length(i), int.MaxValue - FrameHeader, "a pipe message holds at most");
            Hold();
            int r = WriteRing;
            byte* ring = Ring(r);
            if (!AnyHolder(1 - End)) throw PeerClosed(sending: true);
            long* wlock = (long*)(ring + WriteLock);
            var got = Interlocked.CompareExchange(ref *wlock, RobustLock.Me, 0) == 0 ? AcquireResult.Acquired : RobustLock.Acquire(wlock, deadline, cancel);
            if (got == AcquireResult.TimedOut) return 0;
            int sent = 0;
            try
            {
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeLock);
                if (got == AcquireResult.Abandoned && Volatile.Read(ref *(int*)(ring + WriterMid)) != 0) MarkBroken(ring);
                if (Volatile.Read(ref *(int*)(ring + Broken)) != 0) throw BrokenRing();
                var w = new RingWriter(this, r, cancel);
                int written = 0;   // frames written and not yet published
                fixed (byte* src = batch.Buffer)
                {
                    for (int i = 0; i < k; i++)
                    {
                        long total = batch.Length(i), frame = FrameHeader + total;
                        bool streamed = frame > BufferSize;
                        if (written > 0 && (streamed || w.Free < frame))
                        {
                            w.Publish();   // let the receiver have what is written while this one waits
                            sent += written;
                            written = 0;
                        }
                        if (!streamed && !w.WaitForSpace(frame, deadline)) return sent;
                        long header = (uint)total | ((long)(batch.IsRaw(i) ? RawFlag : 0) << 32);
                        w.Write((byte*)&header, FrameHeader);
                        try { if (total > 0) w.Write(src + batch.Start(i), total); }
                        catch
                        {
                            MarkBroken(ring);   // stopped inside a streamed frame, as in SendFrame
                            w.Publish();
                            sent += written;
                            throw;
                        }
                        written++;
                        if (streamed)
                        {
                            w.Publish();
                            sent += written;
                            written = 0;
                            Volatile.Write(ref *(int*)(ring + WriterMid), 0);
                            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMidClear);
                        }
                    }
                }
                if (written > 0)
                {
                    w.Publish();
                    sent += written;
                }
                return sent;
            }
            finally
            {
                RobustLock.Release(wlock);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeUnlock);
            }
        }

        /// <summary>
        /// Receives up to MAX frames under one hold of the read lock: waits for the first (which may stream), then takes
        /// only frames that are there whole and fit in the ring; publishes the head once. Decodes after the lock is
        /// released. Returns how many were added to INTO.
        /// </summary>
        private int ReceiveFrames(int max, Deadline deadline, CancellationToken cancel, ICollection<object?> into)
        {
            if (max < 1) throw new ArgumentOutOfRangeException(nameof(max), max, "A batch takes at least one message.");
            ThrowIfClosed();
            if (!Readable) throw new InvalidOperationException($"The connection '{Name}' end {End} is send-only.");
            if (_kept.Any)
            {
                int k = _kept.Receive(max, DecodeKept, into);   // what an earlier batch kept goes first
                if (k > 0) return k;
            }
            Hold();
            int r = ReadRing;
            byte* ring = Ring(r);
            long* rlock = (long*)(ring + ReadLock);
            var got = Interlocked.CompareExchange(ref *rlock, RobustLock.Me, 0) == 0 ? AcquireResult.Acquired : RobustLock.Acquire(rlock, deadline, cancel);
            if (got == AcquireResult.TimedOut) return 0;
            var buffer = _received ?? new byte[256];
            _received = null;
            int n = 0, used = 0;
            var ends = new int[Math.Min(max, 256)];
            var raw = new bool[ends.Length];
            byte[]? streamedFrame = null;   // a first frame bigger than the ring, in an array of its own
            try
            {
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeLock);
                if (Volatile.Read(ref *(int*)(ring + ReaderMid)) != 0)
                {
                    MarkBroken(ring);
                    throw BrokenRing();
                }
                var rd = new RingReader(this, r, cancel);
                if (!rd.WaitForData(FrameHeader, deadline, midFrame: false)) return 0;
                while (n < max)
                {
                    if (n > 0 && rd.Available < FrameHeader) break;
                    long header;
                    rd.Peek((byte*)&header, FrameHeader);
                    int length = (int)(uint)header, flags = (int)(header >> 32);
                    if (length < 0 || length > int.MaxValue - FrameHeader)
                    {
                        if (n > 0) break;   // the frames before it go (their head is published); the next receive meets it
                        MarkBroken(ring);
                        throw BrokenRing();
                    }
                    long frame = FrameHeader + (long)length;
                    if (n == 0)
                    {
                        if (frame <= BufferSize && !rd.WaitForData(frame, deadline, midFrame: false)) return 0;
                    }
                    else if (frame > BufferSize || rd.Available < frame) break;   // later frames: only what is there whole
                    rd.Skip(FrameHeader);
                    if (n == ends.Length)
                    {
                        Array.Resize(ref ends, n * 2);
                        Array.Resize(ref raw, n * 2);
                    }
                    raw[n] = (flags & RawFlag) != 0;
                    if (frame > BufferSize)
                    {
                        try { streamedFrame = ReadGrowing(ref rd, length); }
                        catch
                        {
                            MarkBroken(ring);
                            rd.Publish();
                            throw;
                        }
                        ends[n++] = length;
                        break;   // a streamed frame is a batch of its own
                    }
                    if (buffer.Length - used < length)
                    {
                        var bigger = Bytes.New((int)Math.Min(int.MaxValue, Math.Max((long)used + length, buffer.Length * 2L)));
                        Buffer.BlockCopy(buffer, 0, bigger, 0, used);
                        buffer = bigger;
                    }
                    if (length > 0) fixed (byte* p = &buffer[used]) rd.Read(p, length);
                    used += length;
                    ends[n++] = used;
                    if (used > 1 << 24) break;   // enough for one batch: the rest waits for the next
                }
                rd.Publish();
                Volatile.Write(ref *(int*)(ring + ReaderMid), 0);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMidClear);
            }
            finally
            {
                RobustLock.Release(rlock);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeUnlock);
                if (n == 0) Keep(buffer);   // nothing to decode from it
            }
            if (streamedFrame != null)
            {
                into.Add(raw[0] ? streamedFrame : MessageCodec.Decode(streamedFrame, 0, streamedFrame.Length));
                Keep(buffer);
                return 1;
            }
            // Decoded from the thread's scratch buffer (taken out of its slot above, so a decoder that receives on this
            // thread gets another): a raw frame is copied out, as Recv returns it.
            int i = 0;
            try { for (int start = 0; i < n; start = ends[i++]) into.Add(DecodeFrame(buffer, start, ends[i] - start, raw[i])); }
            catch
            {
                // Frame i would not decode (damaged): as for a queue's batch (IpcQueue.TakeBatch), the frames before it
                // are delivered, it fails the next receive (this one, when it is the first), the ones after it are kept.
                _kept.Keep(buffer, ends, raw, i == 0 ? 1 : i, n);
                Keep(buffer);
                if (i == 0) throw;
                return i;
            }
            Keep(buffer);
            return n;
        }

        /// <summary>A frame's message as Recv returns it: a raw frame as a copy of its bytes, any other decoded.</summary>
        private static object? DecodeFrame(byte[] buffer, int start, int length, bool raw)
        {
            if (!raw) return MessageCodec.Decode(buffer, start, length);
            var bytes = Bytes.New(length);
            Buffer.BlockCopy(buffer, start, bytes, 0, length);
            return bytes;
        }

        private static readonly KeptDecoder DecodeKept = DecodeFrame;
    }
}
