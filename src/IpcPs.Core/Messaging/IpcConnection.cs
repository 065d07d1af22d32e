using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// One end of a pipe (CPython's multiprocessing.Connection from Pipe()). A pipe is one segment holding a byte ring
    /// per direction; each end records the processes that hold it, so a receiver learns that its peer closed or died
    /// (ConnectionClosedException, CPython's EOFError) instead of waiting forever. Layout and protocol: docs/design.md,
    /// "Pipe".
    /// </summary>
    public sealed unsafe partial class IpcConnection : SyncObject, IMessageChannel
    {
        private const int FlagsOff = 64;
        // Holders of each end: 16 i64 slots, each a HolderId (pid and start time) or 0; ReservedBit marks a slot
        // reserved for a child that has not attached yet (its start time 0 when it could not be read).
        private const int EndsOffset = 128, EndStride = 128, Slots = 16, SlotSize = 8;
        private const long ReservedBit = 0x40000000;
        private const int RingsOffset = 512, RingStride = 512;
        private const int DataOffset = 2048;

        public const int DefaultBufferSize = 1 << 20;
        public const int MinimumBufferSize = 4096;
        public const int MaximumBufferSize = 1 << 29;   // two rings and the header stay within an int-sized segment

        // Ring words, from the ring's start.
        private const int WriteLock = 0, Broken = 8, TailOff = 64, DataSignal = 72, ReaderSleepers = 76,
            HeadOff = 128, SpaceSignal = 136, WriterSleepers = 140, ReadLock = 192;

        private static readonly ConcurrentDictionary<IpcConnection, byte> Holding = new ConcurrentDictionary<IpcConnection, byte>();
        private int _holding;   // 1 while this handle has a slot among its end's holders
        private int _depth = 2;
        private bool _noHold;
        private long _lastPrune;

        static IpcConnection() => ObjectLifecycle.Detaching += ReleaseAllEnds;

        private IpcConnection(string name, int end) : base(name, IpcObjectKind.Pipe) => End = end;

        internal static IpcConnection Describe(string name) => new IpcConnection(name, 0);

        /// <summary>
        /// Makes a pipe and returns its two ends, both held by this process. DUPLEX: both ends send and receive; else
        /// the first end only receives and the second only sends (CPython). BUFFERSIZE: bytes per direction, rounded
        /// up to a power of two; bigger messages pass in pieces.
        /// </summary>
        public static IpcConnection[] CreatePipe(string? name = null, bool duplex = true, int bufferSize = DefaultBufferSize)
        {
            if (bufferSize < MinimumBufferSize || bufferSize > MaximumBufferSize)
                throw new ArgumentOutOfRangeException(null, $"A pipe's buffer must be {MinimumBufferSize} to {MaximumBufferSize} bytes.");
            int ring = MinimumBufferSize;
            while (ring < bufferSize) ring <<= 1;
            int rings = duplex ? 2 : 1;
            var first = Make(name, false, IpcObjectKind.Pipe, DataOffset + rings * ring, ring, 0, n => new IpcConnection(n, 0),
                b => *(int*)((byte*)b + FlagsOff) = duplex ? 1 : 0).Handle;
            first.Hold();
            var second = Open(first.Name, 1);
            return new[] { first, second };
        }

        /// <summary>Opens end END (0 or 1) of the pipe NAME, as a child process does with an end it was given.</summary>
        public static IpcConnection Open(string name, int end)
        {
            if (end != 0 && end != 1) throw new ArgumentOutOfRangeException(null, "A pipe has ends 0 and 1.");
            var c = new IpcConnection(IpcName.Validate(name), end);
            c.Open();
            return c;
        }

        /// <summary>Which end of the pipe this is: 0 (the first New-IpcPipe returns) or 1.</summary>
        public int End { get; }

        /// <summary>Whether both ends send and receive; fixed at creation, captured on attach.</summary>
        public bool Duplex { get { _ = LookBase; return _duplex; } }

        private bool _duplex;

        /// <summary>Whether this end receives (a one-way pipe's first end only).</summary>
        public bool Readable => Duplex || End == 0;

        /// <summary>Whether this end sends (a one-way pipe's second end only).</summary>
        public bool Writable => Duplex || End == 1;

        /// <summary>Bytes of buffer per direction.</summary>
        public int BufferSize { get { _ = LookBase; return _ringSize; } }

        private int _ringSize;

        private protected override long MinimumSize => DataOffset + MinimumBufferSize;

        /// <summary>
        /// The ring size and the duplex flag are read once, checked against the segment, and kept: the rings are
        /// addressed with them, so a value changed in shared memory later must never be used.
        /// </summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            byte* p = (byte*)segment.Address;
            long ring = CapturedParameterA;
            bool duplex = (Volatile.Read(ref *(int*)(p + FlagsOff)) & 1) != 0;
            int rings = duplex ? 2 : 1;
            if (ring < MinimumBufferSize || ring > MaximumBufferSize || (ring & (ring - 1)) != 0 || DataOffset + rings * ring > segment.Size)
                throw Corrupt($"its header claims {rings} ring(s) of {ring} bytes in a segment of {segment.Size} bytes");
            _ringSize = (int)ring;
            _duplex = duplex;
        }

        public int SerializationDepth
        {
            get => _depth;
            set => _depth = value >= 1 ? value : throw new ArgumentOutOfRangeException(null, "The depth must be at least 1.");
        }

        /// <summary>The live processes holding the other end now.</summary>
        public int[] PeerPids => LivePids(1 - End);

        private protected override void OnAttached()
        {
            if (!_noHold) Hold();
        }

        private protected override void OnClose()
        {
            _kept.Clear();   // what the handle kept goes with it
            ReleaseEnd();
        }

        /// <summary>A handle that keeps the pipe alive without counting as a holder of END (Start-IpcProcess keeps one while a child runs).</summary>
        internal static IpcConnection OpenWithoutHold(string name, int end)
        {
            var c = new IpcConnection(IpcName.Validate(name), end) { _noHold = true };
            c.Open();
            return c;
        }

        /// <summary>
        /// Makes process PID a holder of this end before it even starts (Start-IpcProcess does this for an end it passes
        /// to a child, the pool for its workers' ends): so a parent that closes its own copy right after starting the
        /// child never lets the peer see a spurious end of the stream before the child has attached. This process keeps
        /// holding the end as long as its handle is open: the peer sees the end of the stream only once every holder has
        /// closed or died (CPython: close your copy after start()).
        /// </summary>
        internal void HandOver(int pid)
        {
            // Reserved: the child adopts this slot when it attaches, rather than taking a second one. Its start time
            // makes the reservation die with it even if its pid is reused before it attaches.
            long start = Core.Platform.Platforms.Current.Processes.Find(pid)?.Start ?? 0;
            if (!TryClaimSlot(End, HolderId.Of(pid, start) | ReservedBit)) throw TooManyHolders();
        }

        public override string ToString() =>
            IsClosed ? $"Connection('{Name}', end {End}, closed)" : $"Connection('{Name}', end {End}, {(Duplex ? "duplex" : Readable ? "receive-only" : "send-only")})";

        // ---- holders --------------------------------------------------------------------------------------------

        private long* Slot(int end, int i) => LongWord(EndsOffset + end * EndStride + SlotSize * i);

        /// <summary>Makes this process a holder of this handle's end (idempotent per handle).</summary>
        private void Hold()
        {
            if (Interlocked.Exchange(ref _holding, 1) == 1) return;
            if (!AdoptReservation() && !TryClaimSlot(End, HolderId.Me))
            {
                _holding = 0;
                throw TooManyHolders();
            }
            Holding[this] = 0;
        }

        private bool AdoptReservation()
        {
            for (int i = 0; i < Slots; i++)
            {
                long v = Volatile.Read(ref *Slot(End, i));
                bool mine = (v & ReservedBit) != 0 && HolderId.Pid(v) == HolderId.MyPid
                    && (HolderId.Start(v) == 0 || HolderId.Start(v) == HolderId.Start(HolderId.Me));
                if (mine && Interlocked.CompareExchange(ref *Slot(End, i), HolderId.Me, v) == v) return true;
            }
            return false;
        }

        private bool TryClaimSlot(int end, long holder)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                for (int i = 0; i < Slots; i++)
                    if (Interlocked.CompareExchange(ref *Slot(end, i), holder, 0) == 0) return true;
                PruneDead(end);   // full: make room from holders that died without closing
            }
            return false;
        }

        private void ReleaseEnd()
        {
            if (Interlocked.Exchange(ref _holding, 0) == 0) return;
            Holding.TryRemove(this, out _);
            byte* b = MappedBase;   // also after Close: a pipe's mapping stays until the handle is collected
            if (b == null) return;
            long* slots = (long*)(b + EndsOffset + End * EndStride);
            for (int i = 0; i < Slots; i++)
                if (Interlocked.CompareExchange(ref slots[i], 0, HolderId.Me) == HolderId.Me) break;
            // Whoever waits on this end's peer re-checks now: a receiver for end of data, a sender for a reader gone.
            bool duplex = (*(int*)(b + FlagsOff) & 1) != 0;
            if (duplex || End == 1) Signal(b, 1 - End, DataSignal);
            if (duplex || End == 0) Signal(b, End, SpaceSignal);
        }

        private static void ReleaseAllEnds()
        {
            foreach (var c in Holding.Keys)
            {
                try { c.ReleaseEnd(); }
                catch (Exception) { /* exiting: a slot left behind is pruned by liveness */ }
            }
        }

        private bool AnyHolder(int end)
        {
            for (int i = 0; i < Slots; i++)
                if (Volatile.Read(ref *Slot(end, i)) != 0) return true;
            return false;
        }

        /// <summary>Frees the slots of END whose process is known to be gone without closing (reserved or not).</summary>
        private void PruneDead(int end)
        {
            _lastPrune = Stopwatch.GetTimestamp();
            for (int i = 0; i < Slots; i++)
            {
                long v = Volatile.Read(ref *Slot(end, i));
                if (v != 0 && Liveness.IsGone(v)) Interlocked.CompareExchange(ref *Slot(end, i), 0, v);
            }
        }

        /// <summary>PruneDead at most every liveness slice: a Poll() loop must not read /proc on every call.</summary>
        private void PruneDeadSometimes(int end)
        {
            if (Stopwatch.GetTimestamp() - _lastPrune >= Stopwatch.Frequency * WordWait.LivenessSliceMs / 1000) PruneDead(end);
        }

        private int[] LivePids(int end)
        {
            var pids = new System.Collections.Generic.List<int>();
            for (int i = 0; i < Slots; i++)
            {
                long v = Volatile.Read(ref *LookLongWord(EndsOffset + end * EndStride + SlotSize * i));
                int pid = HolderId.Pid(v);
                if (v != 0 && !Liveness.IsGone(v) && !pids.Contains(pid)) pids.Add(pid);
            }
            return pids.ToArray();
        }

        private IpcObjectKindException TooManyHolders() =>
            new IpcObjectKindException(Name, $"End {End} of the pipe '{Name}' is already held by {Slots} processes; close it in some first.");
    }
}
