using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>What fstat/stat tell IpcPs about a file.</summary>
    internal readonly struct FileStatus
    {
        public FileStatus(ulong inode, uint mode, uint uid, long size) { Inode = inode; Mode = mode; Uid = uid; Size = size; }
        public ulong Inode { get; }
        public uint Mode { get; }
        public uint Uid { get; }
        public long Size { get; }
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;
        public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
    }

    /// <summary>Checked wrappers over <see cref="LibC"/>: each retries EINTR and throws <see cref="IpcPlatformException"/> with errno and name.</summary>
    internal static unsafe class Posix
    {
        public static int LastErrno => Marshal.GetLastWin32Error();

        /// <summary>open(2); returns -errno instead of throwing for the errors a caller must tell apart (ENOENT, EEXIST).</summary>
        public static int TryOpen(string path, int flags, uint mode)
        {
            while (true)
            {
                int fd = LibC.open(path, flags | LibC.O_CLOEXEC, mode);
                if (fd >= 0) return fd;
                int e = LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }

        /// <summary>
        /// FD, a result of <see cref="TryOpen"/> or <see cref="TryOpenAt"/>, unless it is "no descriptor left" (EMFILE,
        /// ENFILE): that says nothing about PATH, so no caller may read it as absent, squatted or not ours. Thrown.
        /// </summary>
        public static int NotExhausted(int fd, string path) =>
            fd < 0 && PlatformErrors.IsOutOfDescriptors(-fd) ? throw new IpcPlatformException("open", -fd, path) : fd;

        /// <summary>openat(2) relative to DIR; -errno instead of throwing.</summary>
        public static int TryOpenAt(int dir, string name, int flags, uint mode)
        {
            while (true)
            {
                int fd = LibC.openat(dir, name, flags | LibC.O_CLOEXEC, mode);
                if (fd >= 0) return fd;
                int e = LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }

        /// <summary>
        /// Reads at most BUFFER.Length bytes of the small file PATH (a /proc file: generated whole on the first read);
        /// returns the count, or -errno when it cannot be opened or read. Never throws: a caller tells "no such file"
        /// from "no descriptor left" (EMFILE) by the errno.
        /// </summary>
        public static int TryReadSmallFile(string path, byte[] buffer)
        {
            int fd = TryOpen(path, LibC.O_RDONLY, 0);
            if (fd < 0) return fd;
            try
            {
                int total = 0;
                fixed (byte* b = buffer)
                    while (total < buffer.Length)
                    {
                        long n = (long)LibC.read(fd, b + total, (UIntPtr)(uint)(buffer.Length - total));
                        if (n < 0) { if (LastErrno == Errno.EINTR) continue; return -LastErrno; }
                        if (n == 0) break;
                        total += (int)n;
                    }
                return total;
            }
            finally { Close(fd); }
        }

        /// <summary>kill(PID, 0): false only when no process or thread has that id (ESRCH). Needs no descriptor.</summary>
        public static bool IdExists(int pid) => LibC.kill(pid, 0) == 0 || LastErrno != Errno.ESRCH;

        /// <summary>fstatat(2) of NAME in DIR without following a symlink, or null when it does not exist.</summary>
        public static FileStatus? FStatAt(int dir, string name)
        {
            byte* buf = stackalloc byte[256];
            if (LibC.fstatat(dir, name, buf, LibC.AT_SYMLINK_NOFOLLOW) == 0) return Parse(buf);
            int e = LastErrno;
            if (e == Errno.ENOENT) return null;
            throw new IpcPlatformException("fstatat", e, name);
        }

        /// <summary>unlinkat(2) of NAME in DIR; false when it was already gone.</summary>
        public static bool UnlinkAt(int dir, string name)
        {
            if (LibC.unlinkat(dir, name, 0) == 0) return true;
            int e = LastErrno;
            if (e == Errno.ENOENT) return false;
            throw new IpcPlatformException("unlinkat", e, name);
        }

        public static void Close(int fd) => LibC.close(fd);  // close(2) errors leave nothing to undo on Linux

        public static void Check(int result, string operation, string? name)
        {
            if (result < 0) throw new IpcPlatformException(operation, LastErrno, name);
        }

        public static FileStatus FStat(int fd, string? name)
        {
            byte* buf = stackalloc byte[256];
            Check(LibC.fstat(fd, buf), "fstat", name);
            return Parse(buf);
        }

        /// <summary>stat(2), or null when the path does not exist.</summary>
        public static FileStatus? Stat(string path)
        {
            byte* buf = stackalloc byte[256];
            if (LibC.stat(path, buf) == 0) return Parse(buf);
            int e = LastErrno;
            if (e == Errno.ENOENT) return null;
            throw new IpcPlatformException("stat", e, path);
        }

        /// <summary>lstat(2): the path itself, not what a symlink points to; null when it does not exist.</summary>
        public static FileStatus? LStat(string path)
        {
            byte* buf = stackalloc byte[256];
            if (LibC.fstatat(AtFdCwd, path, buf, LibC.AT_SYMLINK_NOFOLLOW) == 0) return Parse(buf);
            int e = LastErrno;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) return null;
            throw new IpcPlatformException("lstat", e, path);
        }

        private const int AtFdCwd = -100;

        /// <summary>Reads up to COUNT bytes at OFFSET (fewer at the end of the file).</summary>
        public static byte[] ReadAt(int fd, int count, long offset, string name)
        {
            var bytes = new byte[count];
            int done = 0;
            fixed (byte* p = bytes)
                while (done < count)
                {
                    long n = (long)LibC.pread(fd, p + done, (UIntPtr)(uint)(count - done), offset + done);
                    if (n < 0) { if (LastErrno == Errno.EINTR) continue; throw new IpcPlatformException("read", LastErrno, name); }
                    if (n == 0) break;
                    done += (int)n;
                }
            if (done < count) Array.Resize(ref bytes, done);
            return bytes;
        }

        // struct stat: st_ino is at 8 on both ABIs; x86-64 puts st_nlink (8 bytes) before st_mode, arm64 after it.
        private static FileStatus Parse(byte* b)
        {
            bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
            ulong ino = *(ulong*)(b + 8);
            uint mode = *(uint*)(b + (x64 ? 24 : 16));
            uint uid = *(uint*)(b + (x64 ? 28 : 24));
            long size = *(long*)(b + 48);
            return new FileStatus(ino, mode, uid, size);
        }

        public static void FTruncate(int fd, long size, string name)
        {
            while (LibC.ftruncate(fd, size) < 0)
                if (LastErrno != Errno.EINTR) throw new IpcPlatformException("ftruncate", LastErrno, name);
        }

        public static IntPtr Map(int fd, long size, string name)
        {
            IntPtr p = LibC.mmap(IntPtr.Zero, (UIntPtr)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, IntPtr.Zero);
            if (p == new IntPtr(-1)) throw new IpcPlatformException("mmap", LastErrno, name);
            return p;
        }

        /// <summary>SIZE zeroed bytes mapped MAP_SHARED | MAP_ANONYMOUS (no file behind them).</summary>
        public static IntPtr MapAnonymous(long size, string name)
        {
            IntPtr p = LibC.mmap(IntPtr.Zero, (UIntPtr)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_ANONYMOUS, -1, IntPtr.Zero);
            if (p == new IntPtr(-1)) throw new IpcPlatformException("mmap", LastErrno, name);
            return p;
        }

        public static void Unmap(IntPtr address, long size) => LibC.munmap(address, (UIntPtr)(ulong)size);

        /// <summary>unlink(2); false when the path was already gone.</summary>
        public static bool Unlink(string path, string? name)
        {
            if (LibC.unlink(path) == 0) return true;
            int e = LastErrno;
            if (e == Errno.ENOENT) return false;
            throw new IpcPlatformException("unlink", e, name ?? path);
        }

        public static void Lock(int fd, int operation, string name)
        {
            while (LibC.flock(fd, operation) < 0)
                if (LastErrno != Errno.EINTR) throw new IpcPlatformException("flock", LastErrno, name);
        }

        public static string ReadAllText(int fd, string name)
        {
            var ms = new MemoryStream();
            byte* buf = stackalloc byte[4096];
            while (true)
            {
                long n = (long)LibC.read(fd, buf, (UIntPtr)4096);
                if (n < 0) { if (LastErrno == Errno.EINTR) continue; throw new IpcPlatformException("read", LastErrno, name); }
                if (n == 0) break;
                for (int i = 0; i < n; i++) ms.WriteByte(buf[i]);
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }

        /// <summary>Replaces a small file's content: write at 0, then truncate to the new length.</summary>
        public static void Rewrite(int fd, string text, string name) => Rewrite(fd, Encoding.UTF8.GetBytes(text), name);

        /// <summary>Replaces a small file's content with BYTES: write at 0, then truncate to their length.</summary>
        public static void Rewrite(int fd, byte[] bytes, string name)
        {
            fixed (byte* p = bytes)
            {
                long done = 0;
                while (done < bytes.Length)
                {
                    long n = (long)LibC.pwrite(fd, p + done, (UIntPtr)(ulong)(bytes.Length - done), done);
                    if (n < 0) { if (LastErrno == Errno.EINTR) continue; throw new IpcPlatformException("write", LastErrno, name); }
                    done += n;
                }
            }
            FTruncate(fd, bytes.Length, name);
        }
    

        /// <summary>
        /// setenv(3) NAME to VALUE, or unsetenv(3) it when VALUE is null: libc's environment, the one native code reads
        /// (getenv). Not thread-safe against a getenv on another thread (glibc may move the table): call it only where no
        /// other thread of this process reads the environment natively.
        /// </summary>
        public static void SetEnvironment(string name, string? value)
        {
            if ((value is null ? LibC.unsetenv(name) : LibC.setenv(name, value, 1)) != 0)
                throw new IpcPlatformException(value is null ? "unsetenv" : "setenv", LastErrno, name);
        }

        /// <summary>
        /// Whether descriptor FD is a pipe (or socket) whose writing end is closed: poll(2) without waiting reports
        /// POLLHUP. Reads nothing; false when that cannot be told (poll failed, a terminal, a file).
        /// </summary>
        public static bool PeerClosed(int fd)
        {
            var p = new LibC.PollFd { Fd = fd, Events = LibC.POLLIN };
            return LibC.poll(&p, (UIntPtr)1, 0) > 0 && (p.Revents & LibC.POLLHUP) != 0;
        }
    }
}
