using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Named shared memory as CPython's <c>shared_memory</c> makes it on Windows: a file mapping backed by the paging
    /// file, <c>CreateFileMapping(INVALID_HANDLE_VALUE, …, PAGE_READWRITE, size, NAME)</c> with the bare name (the
    /// session's namespace, as <c>Local\NAME</c>), mapped whole. Differences from Linux, all the kernel's:
    /// <list type="bullet">
    /// <item>The whole size is committed at creation (SEC_COMMIT, as CPython): a size memory and the paging file cannot
    /// hold is refused at once (<see cref="CommitRefused"/>), where Linux would allocate as pages are touched.</item>
    /// <item>Sizes are whole pages: an open reads the size of the mapped region (VirtualQuery, as CPython does), a
    /// multiple of 4096 at least the size asked for at creation.</item>
    /// <item>A mapping lives while a handle on it is open (or a view of it is mapped) and its name while a handle is:
    /// the name cannot be removed while another process holds it. <see cref="Unlink"/> removes nothing; the lifecycle
    /// hides a removed name with a tombstone in the registry instead (docs/design.md, "Lifecycle on Windows").</item>
    /// <item>Named objects cannot be enumerated with documented calls: <see cref="List"/> answers the names the
    /// registry knows whose mappings exist. A segment another program made (CPython's) opens by name but is not listed.</item>
    /// </list>
    /// Trust: created with the user-only security descriptor (<see cref="PrivateSecurity"/>); an existing name is never
    /// taken over (ERROR_ALREADY_EXISTS: the handle is closed and the create refused, the O_EXCL of Windows); every open
    /// checks the mapping's owner is the current user (else <see cref="IpcObjectOwnerException"/>), so the bytes of
    /// every segment IpcPs maps were written by this user's processes.
    /// </summary>
    internal sealed unsafe class WindowsSharedMemory : ISharedMemoryPlatform
    {
        private static readonly long Page = Environment.SystemPageSize;
        private const uint ReadWrite = Win32.FILE_MAP_READ | Win32.FILE_MAP_WRITE;
        private readonly IObjectRegistry _registry;

        public WindowsSharedMemory(IObjectRegistry registry) => _registry = registry;

        public bool UnlinkRemovesName => false;

        public Segment Create(string name, long size, bool waitable = false)
        {
            if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "A segment holds at least one byte.");
            long total = waitable ? RoundUp(size) + WaitTable.Size : size;
            var sa = PrivateSecurity.ForObject();
            IntPtr mapping = Win32.CreateFileMapping(Win32.InvalidHandle, &sa, Win32.PAGE_READWRITE, (uint)(total >> 32), (uint)total, name);
            int error = Win32.LastError;
            if (mapping == IntPtr.Zero)
            {
                // ACCESS_DENIED: the name exists and its owner keeps us out; INVALID_HANDLE: it names another kind of object.
                if (error == Win32.ERROR_ACCESS_DENIED) throw new IpcObjectOwnerException(name, "an owner who denies this user access");
                if (error == Win32.ERROR_INVALID_HANDLE) throw new IpcObjectExistsException(name);
                if (PlatformErrors.IsOutOfMemoryWindows(error)) throw CommitRefused(name, total, error);
                throw new IpcPlatformException("CreateFileMapping", error, name);
            }
            if (error == Win32.ERROR_ALREADY_EXISTS)
            {
                // Opened, not created: never take over an existing name (its DACL and bytes are someone else's doing).
                try { throw TakenBy(mapping, name); }
                finally { Win32.CloseHandle(mapping); }
            }
            return Map(mapping, name, waitable, created: true, requested: size);
        }

        /// <summary>A paging-file mapping created without a name: nothing else can open it; it goes with its view.</summary>
        public Segment CreateUnnamed(string label, long size, bool waitable = false)
        {
            if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "A segment holds at least one byte.");
            long total = waitable ? RoundUp(size) + WaitTable.Size : size;
            var sa = PrivateSecurity.ForObject();
            IntPtr mapping = Win32.CreateFileMapping(Win32.InvalidHandle, &sa, Win32.PAGE_READWRITE, (uint)(total >> 32), (uint)total, null);
            if (mapping == IntPtr.Zero)
            {
                int error = Win32.LastError;
                if (PlatformErrors.IsOutOfMemoryWindows(error)) throw CommitRefused(label, total, error);
                throw new IpcPlatformException("CreateFileMapping", error, label);
            }
            return Map(mapping, label, waitable, created: true, requested: size);
        }

        public Segment Open(string name, bool waitable = false) => Map(OpenChecked(name, ReadWrite), name, waitable, created: false, requested: 0);

        public byte[] Peek(string name, int count)
        {
            IntPtr mapping = OpenChecked(name, Win32.FILE_MAP_READ);
            try
            {
                IntPtr view = Win32.MapViewOfFile(mapping, Win32.FILE_MAP_READ, 0, 0, UIntPtr.Zero);
                if (view == IntPtr.Zero) throw new IpcPlatformException("MapViewOfFile", Win32.LastError, name);
                try
                {
                    var bytes = new byte[(int)Math.Min(count, RegionSize(view, name))];
                    fixed (byte* b = bytes) Buffer.MemoryCopy((void*)view, b, bytes.Length, bytes.Length);
                    return bytes;
                }
                finally { Win32.UnmapViewOfFile(view); }
            }
            finally { Win32.CloseHandle(mapping); }
        }

        /// <summary>
        /// Nothing can be removed: the mapping goes with its last handle. True while it still exists; another user's
        /// mapping is refused as on Linux (<see cref="IpcObjectOwnerException"/>).
        /// </summary>
        public bool Unlink(string name)
        {
            var owner = OwnerOfName(name);
            if (owner is null) return false;
            if (!owner.Value.Ours) throw new IpcObjectOwnerException(name, owner.Value.Owner);
            return true;
        }

        public IpcException Taken(string name) =>
            OwnerOfName(name) is (bool, string) o && !o.Ours ? new IpcObjectOwnerException(name, o.Owner) : (IpcException)new IpcObjectExistsException(name);

        /// <summary>Whose the mapping NAME is, or null when there is none.</summary>
        private static (bool Ours, string Owner)? OwnerOfName(string name)
        {
            IntPtr mapping = Win32.OpenFileMapping(Win32.FILE_MAP_READ | Win32.READ_CONTROL, false, name);
            if (mapping == IntPtr.Zero)
                return Win32.LastError == Win32.ERROR_ACCESS_DENIED ? (false, "an owner who denies this user access") : ((bool, string)?)null;
            try { return PrivateSecurity.OwnerOf(mapping, Win32.SE_KERNEL_OBJECT, name); }
            finally { Win32.CloseHandle(mapping); }
        }

        public bool Exists(string name)
        {
            IntPtr mapping = Win32.OpenFileMapping(Win32.FILE_MAP_READ, false, name);
            if (mapping != IntPtr.Zero) { Win32.CloseHandle(mapping); return true; }
            return Win32.LastError == Win32.ERROR_ACCESS_DENIED;   // there, but another user's
        }

        public long? SizeOf(string name)
        {
            IntPtr mapping = Win32.OpenFileMapping(Win32.FILE_MAP_READ, false, name);
            if (mapping == IntPtr.Zero) return null;
            try
            {
                IntPtr view = Win32.MapViewOfFile(mapping, Win32.FILE_MAP_READ, 0, 0, UIntPtr.Zero);
                if (view == IntPtr.Zero) return null;
                try { return RegionSize(view, name); }
                finally { Win32.UnmapViewOfFile(view); }
            }
            finally { Win32.CloseHandle(mapping); }
        }

        public IEnumerable<string> List() => _registry.Names().Where(Exists).ToList();

        /// <summary>
        /// The error of a mapping of TOTAL bytes refused for want of memory to commit (ERROR): a resource limit
        /// (LimitsExceeded) that says the size and why. The mapping is SEC_COMMIT, as CPython's is (SEC_RESERVE would
        /// not interoperate): Windows charges all of it to the commit limit (memory and paging file) when it is made,
        /// where Linux allocates pages as they are first touched, so a size that works on Linux may fail here.
        /// </summary>
        internal static IpcPlatformException CommitRefused(string name, long total, int error) => new IpcPlatformException(
            $"CreateFileMapping of {total} bytes (Windows commits a segment whole when it is made: memory and the paging file must hold all of it at once; ask for less, or free memory)",
            error, name);

        private static long RoundUp(long size) => (size + Page - 1) / Page * Page;

        /// <summary>The error for an existing mapping: another user's (its owner named), or simply "exists".</summary>
        private static IpcException TakenBy(IntPtr mapping, string name)
        {
            var (ours, owner) = PrivateSecurity.OwnerOf(mapping, Win32.SE_KERNEL_OBJECT, name);
            return ours ? new IpcObjectExistsException(name) : (IpcException)new IpcObjectOwnerException(name, owner);
        }

        /// <summary>Opens the mapping NAME with ACCESS (and READ_CONTROL) and checks that the current user owns it.</summary>
        private static IntPtr OpenChecked(string name, uint access)
        {
            IntPtr mapping = Win32.OpenFileMapping(access | Win32.READ_CONTROL, false, name);
            if (mapping == IntPtr.Zero)
            {
                int error = Win32.LastError;
                if (error == Win32.ERROR_FILE_NOT_FOUND || error == Win32.ERROR_INVALID_HANDLE) throw new IpcObjectNotFoundException(name);
                if (error == Win32.ERROR_ACCESS_DENIED) throw new IpcObjectOwnerException(name, "an owner who denies this user access");
                throw new IpcPlatformException("OpenFileMapping", error, name);
            }
            try
            {
                var (ours, owner) = PrivateSecurity.OwnerOf(mapping, Win32.SE_KERNEL_OBJECT, name);
                if (!ours) throw new IpcObjectOwnerException(name, owner);
                return mapping;
            }
            catch
            {
                Win32.CloseHandle(mapping);
                throw;
            }
        }

        private static long RegionSize(IntPtr view, string name)
        {
            Win32.MEMORY_BASIC_INFORMATION info;
            if (Win32.VirtualQuery(view, &info, (UIntPtr)sizeof(Win32.MEMORY_BASIC_INFORMATION)) == UIntPtr.Zero)
                throw new IpcPlatformException("VirtualQuery", Win32.LastError, name);
            return (long)(ulong)info.RegionSize;
        }

        /// <summary>
        /// Maps MAPPING whole (the handle is owned by the segment from here, or closed on failure). A plain segment's
        /// creator sees the REQUESTED size (as on Linux, so New-SharedMemory -Size 10 says 10); an opener cannot know it
        /// and sees the mapping's, whole pages (as CPython's SharedMemory on Windows reports it).
        /// </summary>
        private static WindowsSegment Map(IntPtr mapping, string name, bool waitable, bool created, long requested)
        {
            IntPtr view = IntPtr.Zero;
            try
            {
                view = Win32.MapViewOfFile(mapping, ReadWrite, 0, 0, UIntPtr.Zero);
                if (view == IntPtr.Zero) throw new IpcPlatformException("MapViewOfFile", Win32.LastError, name);
                long region = RegionSize(view, name);
                if (!waitable) return new WindowsSegment(name, created ? Math.Min(requested, region) : region, view, mapping, null, 0);
                if (region < 2 * WaitTable.Size) throw new IpcObjectKindException(name, $"The segment '{name}' is not an IpcPs object (it has no sleepers table).");
                byte* table = (byte*)view + region - WaitTable.Size;
                ulong incarnation = created ? WaitTable.Initialise(table) : WaitTable.Incarnation(table);
                if (incarnation == 0) throw new IpcObjectKindException(name, $"The segment '{name}' is not an IpcPs object (it has no sleepers table).");
                return new WindowsSegment(name, region - WaitTable.Size, view, mapping, table, incarnation);
            }
            catch
            {
                if (view != IntPtr.Zero) Win32.UnmapViewOfFile(view);
                Win32.CloseHandle(mapping);
                throw;
            }
        }
    }

    /// <summary>
    /// One view of a named file mapping, and the mapping's handle that keeps the name alive (closed by
    /// <see cref="CloseName"/>, or with the view). A waitable one is registered with <see cref="SegmentRanges"/> while
    /// mapped, so word waits find its sleepers table.
    /// </summary>
    internal sealed unsafe class WindowsSegment : Segment
    {
        private IntPtr _mapping;

        public WindowsSegment(string name, long size, IntPtr view, IntPtr mapping, byte* table, ulong incarnation) : base(name, size, view)
        {
            _mapping = mapping;
            Table = table;
            Incarnation = incarnation;
            if (table != null) SegmentRanges.Add(this);
        }

        /// <summary>The sleepers table (null when the segment is not waitable).</summary>
        public byte* Table { get; }

        /// <summary>The random number that names this segment's wait objects (see <see cref="WindowsWordWait"/>).</summary>
        public ulong Incarnation { get; }

        public override void CloseName()
        {
            IntPtr mapping = Interlocked.Exchange(ref _mapping, IntPtr.Zero);
            if (mapping != IntPtr.Zero) Win32.CloseHandle(mapping);
        }

        protected override bool ReleaseHandle()
        {
            if (Table != null) SegmentRanges.Remove(this);
            Win32.UnmapViewOfFile(handle);
            CloseName();
            return true;
        }
    }
}
