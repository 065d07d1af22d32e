using System;
using System.Collections.Generic;
using System.IO;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// POSIX shared memory as glibc's shm_open does it: the file /dev/shm/NAME, opened O_RDWR (create: O_CREAT|O_EXCL,
    /// mode 0600), sized with ftruncate, mapped MAP_SHARED. CPython's SharedMemory(name=NAME) sees the same bytes.
    /// Trust: /dev/shm is writable by every user, so any name may hold a file another user planted (protected_regular
    /// does not cover opens without O_CREAT). Every open checks, on the open descriptor (fstat, so nothing can be
    /// swapped in between), that the file is a regular file of this effective user, and never follows a symlink;
    /// anything else is refused with <see cref="IpcObjectOwnerException"/> (or not-found for a non-file). Unlink
    /// checks the owner too: even root never removes another user's segment by name.
    /// </summary>
    internal sealed class LinuxSharedMemory : ISharedMemoryPlatform
    {
        public const string Root = "/dev/shm";

        public static string PathOf(string name) => Root + "/" + name;

        public bool UnlinkRemovesName => true;

        /// <summary>WAITABLE changes nothing here: futexes need no side table.</summary>
        public Segment Create(string name, long size, bool waitable = false)
        {
            int fd = Posix.TryOpen(PathOf(name), LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW, 0x180 /* 0600 */);
            if (fd == -Errno.EEXIST) throw Taken(name);
            if (fd < 0) throw new IpcPlatformException("open", -fd, name);
            try
            {
                Posix.FTruncate(fd, size, name);
                return new LinuxSegment(name, size, Posix.Map(fd, size, name));
            }
            catch
            {
                Posix.Unlink(PathOf(name), name);   // never leave a half-made segment behind (CPython does, §11.5)
                throw;
            }
            finally { Posix.Close(fd); }
        }

        /// <summary>An anonymous shared mapping: zeroed, no file; futexes work on it as on a named one.</summary>
        public Segment CreateUnnamed(string label, long size, bool waitable = false)
        {
            if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "A segment holds at least one byte.");
            return new LinuxSegment(label, size, Posix.MapAnonymous(size, label));
        }

        public Segment Open(string name, bool waitable = false)
        {
            int fd = OpenChecked(name, LibC.O_RDWR, out var st);
            try
            {
                if (st.Size == 0) throw new IpcObjectKindException(name, $"The shared memory segment '{name}' is empty (0 bytes) and cannot be mapped.");
                return new LinuxSegment(name, st.Size, Posix.Map(fd, st.Size, name));
            }
            finally { Posix.Close(fd); }
        }

        public byte[] Peek(string name, int count)
        {
            int fd = OpenChecked(name, LibC.O_RDONLY, out var st);
            try { return Posix.ReadAt(fd, (int)Math.Min(count, st.Size), 0, name); }
            finally { Posix.Close(fd); }
        }

        public IpcException Taken(string name) =>
            OwnerOf(name) is uint uid && uid != Me ? new IpcObjectOwnerException(name, uid) : (IpcException)new IpcObjectExistsException(name);

        public bool Unlink(string name)
        {
            if (OwnerOf(name) is uint uid && uid != Me) throw new IpcObjectOwnerException(name, uid);
            return Posix.Unlink(PathOf(name), name);
        }

        private static readonly uint Me = LibC.geteuid();

        /// <summary>The owner of /dev/shm/NAME itself (a symlink is not followed), or null when absent.</summary>
        private static uint? OwnerOf(string name) => Posix.LStat(PathOf(name))?.Uid;

        /// <summary>
        /// Opens NAME (never through a symlink) and checks on the descriptor that it is a regular file of this user.
        /// A file of another user that this user may not even open (mode 0600) is reported as that user's, too.
        /// </summary>
        private static int OpenChecked(string name, int flags, out FileStatus st)
        {
            int fd = Posix.TryOpen(PathOf(name), flags | LibC.O_NOFOLLOW, 0);
            if (fd == -Errno.ENOENT) throw new IpcObjectNotFoundException(name);
            if (fd < 0)
            {
                // ELOOP: a symlink; EACCES: a file we may not open; EISDIR: a folder. Whose is it?
                if (OwnerOf(name) is uint owner && owner != Me) throw new IpcObjectOwnerException(name, owner);
                if (fd == -Errno.EISDIR || fd == -Errno.ELOOP) throw new IpcObjectNotFoundException(name);
                throw new IpcPlatformException("open", -fd, name);
            }
            try
            {
                st = Posix.FStat(fd, name);
                if (st.Uid != Me) throw new IpcObjectOwnerException(name, st.Uid);
                if (!st.IsRegularFile) throw new IpcObjectNotFoundException(name);
                return fd;
            }
            catch
            {
                Posix.Close(fd);
                throw;
            }
        }

        public bool Exists(string name) => Posix.Stat(PathOf(name)) is FileStatus st && st.IsRegularFile;

        public long? SizeOf(string name) => Posix.Stat(PathOf(name)) is FileStatus st && st.IsRegularFile ? st.Size : (long?)null;

        public IEnumerable<string> List()
        {
            uint me = LibC.geteuid();
            string[] paths;
            try { paths = Directory.GetFiles(Root); }
            catch (IOException e) when (IpcPlatformException.OutOfDescriptors("open", e, Root) is IpcPlatformException p) { throw p; }
            foreach (var path in paths)
            {
                string name = Path.GetFileName(path);
                if (name.StartsWith(".", StringComparison.Ordinal) || name.StartsWith("sem.", StringComparison.Ordinal)) continue;
                if (Posix.Stat(path) is FileStatus st && st.IsRegularFile && st.Uid == me) yield return name;
            }
        }

        private sealed class LinuxSegment : Segment
        {
            public LinuxSegment(string name, long size, IntPtr address) : base(name, size, address) { }

            protected override bool ReleaseHandle()
            {
                Posix.Unmap(handle, Size);
                return true;
            }
        }
    }
}
