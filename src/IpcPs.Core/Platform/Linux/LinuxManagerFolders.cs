using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// Manager folders on Linux (docs/design.md, "Managers", "Folders"). Every manager has a folder (mode 0700)
    /// holding "socket" (its Unix socket) and, for a Unix-socket manager, "authkey" (mode 0600): the key file is how
    /// processes of the same user on this machine authenticate without the key travelling with a proxy.
    /// <para>
    /// The folders of one user live in one parent in the temp folder, <c>ipcps-managers-UID</c> (mode 0700), so a name
    /// is per user and nobody else can make or plant anything in it. The temp folder is shared, so another user may have
    /// made that parent first (squatted it): a parent is used only if, opened without following a symlink, its
    /// descriptor says it is a directory of this user with no access for others. A squatted parent is never read
    /// from or written into; managers go to <c>ipcps-managers-UID-RANDOM</c> instead, made by us, found again by its
    /// owner and mode (attributes only we can give a folder): every folder of ours with that prefix is searched by name.
    /// </para>
    /// Invariant: a path handed out by <see cref="Create"/> or <see cref="Find"/> names a private directory of this
    /// user inside a private parent of this user; everything that reads a key goes through <see cref="OpenLocal"/>,
    /// which checks again on a descriptor it keeps open.
    /// </summary>
    internal sealed class LinuxManagerFolders : IManagerFolders
    {
        private const string KeyFile = Managers.ManagerState.KeyFile;
        private const string SocketFile = Managers.ManagerState.SocketFile;
        private const string ParentPrefix = "ipcps-managers-";
        private const uint PrivateDirMode = 0x1C0;   // 0700
        private const uint PrivateFileMode = 0x180;  // 0600
        private const int O_WRONLY = 1;
        private const int AT_REMOVEDIR = 0x200;
        private const int MaxKeyFileBytes = 4096;

        [DllImport("libc", SetLastError = true)] private static extern int mkdirat(int dirfd, string path, uint mode);
        [DllImport("libc", SetLastError = true)] private static extern int fchmod(int fd, uint mode);

        private static uint Me => LibC.geteuid();

        /// <summary>The primary parent of this user's manager folders (used unless another user made it first).</summary>
        private static string PrimaryParent => Path.Combine(Path.GetTempPath(), ParentPrefix + Me.ToString(System.Globalization.CultureInfo.InvariantCulture));

        /// <summary>
        /// Makes a new manager folder (mode 0700) called NAME (a random name when null) in this user's parent and
        /// returns its path; a NAME already in use by a manager of this user is <see cref="IpcObjectExistsException"/>.
        /// </summary>
        public string Create(string? name)
        {
            if (name is null)
            {
                var bytes = new byte[6];
                using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
                name = BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            }
            else if (Find(name) != null) throw new IpcObjectExistsException(name);   // also in another parent of ours
            for (int attempt = 0; ; attempt++)
            {
                string parent = ParentForCreate();
                int fd = OpenPrivateDir(parent);
                if (fd < 0) { if (attempt < 8) continue; throw new IpcException($"The manager folder '{parent}' vanished while a manager was being made in it.", name); }
                try
                {
                    if (mkdirat(fd, name, PrivateDirMode) != 0)
                    {
                        int errno = Posix.LastErrno;
                        if (errno == Errno.EEXIST) throw new IpcObjectExistsException(name);
                        // ENOENT: the parent was removed (emptied by a manager that ended) after we opened it: again.
                        if (errno == Errno.ENOENT && attempt < 8) continue;
                        throw new IpcPlatformException("mkdir", errno, Path.Combine(parent, name));
                    }
                    string dir = Path.Combine(parent, name);
                    int own = Posix.TryOpenAt(fd, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0);
                    if (own < 0)
                    {
                        LibC.unlinkat(fd, name, AT_REMOVEDIR);   // made just now, empty: not left behind (no descriptor left to open it)
                        throw new IpcPlatformException("open", -own, dir);
                    }
                    try { fchmod(own, PrivateDirMode); }   // exactly 0700 whatever the umask
                    finally { Posix.Close(own); }
                    return dir;
                }
                finally { Posix.Close(fd); }
            }
        }

        /// <summary>The folder of this user's manager called NAME, or null when there is none.</summary>
        public string? Find(string name)
        {
            name = IpcName.Validate(name);
            foreach (var parent in OurParents())
            {
                int fd = OpenPrivateDir(parent);
                if (fd < 0) continue;
                try
                {
                    if (Posix.FStatAt(fd, name) is FileStatus st && st.IsDirectory && st.Uid == Me && (st.Mode & 0x3F) == 0)
                        return Path.Combine(parent, name);
                }
                finally { Posix.Close(fd); }
            }
            return null;
        }

        /// <summary>Writes KEY to DIR/authkey (created exclusively, mode 0600, never through a symlink).</summary>
        public void WriteKey(string dir, byte[] key)
        {
            int fd = OpenPrivateDir(dir);
            if (fd < 0) throw new IpcException($"The manager folder '{dir}' is not a private folder of this user.", dir);
            try
            {
                int file = Posix.TryOpenAt(fd, KeyFile, O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW, PrivateFileMode);
                if (file < 0) throw new IpcPlatformException("open", -file, Path.Combine(dir, KeyFile));
                try
                {
                    fchmod(file, PrivateFileMode);
                    WriteAll(file, key, dir);
                }
                finally { Posix.Close(file); }
            }
            finally { Posix.Close(fd); }
        }

        private static unsafe void WriteAll(int fd, byte[] bytes, string dir)
        {
            fixed (byte* p = bytes)
            {
                long done = 0;
                while (done < bytes.Length)
                {
                    long n = (long)LibC.pwrite(fd, p + done, (UIntPtr)(ulong)(bytes.Length - done), done);
                    if (n < 0) { if (Posix.LastErrno == Errno.EINTR) continue; throw new IpcPlatformException("write", Posix.LastErrno, Path.Combine(dir, KeyFile)); }
                    done += n;
                }
            }
        }

        /// <summary>Removes a manager folder, then its parent if that is now empty (a parent is never left behind).</summary>
        public void Remove(string dir)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // No descriptor left to list it: its own files by name (unlink and rmdir take none); fails harmlessly.
                LibC.unlink(Path.Combine(dir, KeyFile));
                LibC.unlink(Path.Combine(dir, SocketFile));
                LibC.rmdir(dir);
            }
            string? parent = Path.GetDirectoryName(dir);
            if (parent != null && Path.GetFileName(parent).StartsWith(ParentPrefix + Me.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
                RemoveIfEmpty(parent);
        }

        // rmdir fails (ENOTEMPTY) while another manager's folder is in it; a starter that opened it just before it went
        // gets ENOENT from mkdirat and makes it again (Create's loop).
        private static void RemoveIfEmpty(string parent)
        {
            int tmp = Posix.TryOpen(Path.GetDirectoryName(parent)!, LibC.O_RDONLY | LibC.O_DIRECTORY, 0);
            if (tmp < 0) return;
            try
            {
                // Only a parent of ours: never rmdir another user's (squatted) folder of the same name.
                if (Posix.FStatAt(tmp, Path.GetFileName(parent)) is FileStatus st && st.IsDirectory && st.Uid == Me)
                    LibC.unlinkat(tmp, Path.GetFileName(parent), AT_REMOVEDIR);
            }
            catch (IpcPlatformException) { }
            finally { Posix.Close(tmp); }
        }

        /// <summary>The parent a new manager folder goes to: the primary one if it is ours (made now if missing), else a fallback.</summary>
        private static string ParentForCreate()
        {
            string primary = PrimaryParent;
            for (int attempt = 0; attempt < 4; attempt++)
            {
                int fd = OpenPrivateDir(primary);
                if (fd >= 0) { Posix.Close(fd); return primary; }
                if (fd != -Errno.ENOENT) break;                    // there, but not a private folder of ours: squatted
                if (LibC.mkdir(primary, PrivateDirMode) != 0 && Posix.LastErrno != Errno.EEXIST)
                    throw new IpcPlatformException("mkdir", Posix.LastErrno, primary);
                FixMode(primary);
            }
            var ours = FallbackParents();
            if (ours.Count > 0) return ours[0];
            var bytes = new byte[8];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            string fresh = primary + "-" + BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            if (LibC.mkdir(fresh, PrivateDirMode) != 0) throw new IpcPlatformException("mkdir", Posix.LastErrno, fresh);
            FixMode(fresh);
            // Two starters may have made one each at the same moment: all use the first in order from now on.
            ours = FallbackParents();
            return ours.Count > 0 ? ours[0] : throw new IpcException($"The manager folder '{fresh}' is not a private folder of this user.", fresh);
        }

        // A folder we have just made is ours; its mode is set to exactly 0700 through a descriptor (never a path chmod).
        private static void FixMode(string path)
        {
            int fd = Posix.TryOpen(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0);
            if (fd < 0) return;
            try { if (Posix.FStat(fd, path).Uid == Me) fchmod(fd, PrivateDirMode); }
            finally { Posix.Close(fd); }
        }

        /// <summary>The parents of ours, primary first (only when it is ours), then the fallbacks in ordinal order.</summary>
        private static IEnumerable<string> OurParents()
        {
            string primary = PrimaryParent;
            int fd = OpenPrivateDir(primary);
            if (fd >= 0) { Posix.Close(fd); yield return primary; }
            // Fallbacks are searched even when the primary is ours or missing: it may have been squatted when they
            // were made, and freed since.
            foreach (var p in FallbackParents()) yield return p;
        }

        /// <summary>ipcps-managers-UID-* folders in the temp folder that are private folders of ours (others' are skipped unread).</summary>
        private static List<string> FallbackParents()
        {
            string temp = Path.GetTempPath();
            string prefix = ParentPrefix + Me.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-";
            var result = new List<string>();
            // No descriptor left must never read as "none": ParentForCreate would make another fallback parent.
            int dir = Posix.NotExhausted(Posix.TryOpen(temp, LibC.O_RDONLY | LibC.O_DIRECTORY, 0), temp);
            if (dir < 0) return result;
            try
            {
                IEnumerable<string> names;
                try { names = Directory.EnumerateDirectories(temp, prefix + "*").Select(p => Path.GetFileName(p)).ToList(); }
                catch (IOException e) when (IpcPlatformException.OutOfDescriptors("open", e, temp) is IpcPlatformException p) { throw p; }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return result; }
                foreach (var name in names.OrderBy(n => n, StringComparer.Ordinal))
                {
                    FileStatus? st;
                    try { st = Posix.FStatAt(dir, name); }
                    catch (IpcPlatformException) { continue; }
                    if (st is FileStatus s && s.IsDirectory && s.Uid == Me && (s.Mode & 0x3F) == 0) result.Add(Path.Combine(temp, name));
                }
            }
            finally { Posix.Close(dir); }
            return result;
        }

        /// <summary>
        /// PATH opened as a directory without following a symlink, if its descriptor says it is a directory of this
        /// user with no group or other permissions; else -errno (ENOENT when missing, EPERM when it is someone else's
        /// or not private, ELOOP/ENOTDIR when it is a symlink or a file). The caller closes a descriptor it gets.
        /// </summary>
        private static int OpenPrivateDir(string path)
        {
            int fd = Posix.NotExhausted(Posix.TryOpen(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0), path);
            if (fd < 0) return fd;
            FileStatus st;
            try { st = Posix.FStat(fd, path); }
            catch (IpcPlatformException e) { Posix.Close(fd); return -e.ErrorNumber; }
            if (st.IsDirectory && st.Uid == Me && (st.Mode & 0x3F) == 0) return fd;
            Posix.Close(fd);
            return -Errno.EPERM;
        }

        /// <summary>
        /// A manager folder of this user, held open by a descriptor (checked once, used for everything after): its key
        /// is read and its socket reached through the descriptor (/proc/self/fd/N/socket), so a path whose components
        /// are swapped (a symlink changed) between the check and the use cannot lead anywhere else. A socket in a
        /// private folder of ours can only have been bound by us.
        /// </summary>
        public IManagerFolder? OpenLocal(string? dir)
        {
            if (string.IsNullOrEmpty(dir)) return null;
            int fd = OpenPrivateDir(dir!);
            return fd < 0 ? null : new LocalFolder(fd, dir!);
        }

        public bool LocalOverLoopback => false;

        /// <summary>Linux's local managers listen on the socket in their folder: they write no address file.</summary>
        public void WriteAddress(string dir, string address) =>
            throw new InvalidOperationException("A local manager on Linux listens on the Unix socket in its folder; it has no address file.");

        /// <summary>
        /// A socket path longer than sun_path is reached through its folder's descriptor: /proc/self/fd/N/NAME, short
        /// whatever the folder's path. The descriptor is closed once connected (the returned handle).
        /// </summary>
        public IDisposable? ReachLongSocketPath(string path, out string? viaPath)
        {
            viaPath = null;
            if (System.Text.Encoding.UTF8.GetByteCount(path) <= Managers.ManagerAddress.MaxUnixPathBytes) return null;
            string? folder = System.IO.Path.GetDirectoryName(path);
            if (string.IsNullOrEmpty(folder)) return null;
            int fd = Posix.NotExhausted(Posix.TryOpen(folder, LibC.O_RDONLY | LibC.O_DIRECTORY, 0), folder!);
            if (fd < 0) return null;
            viaPath = "/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + System.IO.Path.GetFileName(path);
            return new LocalFolder(fd, folder!);
        }

        private sealed class LocalFolder : IManagerFolder
        {
            private int _fd;

            public LocalFolder(int fd, string path) { _fd = fd; Path = path; }

            public string Path { get; }

            /// <summary>The socket's path through the descriptor: short whatever the folder's path (sun_path holds 108 bytes).</summary>
            public string SocketPath => "/proc/self/fd/" + _fd.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + SocketFile;

            /// <summary>The Unix socket in the folder, by the folder's path (the address clients are given).</summary>
            public string? LocalAddress() => Managers.ManagerAddress.UnixPrefix + System.IO.Path.Combine(Path, SocketFile);

            /// <summary>The key file's bytes, if it is a regular file of this user of at most 4 KiB; else null.</summary>
            public unsafe byte[]? ReadKey()
            {
                int file = Posix.NotExhausted(Posix.TryOpenAt(_fd, KeyFile, LibC.O_RDONLY | LibC.O_NOFOLLOW, 0), KeyFile);   // "no key" would be a lie
                if (file < 0) return null;
                try
                {
                    var st = Posix.FStat(file, KeyFile);
                    if (!st.IsRegularFile || st.Uid != Me || st.Size <= 0 || st.Size > MaxKeyFileBytes) return null;
                    var key = new byte[st.Size];
                    int done = 0;
                    fixed (byte* p = key)
                        while (done < key.Length)
                        {
                            long n = (long)LibC.read(file, p + done, (UIntPtr)(ulong)(key.Length - done));
                            if (n < 0) { if (Posix.LastErrno == Errno.EINTR) continue; return null; }
                            if (n == 0) return null;   // shrank under us: not a key we trust
                            done += (int)n;
                        }
                    return key;
                }
                catch (IpcPlatformException) { return null; }
                finally { Posix.Close(file); }
            }

            public void Dispose()
            {
                if (_fd >= 0) Posix.Close(_fd);
                _fd = -1;
            }
        }
    }
}
