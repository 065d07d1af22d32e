using System;
using System.Security.Cryptography;
using System.Text;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// A folder of this user's in a directory every user may write (/dev/shm, the temp folder), found by a predictable
    /// name, which another user can therefore take first ("squat"). Rules:
    /// <list type="number">
    /// <item>The folder is opened with O_DIRECTORY|O_NOFOLLOW and judged on that descriptor: it is used only when it is
    /// a directory of this effective user with no group or other access. A squatted one is never read, written or
    /// removed.</item>
    /// <item>When the predictable name is squatted, the folder is made under a fallback name that no other user can
    /// predict: the predictable name plus 16 hex digits of HMAC-SHA256 over the name, keyed with this user's secret
    /// (32 random bytes in $HOME/.ipcps/secret: folder 0700, file 0600, both checked like the folder). Every process of
    /// the user computes the same fallback, so they still meet.</item>
    /// <item>The fallback takes precedence whenever it exists: while the predictable name is not ours (absent or
    /// squatted), a process first looks for the fallback and only then makes the predictable folder. So when a squatter
    /// gives the name up again, nobody starts a second registry beside the fallback in use.</item>
    /// </list>
    /// Without a usable $HOME there is no fallback, and a squatted name is a clear error naming the squatter.
    /// </summary>
    internal static class PrivateFolder
    {
        /// <summary>What a path holds, judged on its descriptor.</summary>
        public enum State { Ours, Absent, Squatted }

        private static readonly uint Me = LibC.geteuid();
        private static byte[]? _secret;   // read once found; it never changes

        /// <summary>
        /// Opens the folder for PATH: the predictable one when it is ours, else the fallback when it exists, else
        /// (with CREATE) makes whichever applies. Returns the descriptor and the path it is at; (-1, null) when none
        /// exists and !CREATE. OWNERUID: the squatter when the predictable name was squatted (for errors).
        /// </summary>
        public static (int Fd, string? Path) Open(string path, bool create)
        {
            for (int attempt = 0; ; attempt++)
            {
                var (state, fd, squatter) = TryOpen(path);
                if (state == State.Ours) return (fd, path);
                string? fallback = FallbackOf(path, createSecret: create && state == State.Squatted);
                if (fallback != null)
                {
                    var (fbState, fbFd, fbOwner) = TryOpen(fallback);
                    if (fbState == State.Ours) return (fbFd, fallback);
                    if (fbState == State.Squatted)
                        // Only someone who knows the secret could have made it: refuse rather than guess.
                        throw new IpcException($"The folder '{fallback}' belongs to another user (uid {fbOwner}) although its name is secret; refusing to use it. Check $HOME/.ipcps.", fallback);
                }
                if (!create) return (-1, null);
                if (attempt > 100) throw new IpcPlatformException("mkdir", Errno.EEXIST, path);   // something keeps changing it
                string target = state == State.Absent ? path
                    : fallback ?? throw new IpcObjectOwnerException(path, squatter);
                if (LibC.mkdir(target, 0x1C0 /* 0700 */) < 0 && Posix.LastErrno != Errno.EEXIST)
                    throw new IpcPlatformException("mkdir", Posix.LastErrno, target);
            }
        }

        /// <summary>Opens PATH as a folder and says whether it is ours (then FD is open), absent, or someone else's.</summary>
        public static (State State, int Fd, uint Owner) TryOpen(string path)
        {
            int fd = Posix.NotExhausted(Posix.TryOpen(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0), path);
            if (fd == -Errno.ENOENT) return (State.Absent, -1, 0u);
            if (fd < 0)
            {
                // ELOOP (a symlink), ENOTDIR (a file), EACCES (a folder we may not enter): not ours, whoever made it.
                var link = Posix.LStat(path);
                return link is FileStatus l ? (State.Squatted, -1, l.Uid) : (State.Absent, -1, 0u);
            }
            var st = Posix.FStat(fd, path);
            if (st.IsDirectory && st.Uid == Me && (st.Mode & 0x3F) == 0) return (State.Ours, fd, Me);
            Posix.Close(fd);
            return (State.Squatted, -1, st.Uid);
        }

        /// <summary>PATH's fallback name, or null when this user has no secret (and CREATESECRET is false, or $HOME is unusable).</summary>
        public static string? FallbackOf(string path, bool createSecret)
        {
            var secret = Secret(createSecret);
            if (secret is null) return null;
            using (var h = new HMACSHA256(secret))
            {
                var mac = h.ComputeHash(Encoding.UTF8.GetBytes(path));
                var sb = new StringBuilder(path).Append('-');
                for (int i = 0; i < 8; i++) sb.Append(mac[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }

        private const int SecretBytes = 32;

        /// <summary>This user's secret from $HOME/.ipcps/secret, made on first need with CREATE; null without a usable $HOME.</summary>
        private static byte[]? Secret(bool create)
        {
            var known = _secret;
            if (known != null) return known;
            string? home = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(home) || home![0] != '/') return null;
            string dir = home.TrimEnd('/') + "/.ipcps", file = dir + "/secret";
            var (state, dirFd, _) = TryOpen(dir);
            if (state == State.Squatted) return null;
            if (state == State.Absent)
            {
                if (!create) return null;
                if (LibC.mkdir(dir, 0x1C0) < 0 && Posix.LastErrno != Errno.EEXIST) return null;
                (state, dirFd, _) = TryOpen(dir);
                if (state != State.Ours) return null;
            }
            try
            {
                int fd = Posix.TryOpenAt(dirFd, "secret", LibC.O_RDONLY | LibC.O_NOFOLLOW, 0);
                if (fd == -Errno.ENOENT && create)
                {
                    // Written to a temporary name and linked into place, so a reader never sees a partial secret.
                    var bytes = new byte[SecretBytes];
                    using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
                    string temp = "secret." + Guid.NewGuid().ToString("N");
                    int w = Posix.TryOpenAt(dirFd, temp, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW, 0x180);
                    if (w < 0) return null;
                    try { Posix.Rewrite(w, bytes, file); }
                    finally { Posix.Close(w); }
                    // link(2) fails with EEXIST if another process won the race: then theirs is read below.
                    LibC.linkat(dirFd, temp, dirFd, "secret", 0);
                    Posix.UnlinkAt(dirFd, temp);
                    fd = Posix.TryOpenAt(dirFd, "secret", LibC.O_RDONLY | LibC.O_NOFOLLOW, 0);
                }
                if (fd < 0) return null;
                try
                {
                    var st = Posix.FStat(fd, file);
                    if (!st.IsRegularFile || st.Uid != Me || (st.Mode & 0x3F) != 0 || st.Size != SecretBytes) return null;
                    var secret = Posix.ReadAt(fd, SecretBytes, 0, file);
                    if (secret.Length != SecretBytes) return null;
                    _secret = secret;
                    return secret;
                }
                finally { Posix.Close(fd); }
            }
            finally { Posix.Close(dirFd); }
        }
    }
}
