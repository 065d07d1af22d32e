using System;
using System.Threading;

namespace IpcPs
{
    /// <summary>
    /// Base of <see cref="IpcValue"/> and <see cref="IpcArray"/> (CPython's sharedctypes Value and Array): typed elements
    /// in a segment with the IpcPs header, and, unless made with -NoLock, a shared RLock named NAME.lock that every
    /// handle holds open (opened on attach, closed with the handle, as a Condition holds its lock).
    /// Layout (little-endian, never reordered):
    /// <code>
    ///   0..63  IpcPs header (SyncObject): kind Value or Array; parameter A = length in elements
    ///  64  i32 typecode (the ASCII CPython typecode: 'i', 'd', …)
    ///  68  i32 element size in bytes
    ///  72  i32 flags: bit 0 = has a lock
    /// 128  the lock's name (u16 length + UTF-8; 260 bytes), empty without a lock
    /// 512  the elements: length × size bytes, packed (each element naturally aligned)
    /// </code>
    /// Single elements are read and written with one aligned load or store (never torn, not locked); ranges
    /// (<see cref="IpcArray.GetRange"/>, SetRange, ToArray) take the lock, if there is one, for the whole copy.
    /// </summary>
    public abstract unsafe class IpcTypedData : SyncObject, ILockable
    {
        private const int TypeOffset = StateOffset, SizeOffset = StateOffset + 4, FlagsOffset = StateOffset + 8;
        private const int LockName = 128, LockNameCapacity = 260;
        internal const int DataOffset = 512;
        private IpcLock? _lock;
        private IpcDataType? _type;

        private protected IpcTypedData(string name, IpcObjectKind kind) : base(name, kind) { }

        // Captured and checked on attach (Validate); never read from the segment again: another writer could change them.
        private int _length;
        private bool _hasLock;
        private string _lockName = "";

        /// <summary>The element type.</summary>
        public IpcDataType Type { get { _ = LookBase; return _type!; } }

        /// <summary>Number of elements (1 for a Value).</summary>
        public int Length { get { _ = LookBase; return _length; } }

        /// <summary>False when made with -NoLock (CPython's lock=False): then there is no <see cref="GetLock"/>.</summary>
        public bool HasLock { get { _ = LookBase; return _hasLock; } }

        /// <summary>The shared RLock that guards this object (CPython's get_lock()).</summary>
        public IpcLock GetLock()
        {
            var l = Volatile.Read(ref _lock);
            if (l != null) return l;
            if (!HasLock)
                throw new IpcSyncStateException(Name, $"The {Kind} '{Name}' was created with -NoLock: it has no lock. Use a lock of your own (New-IpcLock).");
            var opened = (IpcLock)IpcObjects.Open(_lockName, IpcObjectKind.RLock);
            var raced = Interlocked.CompareExchange(ref _lock, opened, null);
            if (raced == null) return opened;
            opened.Close();
            return raced;
        }

        /// <summary>Takes the lock (so Enter-IpcLock, Use-IpcLock work on the object itself, as CPython's "with value:").</summary>
        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel) => GetLock().TryAcquire(timeout, cancel);

        public bool Acquire() => GetLock().Acquire();
        public bool Acquire(bool block, double timeoutSeconds) => GetLock().Acquire(block, timeoutSeconds);
        public void Release() => GetLock().Release();

        /// <summary>The elements, for a write (or a copy under the lock): attaches on first use.</summary>
        private protected byte* Data => Base + DataOffset;

        /// <summary>The elements, for a read: never attaches (see <see cref="IpcObject"/>).</summary>
        private protected byte* LookData => LookBase + DataOffset;

        /// <summary>Creates the object: its lock first (unless NOLOCK), then the segment, filled from INIT (an IList or null).</summary>
        private protected static T MakeData<T>(string? name, IpcObjectKind kind, IpcDataType type, int length, bool noLock,
            Func<string, T> handle, Action<IpcDataType, IntPtr, int>? init) where T : IpcTypedData
        {
            if (length < 0) throw new ArgumentOutOfRangeException(null, "The length of an Array cannot be negative.");
            name = name is null ? Core.IpcName.Generate() : Core.IpcName.Validate(name);
            var l = noLock ? null : IpcLock.Create(name + ".lock", recursive: true);
            try
            {
                var (obj, _) = Make(name, openOrCreate: false, kind, DataOffset + (long)length * type.Size, length, 0, handle, b =>
                {
                    byte* p = (byte*)b;
                    *(int*)(p + TypeOffset) = type.Code;
                    *(int*)(p + SizeOffset) = type.Size;
                    *(int*)(p + FlagsOffset) = l is null ? 0 : 1;
                    WriteString(b, LockName, LockNameCapacity, l?.Name);
                    init?.Invoke(type, b + DataOffset, length);
                });
                obj._lock = l;
                return obj;
            }
            catch
            {
                l?.Close();
                throw;
            }
        }

        /// <summary>INDEX (negative counts from the end, as in CPython and PowerShell) checked against the length.</summary>
        private protected int Index(int index)
        {
            int length = Length;
            int i = index < 0 ? index + length : index;
            if ((uint)i >= (uint)length)
                throw new ArgumentOutOfRangeException(null, length == 0
                    ? $"Index {index} is outside the {Kind} '{Name}': it is empty."
                    : $"Index {index} is outside the {Kind} '{Name}' of length {length} (valid indexes: {-length} to {length - 1}).");
            return i;
        }

        /// <summary>Runs ACTION under the lock when there is one (an abandoned lock is taken over: the copy goes on).</summary>
        private protected void Locked(Action action)
        {
            if (!HasLock) { action(); return; }
            var l = GetLock();
            l.TryAcquire(Timeout.InfiniteTimeSpan, CancellationToken.None);
            try { action(); }
            finally { l.Release(); }
        }

        private protected override long MinimumSize => DataOffset;

        /// <summary>Reads the type, length, flags and lock name once, checks them against the segment, and keeps them.</summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            byte* b = (byte*)segment.Address;
            var type = IpcDataType.FromCode((char)Volatile.Read(ref *(int*)(b + TypeOffset)));
            int size = Volatile.Read(ref *(int*)(b + SizeOffset));
            long length = CapturedParameterA;
            int flags = Volatile.Read(ref *(int*)(b + FlagsOffset));
            if (type is null) throw Corrupt("its header names an unknown element type");
            if (size != type.Size || length < 0 || length > int.MaxValue || segment.Size < DataOffset + length * type.Size)
                throw Corrupt($"its header claims {length} elements of {size} bytes in a segment of {segment.Size} bytes");
            _lockName = (flags & 1) != 0 ? CapturedString(segment, LockName, LockNameCapacity, "its lock's name") : "";
            _type = type;
            _length = (int)length;
            _hasLock = (flags & 1) != 0;
        }

        private protected override void OnAttached()
        {
            if (HasLock) _ = GetLock();
        }

        private protected override void OnClose() => Interlocked.Exchange(ref _lock, null)?.Close();
    }
}
