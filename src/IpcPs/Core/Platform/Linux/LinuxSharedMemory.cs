using System;
using System.Collections.Generic;
using System.IO;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// POSIX shared memory as glibc's shm_open does it: the file /dev/shm/NAME, opened O_RDWR (create: O_CREAT|O_EXCL,
    /// mode 0600), sized with ftruncate, mapped MAP_SHARED. CPython's SharedMemory(name=NAME) sees the same bytes.
    /// </summary>
    internal sealed class LinuxSharedMemory : ISharedMemoryPlatform
    {
        public const string Root = "/dev/shm";

        public static string PathOf(string name) => Root + "/" + name;

        public Segment Create(string name, long size)
        {
            int fd = Posix.TryOpen(PathOf(name), LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL, 0x180 /* 0600 */);
            if (fd == -Errno.EEXIST) throw new IpcObjectExistsException(name);
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

        public Segment Open(string name)
        {
            int fd = Posix.TryOpen(PathOf(name), LibC.O_RDWR | LibC.O_NOFOLLOW, 0);
            if (fd == -Errno.ENOENT || fd == -Errno.EISDIR) throw new IpcObjectNotFoundException(name);
            if (fd < 0) throw new IpcPlatformException("open", -fd, name);
            try
            {
                var st = Posix.FStat(fd, name);
                if (!st.IsRegularFile) throw new IpcObjectNotFoundException(name);
                if (st.Size == 0) throw new IpcObjectKindException(name, $"The shared memory segment '{name}' is empty (0 bytes) and cannot be mapped.");
                return new LinuxSegment(name, st.Size, Posix.Map(fd, st.Size, name));
            }
            finally { Posix.Close(fd); }
        }

        public bool Unlink(string name) => Posix.Unlink(PathOf(name), name);

        public bool Exists(string name) => Posix.Stat(PathOf(name)) is FileStatus st && st.IsRegularFile;

        public long? SizeOf(string name) => Posix.Stat(PathOf(name)) is FileStatus st && st.IsRegularFile ? st.Size : (long?)null;

        public IEnumerable<string> List()
        {
            uint me = LibC.geteuid();
            foreach (var path in Directory.EnumerateFiles(Root))
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
