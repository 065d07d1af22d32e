using System;
using System.Collections.Generic;
using System.IO;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// Records live in /dev/shm/.ipcps-UID/NAME (folder 0700, files 0600), beside the segments, so both vanish
    /// together at reboot. A record is changed under flock(LOCK_EX) on its own file and read under LOCK_SH; the kernel
    /// drops a lock when its holder dies. Deleting a record unlinks it while locked, so a waiter that then gets the
    /// lock checks that its descriptor still names the linked file (same inode) and retries if not. The folder is
    /// removed when its last record goes; a creator that finds it gone makes it again (rmdir only succeeds on an
    /// empty folder).
    /// Safety: the folder is opened with O_DIRECTORY|O_NOFOLLOW and checked through that descriptor (a directory of
    /// this user, no access for others) on every use, and records are opened, checked and unlinked relative to it
    /// (openat, fstatat, unlinkat; O_NOFOLLOW, regular files only): another user who makes the folder, or swaps it
    /// for a symlink between a check and an open, can never make IpcPs write outside its own folder. Another user who
    /// makes .ipcps-UID first does not deny service either: the registry then lives in a fallback folder whose name
    /// that user cannot predict (<see cref="PrivateFolder"/>).
    /// </summary>
    internal sealed class LinuxRegistry : IObjectRegistry
    {
        private readonly string _dir = LinuxSharedMemory.Root + "/.ipcps-" + LibC.geteuid();

        /// <summary>A descriptor of the registry folder in use and its path (the predictable one, or its fallback).</summary>
        private readonly struct Folder
        {
            public Folder(int fd, string path) { Fd = fd; Path = path; }
            public int Fd { get; }
            public string Path { get; }
        }

        public T Update<T>(string name, bool create, Func<RegistryRecord?, (RegistryRecord? Next, T Result)> body)
        {
            var (dir, fd) = OpenLocked(name, create, LibC.LOCK_EX);
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
                    Delete(dir, name);   // the empty record a failed create made
                    throw;
                }
                var (next, result) = outcome;
                if (next != null) Posix.Rewrite(fd, next.Serialize(), name);
                else Delete(dir, name);
                return result;
            }
            finally
            {
                Posix.Close(fd);   // closing drops the flock
                Posix.Close(dir.Fd);
            }
        }

        /// <summary>Reads under a shared lock, so a reader never sees a record half rewritten.</summary>
        public RegistryRecord? Read(string name)
        {
            var (dir, fd) = OpenLocked(name, create: false, LibC.LOCK_SH);
            if (fd < 0) return null;
            try { return RegistryRecord.Parse(Posix.ReadAllText(fd, name)); }
            finally
            {
                Posix.Close(fd);
                Posix.Close(dir.Fd);
            }
        }

        public IEnumerable<string> Names()
        {
            var dir = OpenFolder(create: false);
            if (dir.Fd < 0) return Array.Empty<string>();
            Posix.Close(dir.Fd);   // checked private; the listing itself only reads names
            try
            {
                var names = new List<string>();
                foreach (var f in Directory.EnumerateFiles(dir.Path)) names.Add(Path.GetFileName(f));
                return names;
            }
            catch (DirectoryNotFoundException) { return Array.Empty<string>(); }
            catch (IOException e) when (IpcPlatformException.OutOfDescriptors("open", e, dir.Path) is IpcPlatformException p) { throw p; }
        }

        private static void Delete(Folder dir, string name)
        {
            Posix.UnlinkAt(dir.Fd, name);
            LibC.rmdir(dir.Path);   // fails harmlessly (ENOTEMPTY) while other records remain
        }

        /// <summary>
        /// The checked folder and a descriptor holding the lock (LOCK_EX or LOCK_SH) on the linked record file;
        /// fd -1 (and no folder) when there is no record and !create.
        /// </summary>
        private (Folder Dir, int Fd) OpenLocked(string name, bool create, int lockOperation)
        {
            while (true)
            {
                var folder = OpenFolder(create);
                if (folder.Fd < 0) return (folder, -1);
                int dir = folder.Fd;
                int fd = Posix.TryOpenAt(dir, name, LibC.O_RDWR | LibC.O_NOFOLLOW | (create ? LibC.O_CREAT : 0), 0x180);
                if (fd == -Errno.ENOENT)
                {
                    Posix.Close(dir);
                    if (!create) return (new Folder(-1, ""), -1);
                    continue;   // the folder was removed meanwhile: make it again
                }
                if (fd < 0)
                {
                    Posix.Close(dir);
                    throw new IpcPlatformException("open registry record", -fd, name);
                }
                var st = Posix.FStat(fd, name);
                if (!st.IsRegularFile || st.Uid != LibC.geteuid())
                {
                    Posix.Close(fd);
                    Posix.Close(dir);
                    throw new IpcException($"The registry record '{folder.Path}/{name}' is not a regular file of this user; refusing to use it.", name);
                }
                RegistryTestHooks.BeforeLock?.Invoke(name);
                Posix.Lock(fd, lockOperation, name);
                if (Posix.FStatAt(dir, name) is FileStatus linked && linked.Inode == st.Inode) return (folder, fd);
                Posix.Close(fd);   // deleted (and maybe re-created) while we waited: start again
                Posix.Close(dir);
            }
        }

        /// <summary>
        /// The folder, opened without following a symlink and checked through its descriptor: a directory of this
        /// user with no access for others (a squatted name is avoided: <see cref="PrivateFolder"/>). Fd -1 when it
        /// does not exist and !create.
        /// </summary>
        private Folder OpenFolder(bool create)
        {
            var (fd, path) = PrivateFolder.Open(_dir, create);
            return new Folder(fd, path ?? "");
        }
    }
}
