using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// The libc calls IpcPs makes. Every wrapper in <see cref="Posix"/> checks the result; nothing else calls these.
    /// Flag values are those of the asm-generic ABI, shared by x86-64 and arm64.
    /// </summary>
    internal static unsafe class LibC
    {
        public const int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;
        /// <summary>O_NOFOLLOW differs: 0x20000 on x86-64, 0x8000 on arm64.</summary>
        public static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;
        /// <summary>O_DIRECTORY differs: 0x10000 on x86-64, 0x4000 on arm64.</summary>
        public static readonly int O_DIRECTORY = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
        public const int AT_SYMLINK_NOFOLLOW = 0x100;
        public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_ANONYMOUS = 0x20;
        public const int LOCK_SH = 1, LOCK_EX = 2;
        public const int SIGKILL = 9, SIGTERM = 15, SIGSTOP = 19;
        public const short POLLIN = 0x1, POLLHUP = 0x10;

        /// <summary>struct pollfd: offset 0 fd, 4 events, 6 revents (8 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags, uint mode);
        [DllImport("libc", SetLastError = true)] public static extern int openat(int dirfd, string path, int flags, uint mode);
        [DllImport("libc", SetLastError = true)] public static extern int fstatat(int dirfd, string path, byte* buf, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int linkat(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int unlinkat(int dirfd, string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] public static extern int fcntl(int fd, int cmd, int arg);
        [DllImport("libc", SetLastError = true)] public static extern int dup2(int oldfd, int newfd);
        public const int F_DUPFD_CLOEXEC = 1030;
        [DllImport("libc", SetLastError = true)] public static extern int ftruncate(int fd, long length);
        [DllImport("libc", SetLastError = true)] public static extern int fstat(int fd, byte* buf);
        [DllImport("libc", SetLastError = true)] public static extern int stat(string path, byte* buf);
        [DllImport("libc", SetLastError = true)] public static extern IntPtr mmap(IntPtr addr, UIntPtr length, int prot, int flags, int fd, IntPtr offset);
        [DllImport("libc", SetLastError = true)] public static extern int munmap(IntPtr addr, UIntPtr length);
        [DllImport("libc", SetLastError = true)] public static extern int unlink(string path);
        [DllImport("libc", SetLastError = true)] public static extern int mkdir(string path, uint mode);
        [DllImport("libc", SetLastError = true)] public static extern int rmdir(string path);
        [DllImport("libc", SetLastError = true)] public static extern int flock(int fd, int operation);
        [DllImport("libc", SetLastError = true)] public static extern IntPtr read(int fd, byte* buf, UIntPtr count);
        [DllImport("libc", SetLastError = true)] public static extern IntPtr pread(int fd, byte* buf, UIntPtr count, long offset);
        [DllImport("libc", SetLastError = true)] public static extern IntPtr pwrite(int fd, byte* buf, UIntPtr count, long offset);
        [DllImport("libc", SetLastError = true)] public static extern int kill(int pid, int sig);
        [DllImport("libc")] public static extern uint geteuid();
        [DllImport("libc", SetLastError = true)] public static extern int setsid();
        [DllImport("libc", SetLastError = true)] public static extern int poll(PollFd* fds, UIntPtr count, int timeout);
        /// <summary>pidfd_open(2) and pidfd_send_signal(2) (Linux 5.3 and 5.1; one number on x86-64 and arm64), through syscall(2): glibc wraps them only since 2.36.</summary>
        public const long SYS_pidfd_send_signal = 424, SYS_pidfd_open = 434;
        [DllImport("libc", SetLastError = true)] public static extern long syscall(long number, long a, long b, long c, long d);
        [DllImport("libc", SetLastError = true)] public static extern int setenv(string name, string value, int overwrite);
        [DllImport("libc", SetLastError = true)] public static extern int unsetenv(string name);
    }
}
