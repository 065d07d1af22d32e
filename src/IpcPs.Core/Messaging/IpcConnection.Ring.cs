using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    // The byte rings (docs/design.md, "Pipe"). Ring r: r = 0 is read by end 0 and written by end 1; r = 1 the reverse
    // (duplex only). Words of a ring: [0] i64 write lock (RobustLock), [8] broken flag, [12] a sender is inside a
    // streamed frame, [16] a receiver is inside a streamed frame; the writer's line: [64] i64 tail (bytes
    // published), [72] data signal, [76] reader sleepers; the reader's line: [128] i64 head (bytes consumed),
    // [136] space signal, [140] writer sleepers; [192] i64 read lock. A frame is i32 length, i32 flags (1 = raw bytes),
    // then the payload; a frame that fits in the ring moves in one piece, so a timeout or Ctrl+C never splits it;
    // a larger one streams, and a sender or receiver that stops in the middle marks the ring broken.
    public sealed unsafe partial class IpcConnection
    {
        internal const int RawFlag = 1;
        private const int FrameHeader = 8;
        private const int WriterMid = 12, ReaderMid = 16;
        private static readonly long SpinTicks = SignalWord.DefaultSpinTicks;

        private int ReadRing => End;
        private int WriteRing => 1 - End;

        private byte* Ring(int r) => Base + RingsOffset + r * RingStride;

        private byte* Data(int r) => Base + DataOffset + (long)r * BufferSize;

        private static void Signal(byte* segment, int r, int word)
        {
            int* w = (int*)(segment + RingsOffset + r * RingStride + word);
            Interlocked.Increment(ref *w);
            WordWait.Wake(w, int.MaxValue);
        }

        /// <summary>Sends one frame: BUFFER[0..LENGTH) then TAIL. False when a frame that fits found no room before DEADLINE.</summary>
        private bool SendFrame(byte[] buffer, int length, byte[]? tail, int flags, Deadline deadline, CancellationToken cancel)
        {
            RequireWritable();
            long total = length + (long)(tail?.Length ?? 0);
            if (total > int.MaxValue - FrameHeader) throw new MessageTooLargeException(Name, total, int.MaxValue - FrameHeader, "a pipe message holds at most");
            Hold();
            int r = WriteRing;
            byte* ring = Ring(r);
            if (!AnyHolder(1 - End)) throw PeerClosed(sending: true);
            long* wlock = (long*)(ring + WriteLock);
            var got = Interlocked.CompareExchange(ref *wlock, RobustLock.Me, 0) == 0 ? AcquireResult.Acquired : RobustLock.Acquire(wlock, deadline, cancel);
            if (got == AcquireResult.TimedOut) return false;   // another sender of this end kept it
            try
            {
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeLock);
                // A sender that died while waiting for the lock, or between frames, broke nothing; one inside a
                // streamed frame left half a frame behind.
                if (got == AcquireResult.Abandoned && Volatile.Read(ref *(int*)(ring + WriterMid)) != 0) MarkBroken(ring);
                if (Volatile.Read(ref *(int*)(ring + Broken)) != 0) throw BrokenRing();
                long frame = FrameHeader + total;
                var w = new RingWriter(this, r, cancel);
                if (frame <= BufferSize)
                {
                    if (!w.WaitForSpace(frame, deadline)) return false;
                    cancel.ThrowIfCancellationRequested();   // stopped while waiting for room: nothing is sent
                }
                long header = (uint)total | ((long)flags << 32);
                w.Write((byte*)&header, FrameHeader);
                try
                {
                    if (length > 0) fixed (byte* p = buffer) w.Write(p, length);
                    if (tail != null && tail.Length > 0) fixed (byte* p = tail) w.Write(p, tail.Length);
                }
                catch
                {
                    // Stopped inside a frame too big to move in one piece: the receiver cannot find the next frame.
                    MarkBroken(ring);
                    w.Publish();
                    throw;
                }
                w.Publish();
                // Cleared only after the frame's last bytes are published: cleared before, a death in between would let
                // the next sender append a frame to half of this one. (A death between the two marks the ring broken
                // although the frame went through whole.)
                Volatile.Write(ref *(int*)(ring + WriterMid), 0);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMidClear);
                return true;
            }
            finally
            {
                RobustLock.Release(wlock);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeUnlock);
            }
        }

        /// <summary>Marks the ring at RING broken: a frame was cut, the stream can no longer be read in step.</summary>
        private static void MarkBroken(byte* ring)
        {
            Volatile.Write(ref *(int*)(ring + Broken), 1);
            if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeBroken);
        }

        /// <summary>
        /// Receives one frame into BUFFER at OFFSET. A growable BUFFER is replaced when too small (by an exact-size array
        /// for a message at least as big as the thread's scratch); a fixed one that is too small gets the frame skipped
        /// and MessageTooLargeException. False when nothing came before DEADLINE.
        /// </summary>
        private bool ReceiveFrame(ref byte[] buffer, int offset, bool growable, out int length, out int flags, Deadline deadline, CancellationToken cancel)
        {
            ThrowIfClosed();
            if (!Readable) throw new InvalidOperationException($"The connection '{Name}' end {End} is send-only.");
            Hold();
            int r = ReadRing;
            byte* ring = Ring(r);
            long* rlock = (long*)(ring + ReadLock);
            length = 0;
            flags = 0;
            var got = Interlocked.CompareExchange(ref *rlock, RobustLock.Me, 0) == 0 ? AcquireResult.Acquired : RobustLock.Acquire(rlock, deadline, cancel);
            if (got == AcquireResult.TimedOut) return false;   // another receiver of this end kept it
            try
            {
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeLock);
                // The receiver before stopped inside a streamed frame (died, or was interrupted): the head stands in the
                // middle of it, and no byte from there on can be read as a frame (a payload may look like a header).
                if (Volatile.Read(ref *(int*)(ring + ReaderMid)) != 0)
                {
                    MarkBroken(ring);
                    throw BrokenRing();
                }
                var rd = new RingReader(this, r, cancel);
                if (!rd.WaitForData(FrameHeader, deadline, midFrame: false)) return false;
                long header;
                rd.Peek((byte*)&header, FrameHeader);
                length = (int)(uint)header;
                flags = (int)(header >> 32);
                if (length < 0 || length > int.MaxValue - FrameHeader) { MarkBroken(ring); throw BrokenRing(); }
                long frame = FrameHeader + (long)length;
                if (frame <= BufferSize && !rd.WaitForData(frame, deadline, midFrame: false)) return false;
                // Stopped (Ctrl+C) while waiting: nothing is consumed (the head is published only after the read).
                cancel.ThrowIfCancellationRequested();
                rd.Skip(FrameHeader);
                bool fits = length <= buffer.Length - offset;
                bool streamed = !fits && growable && frame > BufferSize;
                if (!fits && growable && !streamed)
                {
                    buffer = Bytes.New(length);
                    fits = true;
                }
                try
                {
                    if (streamed) { buffer = ReadGrowing(ref rd, length); fits = true; }
                    else if (!fits) rd.Read(null, length);   // skipped: the connection stays usable
                    else if (length > 0) fixed (byte* p = &buffer[offset]) rd.Read(p, length);
                }
                catch
                {
                    MarkBroken(ring);
                    rd.Publish();
                    throw;
                }
                rd.Publish();
                Volatile.Write(ref *(int*)(ring + ReaderMid), 0);   // after the head, as the sender's flag after the tail
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMidClear);
                if (!fits) throw new MessageTooLargeException(Name, length, buffer.Length - offset, "the buffer has room for");
                return true;
            }
            finally
            {
                RobustLock.Release(rlock);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeUnlock);
            }
        }

        /// <summary>
        /// Reads a streamed frame of LENGTH bytes into an array that grows as the bytes arrive (doubling from four ring
        /// sizes), so a frame header alone — written by a peer that then sends nothing, or by any other writer of the
        /// segment — never makes this process allocate what it claims: memory stays within twice what was received.
        /// </summary>
        private byte[] ReadGrowing(ref RingReader rd, int length)
        {
            var buffer = Bytes.New((int)Math.Min(length, 4L * BufferSize));
            int got = 0;
            while (got < length)
            {
                if (got == buffer.Length)
                {
                    var bigger = Bytes.New((int)Math.Min(length, 2L * buffer.Length));
                    Buffer.BlockCopy(buffer, 0, bigger, 0, got);
                    buffer = bigger;
                }
                int n = buffer.Length - got;
                fixed (byte* p = &buffer[got]) rd.Read(p, n);
                got += n;
            }
            return buffer;
        }

        /// <summary>True when a frame (or the end of the stream) is waiting, after waiting at most until DEADLINE.</summary>
        private bool PollFrame(Deadline deadline, CancellationToken cancel)
        {
            ThrowIfClosed();
            if (!Readable) throw new InvalidOperationException($"The connection '{Name}' end {End} is send-only.");
            if (_kept.Any) return true;   // a batch receive kept messages: the next receive hands one out at once
            Hold();
            var rd = new RingReader(this, ReadRing, cancel);
            try { return rd.WaitForData(1, deadline, midFrame: false); }
            catch (ConnectionClosedException) { return true; }   // CPython: poll is True at EOF, recv then raises
        }

        private ConnectionClosedException PeerClosed(bool sending) =>
            new ConnectionClosedException(Name, sending
                ? $"Cannot send on the connection '{Name}': the other end is closed (its processes closed it or ended)."
                : $"The other end of the connection '{Name}' is closed (its processes closed it or ended), and no message is left.");

        private ConnectionClosedException BrokenRing() =>
            new ConnectionClosedException(Name, $"The connection '{Name}' is broken: a process stopped in the middle of a message (died or was interrupted).");

        /// <summary>The process holding LOCK is dead while MID says it was inside a streamed frame.</summary>
        private static bool HolderDied(long* lockWord, int* mid)
        {
            long holder = RobustLock.Holder(lockWord);
            return holder != 0 && holder != RobustLock.Me && Volatile.Read(ref *mid) != 0 && Liveness.IsGone(holder);
        }

        private IpcObjectCorruptException Damaged() => Corrupt("its ring positions are impossible");

        private ConnectionClosedException ClosedMidFrame() =>
            new ConnectionClosedException(Name, $"The other end of the connection '{Name}' closed in the middle of a message.");

        /// <summary>Waits on one of a ring's signals: spin first, then sleep in liveness slices.</summary>
        /// <summary>True when the signal moved; false after a quiet slice, when the caller checks the peer's liveness.</summary>
        /// <summary>Waits for SIGNAL to move on from SEEN (<see cref="SignalWord"/>), one liveness slice at most: false when it did not.</summary>
        private static bool AwaitSignal(int* signal, int* sleepers, int seen, Deadline deadline, CancellationToken cancel, ref long spinUntil) =>
            SignalWord.Await(signal, sleepers, seen, deadline, cancel, ref spinUntil, SpinTicks, WordWait.LivenessSliceMs);

        private struct RingWriter
        {
            private readonly IpcConnection _c;
            private readonly byte* _ring, _data;
            private readonly long _size;
            private readonly CancellationToken _cancel;
            private long _tail;

            public RingWriter(IpcConnection c, int r, CancellationToken cancel)
            {
                _c = c;
                _ring = c.Ring(r);
                _data = c.Data(r);
                _size = c.BufferSize;
                _cancel = cancel;
                _tail = *(long*)(_ring + TailOff);
            }

            public long Free
            {
                get
                {
                    long used = _tail - Volatile.Read(ref *(long*)(_ring + HeadOff));
                    if (used < 0 || used > _size) throw _c.Damaged();
                    return _size - used;
                }
            }

            /// <summary>Waits until N bytes are free. False at the deadline; ConnectionClosedException when the reader is gone.</summary>
            public bool WaitForSpace(long n, Deadline deadline, bool midFrame = false)
            {
                long spinUntil = 0;
                int* signal = (int*)(_ring + SpaceSignal);
                while (true)
                {
                    int seen = Volatile.Read(ref *signal);
                    if (Free >= n) return true;
                    if (!_c.AnyHolder(1 - _c.End)) throw _c.PeerClosed(sending: true);
                    if (deadline.HasPassed)
                    {
                        _c.PruneDeadSometimes(1 - _c.End);
                        if (!_c.AnyHolder(1 - _c.End)) throw _c.PeerClosed(sending: true);
                        return false;
                    }
                    if (!AwaitSignal(signal, (int*)(_ring + WriterSleepers), seen, deadline, _cancel, ref spinUntil))
                    {
                        _c.PruneDead(1 - _c.End);
                        // The receiver may be another process that still holds the other end but died mid-frame (the
                        // room it made before it died is used first: its last wake-up may be what the death cut off).
                        if (midFrame && Free < n && HolderDied((long*)(_ring + ReadLock), (int*)(_ring + ReaderMid)))
                        {
                            MarkBroken(_ring);
                            throw _c.BrokenRing();
                        }
                    }
                    if (Volatile.Read(ref *(int*)(_ring + Broken)) != 0) throw _c.BrokenRing();
                }
            }

            public void Write(byte* source, long n)
            {
                while (n > 0)
                {
                    long free = Free;
                    if (free == 0)
                    {
                        Volatile.Write(ref *(int*)(_ring + WriterMid), 1);   // part of a frame goes out: a death now breaks the ring
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMid);
                        Publish();
                        WaitForSpace(1, Deadline.Infinite, midFrame: true);
                        continue;
                    }
                    long at = _tail & (_size - 1);
                    long k = Math.Min(Math.Min(n, free), _size - at);
                    Buffer.MemoryCopy(source, _data + at, k, k);
                    if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeData);
                    source += k;
                    n -= k;
                    _tail += k;
                }
            }

            public void Publish()
            {
                Volatile.Write(ref *(long*)(_ring + TailOff), _tail);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipePosition);
                Interlocked.Increment(ref *(int*)(_ring + DataSignal));
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeSignal);
                SignalWord.Wake((int*)(_ring + DataSignal), (int*)(_ring + ReaderSleepers), int.MaxValue);
            }
        }

        private struct RingReader
        {
            private readonly IpcConnection _c;
            private readonly byte* _ring, _data;
            private readonly long _size;
            private readonly CancellationToken _cancel;
            private long _head;

            public RingReader(IpcConnection c, int r, CancellationToken cancel)
            {
                _c = c;
                _ring = c.Ring(r);
                _data = c.Data(r);
                _size = c.BufferSize;
                _cancel = cancel;
                _head = *(long*)(_ring + HeadOff);
            }

            public long Available
            {
                get
                {
                    long a = Volatile.Read(ref *(long*)(_ring + TailOff)) - _head;
                    if (a < 0 || a > _size) throw _c.Damaged();   // head and tail that no sender and receiver could have made
                    return a;
                }
            }

            /// <summary>Waits until N bytes are readable. False at the deadline; ConnectionClosedException at the end of the stream.</summary>
            public bool WaitForData(long n, Deadline deadline, bool midFrame)
            {
                long spinUntil = 0;
                int* signal = (int*)(_ring + DataSignal);
                int writers = 1 - _c.End;
                while (true)
                {
                    int seen = Volatile.Read(ref *signal);
                    if (Available >= n) return true;
                    if (Volatile.Read(ref *(int*)(_ring + Broken)) != 0) throw _c.BrokenRing();
                    if (!_c.AnyHolder(writers) && Available < n)
                        throw Available > 0 || midFrame ? _c.ClosedMidFrame() : _c.PeerClosed(sending: false);
                    if (deadline.HasPassed)
                    {
                        // About to say "nothing yet": first make sure the writers are not all dead (SIGKILL leaves slots).
                        _c.PruneDeadSometimes(writers);
                        if (!_c.AnyHolder(writers) && Available < n)
                            throw Available > 0 || midFrame ? _c.ClosedMidFrame() : _c.PeerClosed(sending: false);
                        return false;
                    }
                    if (!AwaitSignal(signal, (int*)(_ring + ReaderSleepers), seen, deadline, _cancel, ref spinUntil))
                    {
                        _c.PruneDead(writers);
                        // A sender killed inside a streamed frame while another process still holds its end. What it
                        // published before it died is read first: it may have died between the tail and the signal.
                        if (midFrame && Available < n && HolderDied((long*)(_ring + WriteLock), (int*)(_ring + WriterMid)))
                        {
                            MarkBroken(_ring);
                            throw _c.BrokenRing();
                        }
                    }
                }
            }

            public void Peek(byte* target, long n)
            {
                long saved = _head;
                Read(target, n);
                _head = saved;
            }

            public void Skip(long n) => _head += n;

            public void Read(byte* target, long n)
            {
                while (n > 0)
                {
                    long available = Available;
                    if (available == 0)
                    {
                        Volatile.Write(ref *(int*)(_ring + ReaderMid), 1);
                        if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeMid);
                        Publish();
                        WaitForData(1, Deadline.Infinite, midFrame: true);
                        continue;
                    }
                    long at = _head & (_size - 1);
                    long k = Math.Min(Math.Min(n, available), _size - at);
                    if (target != null)
                    {
                        Buffer.MemoryCopy(_data + at, target, k, k);
                        target += k;
                    }
                    n -= k;
                    _head += k;
                }
            }

            public void Publish()
            {
                Volatile.Write(ref *(long*)(_ring + HeadOff), _head);
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipePosition);
                Interlocked.Increment(ref *(int*)(_ring + SpaceSignal));
                if (CrashPoints.Enabled) CrashPoints.Hit(CrashPoints.PipeSignal);
                SignalWord.Wake((int*)(_ring + SpaceSignal), (int*)(_ring + WriterSleepers), int.MaxValue);
            }
        }
    }
}
