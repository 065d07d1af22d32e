using System;
using System.Linq;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs
{
    /// <summary>
    /// A named IPC object. Every kind is backed by a segment of the same name. A handle from Get-IpcObject is only
    /// described: reading it (its properties, ToString, what it holds) looks at the segment through a private mapping
    /// and never makes this process a holder; the first use that acts on the object (a write, a put or get, an acquire,
    /// a wait, <see cref="Open"/>) attaches it. Close releases this handle; the object itself is destroyed by its last
    /// closer, by <see cref="Unlink"/> or Remove-IpcObject, or by the scope that created it (docs/design.md,
    /// "Lifecycle"). A handle whose object was destroyed raises <see cref="IpcObjectRemovedException"/> on every use.
    /// </summary>
    public abstract class IpcObject : IDisposable
    {
        private const int Described = 0, Attached = 1, Closed = 2;
        private int _state;
        private bool _borrowed;   // a view on another handle's mapping (ShareableList.SharedMemory): holds nothing of its own
        private bool _unnamed;    // on memory of this process's own (SyncObject.MakeUnnamed): no name, no registry record
        private Segment? _segment;
        private Segment? _view;   // a described handle's look at the segment: mapped, validated, never registered
        private long _attachedAt;   // ObjectLifecycle.RemovalStamp when this handle attached (see ThrowIfRemoved)
        private long _checkedAt;    // the last RemovalStamp this handle checked its name against
        private readonly object _attachGate = new object();

        private protected IpcObject(string name, IpcObjectKind kind)
        {
            Name = name;
            Kind = kind;
        }

        /// <summary>The name other processes open the object by.</summary>
        public string Name { get; }

        public IpcObjectKind Kind { get; }

        /// <summary>The process that created the object; null for a foreign segment.</summary>
        public int? CreatorPid => Record?.Creator.Pid;

        /// <summary>When the object was created (UTC); null for a foreign segment.</summary>
        public DateTime? Created => Record is RegistryRecord r ? r.CreatedUtc : (DateTime?)null;

        /// <summary>Live processes that hold the object open now.</summary>
        public int[] HolderPids => (Platforms.Current.Registry.Read(Name)?.LiveHolders ?? Enumerable.Empty<ProcessIdentity>())
            .Select(p => p.Pid).ToArray();

        /// <summary>How the object stands now (read from the registry on each call).</summary>
        public IpcObjectStatus Status => IpcObjects.StatusOf(Name, Platforms.Current.Registry.Read(Name));

        /// <summary>True once this handle has been closed.</summary>
        public bool IsClosed => Volatile.Read(ref _state) == Closed;

        /// <summary>
        /// The size of the object's segment in bytes: a SharedMemory's size; for the other kinds, the IpcPs header and the
        /// kind's state (a queue's storage, a pipe's buffers, an array's elements…). Reading it opens nothing.
        /// </summary>
        public long Size => MappedSize ?? (DescribedSize >= 0 ? DescribedSize : LookSegment.Size);

        /// <summary>The segment's size as a listing found it (-1: not known yet).</summary>
        internal long DescribedSize { get; set; } = -1;

        /// <summary>True while this handle is attached: this process holds the object through it.</summary>
        public bool IsOpen => Volatile.Read(ref _state) == Attached;

        internal RegistryRecord? Record { get; set; }

        /// <summary>The mapping, attaching on first use (a use: this process becomes a holder). Throws once closed or removed.</summary>
        private protected Segment Segment
        {
            get
            {
                var s = Volatile.Read(ref _segment);
                if (s != null && Volatile.Read(ref _state) == Attached)
                {
                    if (ObjectLifecycle.RemovalStamp != Volatile.Read(ref _checkedAt)) ThrowIfRemoved();
                    return s;
                }
                return AttachNow();
            }
        }

        /// <summary>
        /// The mapping to read from (a look): the attached one, or for a described handle a mapping of its own that
        /// does not register this process as a holder, so listing and showing objects never keeps them alive.
        /// </summary>
        private protected Segment LookSegment
        {
            get
            {
                var s = Volatile.Read(ref _segment);
                if (s != null && Volatile.Read(ref _state) == Attached) return s;
                return Volatile.Read(ref _view) ?? MapView();
            }
        }

        /// <summary>Size of the mapping once attached (still known after Close); null while only described.</summary>
        private protected long? MappedSize => Volatile.Read(ref _segment)?.Size;

        /// <summary>Start of the mapping once attached (still valid after Close for kinds that do not unmap then); else zero.</summary>
        private protected IntPtr MappedAddress => Volatile.Read(ref _segment)?.Address ?? IntPtr.Zero;

        /// <summary>Maps a described handle for reading (the checks of an open, nothing registered); nothing for an open one.</summary>
        internal void Look() => _ = LookSegment;

        /// <summary>Attaches this handle now if it is only described (this process becomes a holder). Idempotent.</summary>
        public void Open() => _ = Segment;

        /// <summary>Releases this handle (idempotent). The object lives on while other handles or processes hold it.</summary>
        public void Close()
        {
            int was = Interlocked.Exchange(ref _state, Closed);
            // A look's mapping goes too; one a cached pointer may still read stays until collected, but gives up the
            // name now (Windows: the name lives while a handle does, so the object would outlive its last Close).
            if (UnmapOnClose) Interlocked.Exchange(ref _view, null)?.Dispose();
            else Volatile.Read(ref _view)?.CloseName();
            if (was == Closed || _borrowed) return;
            if (_unnamed)
            {
                // Unmapped at once, whatever the kind: an unnamed object is its creator's thread's alone (CreateUnnamed),
                // so no call can still be inside it, and nothing else would ever release it (Windows: SegmentRanges
                // holds every waitable segment until it is released).
                _segment?.Dispose();
                return;
            }
            if (was == Attached)
            {
                if (UnmapOnClose) _segment?.Dispose();   // unmaps once no Read/Write on another thread still uses it
                else _segment?.CloseName();   // the mapping stays until collected, but the name must go with the handle (Windows)
                ObjectLifecycle.Release(Name);
            }
            OnClose();   // a described handle too: what its uses opened (a Value's lock by GetLock) goes with it
        }

        /// <summary>True while nothing was destroyed in this process since this handle last checked (a fast path may skip the check).</summary>
        private protected bool RemovalUnchanged => ObjectLifecycle.RemovalStamp == Volatile.Read(ref _checkedAt);

        /// <summary>
        /// Throws <see cref="IpcObjectRemovedException"/> when this process destroyed the object after this handle
        /// attached. (Kinds with the IpcPs header also carry a mark in the segment, which every process sees.)
        /// </summary>
        private protected void ThrowIfRemoved()
        {
            long now = ObjectLifecycle.RemovalStamp;
            if (ObjectLifecycle.RemovedAt(Name) > _attachedAt) throw new IpcObjectRemovedException(Name, Kind);
            Volatile.Write(ref _checkedAt, now);
        }

        public void Dispose() => Close();

        /// <summary>Destroys the object's name now, whoever holds it (CPython's unlink): mappings stay valid, new opens fail.</summary>
        public void Unlink()
        {
            if (!ObjectLifecycle.Destroy(Name)) throw new IpcObjectNotFoundException(Name);
        }

        /// <summary>Opens what this handle needs besides its own segment (a condition's lock), once attached.</summary>
        private protected virtual void OnAttached() { }

        /// <summary>Closes what this handle holds besides its own segment (a condition's lock).</summary>
        private protected virtual void OnClose() { }

        /// <summary>
        /// Whether Close unmaps at once. Synchronisation objects say no: their hot paths use a cached pointer with no
        /// reference counting, so the mapping stays until the handle is garbage-collected (the SafeHandle finalizer),
        /// when no thread can still be inside a call.
        /// </summary>
        private protected virtual bool UnmapOnClose => true;

        /// <summary>Whether the kind's segment holds words that waits sleep on (see ISharedMemoryPlatform.Create).</summary>
        private protected virtual bool Waitable => false;

        /// <summary>Checks a freshly mapped segment (a kind with a header verifies its magic here).</summary>
        private protected virtual void Validate(Segment segment) { }

        private protected void ThrowIfClosed()
        {
            // Not ToString(): the kinds' ToString reads their state, which checks for Close again.
            // No object name: .NET would append "Object name: '…'." to the message, which already says which.
            if (IsClosed) throw new ObjectDisposedException(null, $"The {Kind} '{Name}' is closed.");
        }

        internal void AttachCreated(Segment segment, RegistryRecord? record)
        {
            _attachedAt = _checkedAt = ObjectLifecycle.RemovalStamp;
            _segment = segment;
            Record = record;
            Volatile.Write(ref _state, Attached);
        }

        /// <summary>Makes this handle a view on SEGMENT, which another handle holds: Close releases nothing.</summary>
        internal void AttachBorrowed(Segment segment, RegistryRecord? record)
        {
            _borrowed = true;
            AttachCreated(segment, record);
        }

        /// <summary>Attaches SEGMENT, this process's own unnamed memory: Close releases no name and no registry record.</summary>
        internal void AttachUnnamed(Segment segment)
        {
            _unnamed = true;
            AttachCreated(segment, null);
        }

        private Segment AttachNow()
        {
            lock (_attachGate)
            {
                ThrowIfClosed();
                if (_state == Attached) return _segment!;
                var segment = ObjectLifecycle.Attach(Name, record =>
                {
                    var kind = record?.Kind ?? Kind;   // no record: a foreign or record-less segment; its header is checked by Validate
                    if (kind != Kind) throw new IpcObjectKindException(Name, $"'{Name}' is a {kind}, not a {Kind}.");
                    var s = Platforms.Current.SharedMemory.Open(Name, Waitable);
                    try { Validate(s); }
                    catch { s.Dispose(); throw; }
                    Record = record;
                    return s;
                });
                AttachCreated(segment, Record);
                OnAttached();
                return segment;
            }
        }

        /// <summary>Maps the segment for reading only: the same checks as an attach, nothing registered.</summary>
        private Segment MapView()
        {
            lock (_attachGate)
            {
                ThrowIfClosed();
                if (_state == Attached) return _segment!;
                if (_view != null) return _view;
                var record = Platforms.Current.Registry.Read(Name);
                if (record != null && record.IsRemoved) throw new IpcObjectNotFoundException(Name);   // Windows: a tombstone hides the name
                var kind = record?.Kind ?? Kind;
                if (kind != Kind) throw new IpcObjectKindException(Name, $"'{Name}' is a {kind}, not a {Kind}.");
                record?.ThrowIfOtherNamespace(Name);
                var s = Platforms.Current.SharedMemory.Open(Name);
                try { Validate(s); }
                catch { s.Dispose(); throw; }
                if (record != null) Record = record;
                Volatile.Write(ref _view, s);
                return s;
            }
        }
    }
}
