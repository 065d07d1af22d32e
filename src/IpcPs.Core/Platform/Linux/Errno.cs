namespace IpcPs.Core.Platform.Linux
{
    /// <summary>The errno values IpcPs reacts to (identical on Linux x86-64 and arm64).</summary>
    internal static class Errno
    {
        public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
            EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOSPC = 28, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ETIMEDOUT = 110;

        public static string Describe(int errno) => errno switch
        {
            EPERM => "operation not permitted",
            ENOENT => "no such file or object",
            ESRCH => "no such process",
            EINTR => "interrupted",
            EAGAIN => "resource temporarily unavailable",
            ENOMEM => "out of memory",
            EACCES => "permission denied",
            EEXIST => "already exists",
            ENOTDIR => "not a directory",
            EISDIR => "is a directory",
            EINVAL => "invalid argument",
            ENFILE => "too many open files in the system (its file table is full)",
            EMFILE => "too many open files in this process (its limit RLIMIT_NOFILE, ulimit -n, is reached)",
            ENOSPC => "no space left on the shared-memory file system",
            ENAMETOOLONG => "name too long",
            ENOTEMPTY => "directory not empty",
            ELOOP => "a symbolic link where none may be",
            ETIMEDOUT => "timed out",
            _ => "system error",
        };
    }
}
