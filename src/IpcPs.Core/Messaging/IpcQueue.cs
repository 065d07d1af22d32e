using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A queue of messages shared by any number of producer and consumer processes (CPython's multiprocessing.Queue,
    /// LifoQueue, PriorityQueue and JoinableQueue). Messages live in the queue's own segment, in 64-byte blocks;
    /// every change is made under a robust lock through a redo log, so a process killed at any point leaves the queue
    /// consistent and every message it had completely put is delivered exactly once. Layout and protocol:
    /// docs/design.md, "Queue".
    /// </summary>
    public sealed unsafe partial class IpcQueue : SyncObject, IMessageChannel
    {
        // State (offsets from the segment's start; i32 but the i64 lock word at 64), all in one cache line with the
        // lock: every operation moves that one line between the processes' caches, and no other line of the header.
        private const int LockWord = 64, Flags = 124, BlockCountOff = 72, CountOff = 76, UsedOff = 80, FreeHeadOff = 84,
            FreshOff = 88, UnfinishedOff = 92, HeadOff = 96, TailOff = 100;
        // Futex words: each counts its kind of event, sleepers say whether a wake-up call is needed.
        private const int PutSignal = 104, GetSleepers = 108, GetSignal = 112, PutSleepers = 116, FreeTailOff = 120;
        private const int JoinSignal = 1984, JoinSleepers = 1988;   // joins are rare: off the hot line
        // Two redo logs, one for puts and one for gets (and TaskDone), so that a producer's log stays in its cache and
        // a consumer's in its own. Only the lock holder writes a log, so at most one is ever published.
        private const int PutLogOffset = 128, GetLogOffset = 1088, BlocksOffset = 2048;

        /// <summary>Block size, and what the first block of a message and each further block carry.</summary>
        public const int BlockSize = 64;
        private const int FirstPayload = BlockSize - 16, NextPayload = BlockSize - 4;
        private const int None = -1;

        /// <summary>The storage a queue gets when none is asked for (sparse: memory is used as messages need it).</summary>
        public const long DefaultCapacity = 16L << 20;
        public const long MinimumCapacity = 4 * BlockSize;
        public const long MaximumCapacity = ((long)int.MaxValue - BlocksOffset) / BlockSize * BlockSize;   // the segment's size is an int

        private static readonly long SpinTicks = SignalWord.DefaultSpinTicks;

        private readonly RedoLog _log;
        private int[] _chain = new int[64];   // the blocks of the message being moved; used only under the lock, like the log
        [ThreadStatic] private static byte[]? _received;   // a got message, decoded after the lock is released
        private readonly KeptMessages _kept = new KeptMessages();   // taken by a batch get, not yet handed out (damage)
        private int _depth = 2;

        private IpcQueue(string name) : base(name, IpcObjectKind.Queue) => _log = new RedoLog(name);

        private protected override long MinimumSize => BlocksOffset + MinimumCapacity;

        /// <summary>
        /// The settings (block count, order, joinable, maximum size) are read once, checked against the segment, and
        /// kept in the handle: links are checked against this block count, so a count changed in shared memory later
        /// can never send a read or a write outside the segment.
        /// </summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            byte* p = (byte*)segment.Address;
            int blocks = Volatile.Read(ref *(int*)(p + BlockCountOff)), flags = Volatile.Read(ref *(int*)(p + Flags));
            int order = flags & 0xFF;
            long maxSize = CapturedParameterA;
            if (blocks < MinimumCapacity / BlockSize || BlocksOffset + (long)blocks * BlockSize > segment.Size || order > 2 || maxSize < 0 || maxSize > int.MaxValue)
                throw Corrupt($"its header claims {blocks} blocks, order {order} and maximum size {maxSize} in a segment of {segment.Size} bytes");
            _settings = new Fixed((int)maxSize, (QueueOrder)order, (flags & 0x100) != 0, blocks);
            _log.Limit = BlocksOffset + (long)blocks * BlockSize;
        }

        internal static IpcQueue Describe(string name) => new IpcQueue(name);

        /// <summary>
        /// Creates a queue. MAXSIZE ≤ 0: no limit on the number of messages (CPython). CAPACITY: bytes of message
        /// storage (each message takes ⌈(length + 16) / 64⌉ blocks at most … see docs). With OPENORCREATE an existing
        /// queue of that name is opened instead (its own settings apply).
        /// </summary>
        public static IpcQueue Create(string? name, int maxSize = 0, long capacity = DefaultCapacity, QueueOrder order = QueueOrder.Fifo,
            bool joinable = false, bool openOrCreate = false)
        {
            if (capacity < MinimumCapacity || capacity > MaximumCapacity)
                throw new ArgumentOutOfRangeException(null, $"A queue's capacity must be {MinimumCapacity} to {MaximumCapacity} bytes.");
            if (!Enum.IsDefined(typeof(QueueOrder), order)) throw new ArgumentOutOfRangeException(null, $"{order} is not a queue order: Fifo, Lifo or Priority.");
            int blocks = (int)(capacity / BlockSize);
            return Make(name, openOrCreate, IpcObjectKind.Queue, BlocksOffset + blocks * BlockSize, Math.Max(maxSize, 0), 0,
                n => new IpcQueue(n), Init(blocks, order, joinable)).Handle;
        }

        /// <summary>
        /// A FIFO queue of CAPACITY bytes in memory of this process's own, with no name (nothing to remove, nothing left
        /// if the process is killed; no other process can open it): the same code as a named queue's runs on it. For a
        /// spare's warm-up (SpareWarmUp), which must leave nothing behind if the spare is killed mid-round. Invariant: one
        /// thread uses it, and closes it once its calls have returned (Close unmaps it at once, unlike a named queue's).
        /// </summary>
        internal static IpcQueue CreateUnnamed(long capacity)
        {
            if (capacity < MinimumCapacity || capacity > MaximumCapacity)
                throw new ArgumentOutOfRangeException(null, $"A queue's capacity must be {MinimumCapacity} to {MaximumCapacity} bytes.");
            int blocks = (int)(capacity / BlockSize);
            return MakeUnnamed(IpcObjectKind.Queue, BlocksOffset + blocks * BlockSize, 0, 0, n => new IpcQueue(n), Init(blocks, QueueOrder.Fifo, false));
        }

        /// <summary>A new queue's state: its settings, and empty free list and message list.</summary>
        private static Action<IntPtr> Init(int blocks, QueueOrder order, bool joinable)
        {
            int flags = (int)order | (joinable ? 0x100 : 0);
            return b =>
            {
                byte* p = (byte*)b;
                *(int*)(p + Flags) = flags;
                *(int*)(p + BlockCountOff) = blocks;
                *(int*)(p + FreeHeadOff) = None;
                *(int*)(p + FreeTailOff) = None;
                *(int*)(p + HeadOff) = None;
                *(int*)(p + TailOff) = None;
            };
        }

        /// <summary>The most messages it holds; 0: no limit but its capacity.</summary>
        public int MaxSize => Settings.MaxSize;

        public QueueOrder Order => Settings.Order;

        bool IMessageChannel.TakesPriority => Order == QueueOrder.Priority;

        /// <summary>True for a JoinableQueue (TaskDone and Join).</summary>
        public bool IsJoinable => Settings.Joinable;

        /// <summary>The settings fixed at creation, captured on attach (the hot paths use them).</summary>
        private Fixed Settings
        {
            get
            {
                var f = _settings;
                if (f is null) { _ = LookBase; f = _settings!; }
                return f;
            }
        }

        private Fixed? _settings;

        private sealed class Fixed
        {
            public readonly int MaxSize, BlockCount;
            public readonly QueueOrder Order;
            public readonly bool Joinable;
            public readonly long MaxMessageLength;

            public Fixed(int maxSize, QueueOrder order, bool joinable, int blockCount)
            {
                MaxSize = maxSize;
                Order = order;
                Joinable = joinable;
                BlockCount = blockCount;
                MaxMessageLength = FirstPayload + (long)(blockCount - (order == QueueOrder.Priority ? 2 : 1)) * NextPayload;
            }
        }

        /// <summary>Bytes of message storage.</summary>
        public long Capacity => (long)BlockCount * BlockSize;

        /// <summary>Bytes of storage the queued messages take now.</summary>
        public long UsedBytes => (long)Volatile.Read(ref *LookWord(UsedOff)) * BlockSize;

        /// <summary>The largest message (encoded bytes) that can ever fit.</summary>
        public long MaxMessageLength => Settings.MaxMessageLength;

        /// <summary>Items put and not yet marked done with TaskDone (a joinable queue; 0 otherwise).</summary>
        public int UnfinishedTasks => Volatile.Read(ref *LookWord(UnfinishedOff));

        /// <summary>How deep the PowerShell serializer goes into objects that are not primitives; per handle, default 2.</summary>
        public int SerializationDepth
        {
            get => _depth;
            set => _depth = value >= 1 ? value : throw new ArgumentOutOfRangeException(null, "The depth must be at least 1.");
        }

        /// <summary>Getters asleep on the empty queue now, in every process (one in its first microseconds spins and is not counted).</summary>
        public int WaiterCount => Volatile.Read(ref *LookWord(GetSleepers));

        /// <summary>Putters asleep on the full queue now, in every process.</summary>
        public int PutWaiterCount => Volatile.Read(ref *LookWord(PutSleepers));

        /// <summary>Joiners (Join, Wait-IpcQueue) asleep now, in every process.</summary>
        public int JoinWaiterCount => Volatile.Read(ref *LookWord(JoinSleepers));

        private int BlockCount => Settings.BlockCount;

        /// <summary>
        /// The number of messages in the queue (exact, unlike CPython's), and those this handle keeps: a batch get that
        /// met a damaged message keeps the ones after it, which this handle's next gets hand out first (design.md,
        /// "Damaged messages in a batch"). Empty() agrees with it, so Empty() false means Get(false) has one to give.
        /// </summary>
        public int QSize() => Volatile.Read(ref *LookWord(CountOff)) + _kept.Count;

        /// <summary>
        /// The number of messages in the queue now (as QSize(); what a PowerShell user reaches for first). The queue is
        /// not a collection: PowerShell does not enumerate it, and Receive-IpcMessage takes its messages.
        /// </summary>
        public int Count => QSize();

        public bool Empty() => QSize() == 0;

        /// <summary>True when MaxSize messages are in it, or its storage is used up (messages a handle keeps take neither).</summary>
        public bool Full()
        {
            int max = MaxSize;
            return max > 0 && Volatile.Read(ref *LookWord(CountOff)) >= max || Volatile.Read(ref *LookWord(UsedOff)) >= BlockCount;
        }

        private protected override void OnClose() => _kept.Clear();   // what the handle kept goes with it

        public override string ToString() => IsClosed ? $"Queue('{Name}', closed)" : $"Queue('{Name}', {Order}, {QSize()} messages)";
    }
}
