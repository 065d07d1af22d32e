using System;
using System.Collections.Generic;
using System.IO;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// Records live in /dev/shm/.ipcps-UID/NAME (folder 0700, files 0600), beside the segments, so both vanish
    /// together at reboot. A record is changed under flock(LOCK_EX) on its own file; the kernel drops the lock when
    /// the holder dies. Deleting a record unlinks it while locked, so a waiter that then gets the lock checks that
    /// its descriptor still names the linked file (same inode) and retries if not. The folder is removed when its
    /// last record goes; a creator that finds it gone makes it again (rmdir only succeeds on an empty folder).
    /// </summary>
    internal sealed class LinuxRegistry : IObjectRegistry
    {
        private readonly string _dir = LinuxSharedMemory.Root + "/.ipcps-" + LibC.geteuid();

        public T Update<T>(string name, bool create, Func<RegistryRecord?, (RegistryRecord? Next, T Result)> body)
        {
            string path = _dir + "/" + name;
            int fd = OpenLocked(path, create, name, LibC.LOCK_EX);
            if (fd < 0)
            {
                var unlocked = body(null);
                if (unlocked.Next != null) throw new InvalidOperationException("A record can only be created with create: true.");
                return unlocked.Result;
            }
            try
            {
                var current = RegistryRecord.Parse(Posix.ReadAllText(fd, name));
                (RegistryRecord? Next, T Result) outcome;
                try { outcome = body(current); }
                catch when (current is null)
                {
                    Posix.Unlink(path, name);   // the empty record a failed create made
                    LibC.rmdir(_dir);
                    throw;
                }
                var (next, result) = outcome;
                if (next != null) Posix.Rewrite(fd, next.Serialize(), name);
                else
                {
                    Posix.Unlink(path, name);
                    LibC.rmdir(_dir);   // fails harmlessly (ENOTEMPTY) while other records remain
                }
                return result;
            }
            finally { Posix.Close(fd); }   // closing drops the flock
        }

        /// <summary>Reads under a shared lock, so a reader never sees a record half rewritten.</summary>
        public RegistryRecord? Read(string name)
        {
            int fd = OpenLocked(_dir + "/" + name, create: false, name, LibC.LOCK_SH);
            if (fd < 0) return null;
            try { return RegistryRecord.Parse(Posix.ReadAllText(fd, name)); }
            finally { Posix.Close(fd); }
        }

        public IEnumerable<string> Names()
        {
            if (!Directory.Exists(_dir)) return Array.Empty<string>();
            try
            {
                var names = new List<string>();
                foreach (var f in Directory.EnumerateFiles(_dir)) names.Add(Path.GetFileName(f));
                return names;
            }
            catch (DirectoryNotFoundException) { return Array.Empty<string>(); }
        }

        /// <summary>An fd holding the lock (LOCK_EX or LOCK_SH) on the linked record file, or -1 when there is none and !create.</summary>
        private int OpenLocked(string path, bool create, string name, int lockOperation)
        {
            while (true)
            {
                if (!FolderIsPrivate())
                {
                    if (!create) return -1;
                    EnsureFolder();
                    continue;
                }
                int fd = Posix.TryOpen(path, LibC.O_RDWR | LibC.O_NOFOLLOW | (create ? LibC.O_CREAT : 0), 0x180);
                if (fd == -Errno.ENOENT)
                {
                    if (!create) return -1;
                    continue;   // the folder went away meanwhile: make it again
                }
                if (fd < 0) throw new IpcPlatformException("open registry record", -fd, name);
                if (!Posix.FStat(fd, name).IsRegularFile)
                {
                    Posix.Close(fd);
                    throw new IpcException($"The registry record '{path}' is not a regular file; refusing to use it.", name);
                }
                Posix.Lock(fd, lockOperation, name);
                var linked = Posix.Stat(path);
                if (linked is FileStatus st && st.Inode == Posix.FStat(fd, name).Inode) return fd;
                Posix.Close(fd);   // deleted (and maybe re-created) while we waited: start again
            }
        }

        /// <summary>
        /// Checked before every use, since the folder may be removed and made again by anyone: it must be a real
        /// folder (not a symlink), owned by this user, with no access for others. False when it does not exist.
        /// </summary>
        private bool FolderIsPrivate()
        {
            var st = Posix.LStat(_dir);
            if (st is null) return false;
            if (!st.Value.IsDirectory || st.Value.Uid != LibC.geteuid() || (st.Value.Mode & 0x3F) != 0)
                throw new IpcException($"The registry folder '{_dir}' is not a private (0700) folder of this user; refusing to use it.", _dir);
            return true;
        }

        private void EnsureFolder()
        {
            if (LibC.mkdir(_dir, 0x1C0 /* 0700 */) < 0 && Posix.LastErrno != Errno.EEXIST)
                throw new IpcPlatformException("mkdir", Posix.LastErrno, _dir);
        }
    }
}
