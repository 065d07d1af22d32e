using System;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs
{
    /// <summary>
    /// Base of the objects whose state lives in a segment with an IpcPs header (locks, events, …).
    /// Header, at offset 0 of every such segment (little-endian, never reordered):
    /// <code>
    ///  0  u64  magic "IPCPSOB2" — written last by the creator: a segment without it is not (yet) an IpcPs object
    ///          (IPCPSOB1 was the layout with 32-bit lock words that named their holder by pid alone)
    ///  8  i32  kind (IpcObjectKind)
    /// 12  u32  the creator's pid namespace (inode of /proc/self/ns/pid; 0 unknown): every pid in the state is of it
    /// 16  i64  parameter A (kind-specific: maximum value, parties)
    /// 24  f64  parameter B (kind-specific: default timeout)
    /// 32  i32  removed mark: 1 once the object was destroyed (written under the record lock before the unlink);
    ///          every use of a handle checks it (ObjectLifecycle.MarkRemoved)
    /// 36..63   reserved
    /// 64..     the kind's state (see each kind)
    /// </code>
    /// Geometry (the parameters, and each kind's fixed fields: a queue's block count, a pipe's ring size and duplex
    /// flag, a value's type and length) is read from the segment once, in <see cref="Validate"/>, checked there, and
    /// kept in the handle: another writer (a CPython SharedMemory on the same name, a buggy script) may change the
    /// bytes afterwards, and nothing that decides where memory is read or written is ever read from them again.
    /// </summary>
    public abstract unsafe class SyncObject : IpcObject
    {
        internal const long Magic = 0x32424F5350435049;   // "IPCPSOB2"
        internal const int KindOffset = 8, PidNamespaceOffset = 12;
        internal const int StateOffset = 64;
        private byte* _base;

        private protected SyncObject(string name, IpcObjectKind kind) : base(name, kind) { }

        private protected override bool UnmapOnClose => false;

        /// <summary>
        /// Start of the segment, for a use: attaches on first use (this process becomes a holder), throws once closed or
        /// once the object was destroyed (the removed mark). Two volatile reads when warm.
        /// </summary>
        private protected byte* Base
        {
            get
            {
                byte* b = _base;
                if (b != null && !IsClosed && Volatile.Read(ref *(int*)(b + RemovedMark)) == 0) return b;
                return AttachBase();
            }
        }

        /// <summary>
        /// Start of the segment, for a look (a property, ToString, a method that only reports): the attached mapping, or a
        /// described handle's own mapping that registers nothing. Never makes this process a holder; works on a
        /// destroyed object (it shows what the object last held).
        /// </summary>
        private protected byte* LookBase
        {
            get
            {
                byte* b = _base;
                if (b != null && !IsClosed) return b;
                ThrowIfClosed();
                return (byte*)LookSegment.Address;
            }
        }

        private const int RemovedMark = Core.Lifecycle.ObjectLifecycle.RemovedMarkOffset;

        /// <summary>The mapping's start once attached, even after Close (null if never attached); for closing work only.</summary>
        private protected byte* MappedBase => (byte*)MappedAddress;

        private long _parameterA;
        private double _parameterB;

        /// <summary>Parameter A as read and checked on attach (or on a described handle's first look).</summary>
        private protected long ParameterA { get { _ = LookBase; return _parameterA; } }

        /// <summary>Parameter B as read on attach (or on the first look).</summary>
        private protected double ParameterB { get { _ = LookBase; return _parameterB; } }

        /// <summary>For a kind's <see cref="Validate"/>: parameter A as the base captured it (never read twice).</summary>
        private protected long CapturedParameterA => _parameterA;

        private protected int* Word(int offset) => (int*)(Base + offset);

        /// <summary>A 64-bit word (robust lock words, holder ids): OFFSET must be a multiple of 8.</summary>
        private protected long* LongWord(int offset) => (long*)(Base + offset);

        /// <summary>A word to read for a look (see <see cref="LookBase"/>).</summary>
        private protected int* LookWord(int offset) => (int*)(LookBase + offset);

        private protected long* LookLongWord(int offset) => (long*)(LookBase + offset);

        private byte* AttachBase()
        {
            ThrowIfClosed();
            byte* b = (byte*)Segment.Address;
            if (Volatile.Read(ref *(int*)(b + RemovedMark)) != 0) throw new IpcObjectRemovedException(Name, Kind);
            _base = b;
            return b;
        }

        /// <summary>
        /// Checks the header and captures the parameters. Kinds override it to check and capture their own fixed fields,
        /// calling this first and reading each field of the segment exactly once.
        /// </summary>
        private protected override void Validate(Segment segment)
        {
            byte* b = (byte*)segment.Address;
            if (segment.Size < MinimumSize || Volatile.Read(ref *(long*)b) != Magic)
                throw new IpcObjectKindException(Name, $"The segment '{Name}' is not an IpcPs {Kind} (its header is missing or damaged).");
            var kind = (IpcObjectKind)Volatile.Read(ref *(int*)(b + KindOffset));
            if (kind != Kind)
                throw new IpcObjectKindException(Name, $"'{Name}' is a {kind}, not a {Kind}.");
            // Pids in the state (lock words, slots) are of the creator's pid namespace: from another one they would
            // name other processes, and a live holder would look dead.
            uint theirs = Volatile.Read(ref *(uint*)(b + PidNamespaceOffset)), mine = Platforms.Current.Processes.PidNamespace;
            if (theirs != 0 && mine != 0 && theirs != mine) throw new IpcPidNamespaceException(Name, theirs, mine);
            _parameterA = Volatile.Read(ref *(long*)(b + 16));
            _parameterB = BitConverter.Int64BitsToDouble(Volatile.Read(ref *(long*)(b + 24)));
        }

        /// <summary>Every kind with the header has words that waits sleep on (Windows adds their sleepers table).</summary>
        private protected override bool Waitable => true;

        /// <summary>The least a segment of this kind holds: every fixed offset the kind uses lies below it.</summary>
        private protected virtual long MinimumSize => 4096;

        /// <summary>A damaged-segment error for this object: WHAT says what was found.</summary>
        private protected IpcObjectCorruptException Corrupt(string what) => new IpcObjectCorruptException(Name, $"{Kind} '{Name}' is damaged: {what}");

        /// <summary>
        /// Creates (or, with OPENORCREATE, opens if it exists) the object NAME of SIZE bytes; INIT fills the state
        /// before the magic makes the segment valid. Returns the attached handle and whether this call created it.
        /// </summary>
        /// <summary>
        /// A handle on a new object in memory of this process's own (ISharedMemoryPlatform.CreateUnnamed), laid out and
        /// validated as <see cref="Make"/> lays out a named one, but with a generated name that nothing registers: no
        /// other process can open it and nothing is left behind when this process ends, however it ends. The same code
        /// runs on it as on a named object (a spare's warm-up: SpareWarmUp).
        /// </summary>
        private protected static T MakeUnnamed<T>(IpcObjectKind kind, long size, long parameterA, double parameterB,
            Func<string, T> handle, Action<IntPtr> init) where T : SyncObject
        {
            string name = IpcName.Generate();
            var obj = handle(name);
            var s = Platforms.Current.SharedMemory.CreateUnnamed(name, size, waitable: true);
            try
            {
                WriteHeader(s, kind, parameterA, parameterB, init);
                obj.Validate(s);
            }
            catch { s.Dispose(); throw; }
            obj.AttachUnnamed(s);
            return obj;
        }

        /// <summary>A new segment's header and the kind's state (INIT), the magic written last.</summary>
        private static void WriteHeader(Segment s, IpcObjectKind kind, long parameterA, double parameterB, Action<IntPtr> init)
        {
            byte* b = (byte*)s.Address;
            *(int*)(b + KindOffset) = (int)kind;
            *(uint*)(b + PidNamespaceOffset) = Platforms.Current.Processes.PidNamespace;
            *(long*)(b + 16) = parameterA;
            *(double*)(b + 24) = parameterB;
            init(s.Address);
            Volatile.Write(ref *(long*)b, Magic);
        }

        private protected static (T Handle, bool Created) Make<T>(string? name, bool openOrCreate, IpcObjectKind kind, long size,
            long parameterA, double parameterB, Func<string, T> handle, Action<IntPtr> init) where T : SyncObject
        {
            name = name is null ? IpcName.Generate() : IpcName.Validate(name);
            var obj = handle(name);
            Func<Segment> make = () =>
            {
                var s = Platforms.Current.SharedMemory.Create(name, size, waitable: true);
                try
                {
                    WriteHeader(s, kind, parameterA, parameterB, init);
                    return s;
                }
                catch
                {
                    // A state that cannot be written (an action text too long…): leave no headerless segment behind.
                    s.Dispose();
                    Platforms.Current.SharedMemory.Unlink(name);
                    throw;
                }
            };
            if (!openOrCreate)
            {
                var segment = ObjectLifecycle.Create(name, kind, make);
                obj.Validate(segment);   // captures the geometry just written, as an open would
                obj.AttachCreated(segment, Platforms.Current.Registry.Read(name));
                return (obj, true);
            }
            var (seg, created) = ObjectLifecycle.OpenOrCreate(name, kind, make, record =>
            {
                var s = Platforms.Current.SharedMemory.Open(name, waitable: true);
                try { obj.Validate(s); }
                catch { s.Dispose(); throw; }
                return s;
            });
            if (created) obj.Validate(seg);   // an opened one was validated (and captured) as it was opened
            obj.AttachCreated(seg, Platforms.Current.Registry.Read(name));
            return (obj, created);
        }

        /// <summary>For a kind's Validate: the short string at OFFSET of SEGMENT (u16 length + UTF-8), checked against CAPACITY.</summary>
        private protected string CapturedString(Segment segment, int offset, int capacity, string what)
        {
            byte* b = (byte*)segment.Address + offset;
            int length = Volatile.Read(ref *(ushort*)b);
            if (length + 2 > capacity) throw Corrupt($"{what} overruns its field");
            return Encoding.UTF8.GetString(b + 2, length);
        }

        /// <summary>Writes a short UTF-8 string (u16 length, bytes) at OFFSET; CAPACITY bounds length + 2.</summary>
        internal static void WriteString(IntPtr segment, int offset, int capacity, string? text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text ?? "");
            if (bytes.Length + 2 > capacity)
                throw new ArgumentException($"The text is {bytes.Length} bytes in UTF-8; at most {capacity - 2} fit.");
            *(ushort*)((byte*)segment + offset) = (ushort)bytes.Length;
            Marshal.Copy(bytes, 0, segment + offset + 2, bytes.Length);
        }

        private protected string ReadString(int offset, int capacity)
        {
            int length = *(ushort*)(Base + offset);
            if (length + 2 > capacity) throw new IpcObjectKindException(Name, $"The header of '{Name}' is damaged (a string overruns its field).");
            var bytes = new byte[length];
            Marshal.Copy((IntPtr)(Base + offset + 2), bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
