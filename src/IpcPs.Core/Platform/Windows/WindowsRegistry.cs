using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The registry on Windows: one file per name in <c>%LOCALAPPDATA%\IpcPs\objects\session-N\</c> (N: the session the
    /// names live in, since a mapping's name belongs to its session while the profile folder is shared by the user's
    /// sessions). Folders and files carry the user-only security descriptor; the folder's owner is checked once per
    /// process. The Linux protocol's invariants, kept with Windows primitives:
    /// <list type="bullet">
    /// <item>A record is changed only under an exclusive byte-range lock (LockFileEx) on its own file and read under
    /// a shared one, so a reader never sees a rewrite half done. The lock is on one byte far beyond any content (offset
    /// 2⁶²), so it only orders IpcPs's own accesses (Windows byte-range locks are mandatory for the bytes they cover).
    /// The system drops a lock when its handle closes, so a process killed with TerminateProcess never leaves a record
    /// locked.</item>
    /// <item>One record per name: files are opened with FILE_SHARE_DELETE; deleting a record renames it (while locked)
    /// into <c>.trash\</c>, which frees the name at once, and marks it delete-on-close. A waiter that then gets the lock
    /// checks that its handle still names the file at the record's path (volume serial and file index, as Linux compares
    /// inodes) and starts again if not. Renaming first avoids Windows' delete-pending state, in which the name would
    /// refuse every open until the last waiter let go. A trash file left by a process killed between the rename and
    /// the mark is deleted by the next listing, which deletes only trash files nobody holds open (it opens them with
    /// no sharing), never one a deleter is between its rename and its mark on.</item>
    /// <item>A record's file name encodes its name (<see cref="RecordFileName"/>): names are case-sensitive, as kernel
    /// object names are, while file names are not; and Win32 strips a trailing '.' and takes "nul.x" for a device.</item>
    /// <item>Reparse points are never followed (FILE_FLAG_OPEN_REPARSE_POINT) and a record that is a folder or a
    /// reparse point is refused.</item>
    /// <item>Record paths pass MAX_PATH with long names: every Win32 call gets the extended-length path
    /// (<see cref="ExtendedPath"/>).</item>
    /// </list>
    /// Unlike /dev/shm, the folder survives a reboot while the mappings do not: records left by processes that were
    /// killed (or by the last boot) name dead holders and no segment; they are pruned when next touched, and listed
    /// as Orphaned until then.
    /// </summary>
    internal sealed unsafe class WindowsRegistry : IObjectRegistry
    {
        private const string TrashFolder = ".trash";
        private const uint LockOffsetHigh = 0x40000000;   // the lock byte: offset 2^62

        private readonly object _gate = new object();
        private readonly string? _localAppData;
        private string? _folder;

        /// <summary>LOCALAPPDATA: the profile folder to keep the registry in (tests); null: the user's (the known folder).</summary>
        public WindowsRegistry(string? localAppData = null) => _localAppData = localAppData;

        /// <summary>The registry folder of this session (made, and its owner checked, on first use).</summary>
        public string Folder
        {
            get
            {
                lock (_gate)
                {
                    if (_folder != null) return _folder;
                    string local = _localAppData ?? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
                    if (string.IsNullOrEmpty(local)) local = Environment.GetEnvironmentVariable("LOCALAPPDATA") ?? "";
                    if (string.IsNullOrEmpty(local)) throw new IpcException("The registry of IpcPs needs %LOCALAPPDATA%, which is not set.");
                    Win32.ProcessIdToSessionId(Win32.GetCurrentProcessId(), out uint session);
                    string folder = PrivateFolders.Ensure(local, "IpcPs", "objects", "session-" + session.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    PrivateFolders.Ensure(folder, TrashFolder);
                    _folder = folder;
                    return folder;
                }
            }
        }

        public T Update<T>(string name, bool create, Func<RegistryRecord?, (RegistryRecord? Next, T Result)> body)
        {
            IntPtr file = OpenLocked(name, create, exclusive: true);
            if (file == IntPtr.Zero)
            {
                var unlocked = body(null);
                if (unlocked.Next != null) throw new InvalidOperationException("A record can only be created with create: true.");
                return unlocked.Result;
            }
            try
            {
                var current = RegistryRecord.Parse(ReadAll(file, name));
                (RegistryRecord? Next, T Result) outcome;
                try { outcome = body(current); }
                catch when (current is null)
                {
                    Delete(file, name);   // the empty record a failed create made
                    throw;
                }
                var (next, result) = outcome;
                if (next != null) Rewrite(file, Encoding.UTF8.GetBytes(next.Serialize()), name);
                else Delete(file, name);
                return result;
            }
            finally { Win32.CloseHandle(file); }   // closing drops the lock
        }

        public RegistryRecord? Read(string name)
        {
            IntPtr file = OpenLocked(name, create: false, exclusive: false);
            if (file == IntPtr.Zero) return null;
            try { return RegistryRecord.Parse(ReadAll(file, name)); }
            finally { Win32.CloseHandle(file); }
        }

        public IEnumerable<string> Names()
        {
            string folder = Folder;
            var names = new List<string>();
            foreach (var path in Directory.EnumerateFiles(folder))
            {
                // Not a record's file name (the trash, a file an older IpcPs named with a capital letter bare): skipped.
                if (RecordFileName.Decode(Path.GetFileName(path)) is string name) names.Add(name);
            }
            // Trash left by a process killed between renaming a record and marking it: no one can lock it any more.
            foreach (var path in Directory.EnumerateFiles(Path.Combine(folder, TrashFolder))) SweepTrash(path);
            return names;
        }

        /// <summary>
        /// Deletes the trash file PATH unless someone holds it open: opened with no sharing at all and deleted as that
        /// handle closes. A sharing violation means a holder: a deleter between its rename and its mark (it deletes the
        /// file itself), or a waiter that opened the record before it was renamed (the next listing sweeps it). Never
        /// DeleteFile: records are open with FILE_SHARE_DELETE, and since Windows 10 1903 DeleteFile removes such a file
        /// at once (POSIX semantics), under the feet of its deleter.
        /// </summary>
        private static void SweepTrash(string path)
        {
            IntPtr file = Win32.CreateFile(ExtendedPath.Of(path), Win32.DELETE, 0, null, Win32.OPEN_EXISTING,
                Win32.FILE_FLAG_DELETE_ON_CLOSE | Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (file != Win32.InvalidHandle) Win32.CloseHandle(file);   // else held (or gone, or not ours): left alone
        }

        /// <summary>
        /// A handle on NAME's record holding the lock (exclusive or shared), checked to be the file at the record's path;
        /// zero when there is no record and !CREATE.
        /// </summary>
        private IntPtr OpenLocked(string name, bool create, bool exclusive)
        {
            var sa = PrivateSecurity.ForObject();
            bool folderMadeAgain = false;
            while (true)
            {
                string plain = RecordPath(name), path = ExtendedPath.Of(plain);
                int hooked = RegistryTestHooks.RecordOpenError?.Invoke(path) ?? 0;
                IntPtr file = hooked != 0 ? Win32.InvalidHandle : Win32.CreateFile(path, Win32.GENERIC_READ | Win32.GENERIC_WRITE | Win32.DELETE,
                    Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE | Win32.FILE_SHARE_DELETE, &sa,
                    create ? Win32.OPEN_ALWAYS : Win32.OPEN_EXISTING, Win32.FILE_ATTRIBUTE_NORMAL | Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
                if (file == Win32.InvalidHandle)
                {
                    int error = hooked != 0 ? hooked : Win32.LastError;
                    if (!create && (error == Win32.ERROR_FILE_NOT_FOUND || error == Win32.ERROR_PATH_NOT_FOUND)) return IntPtr.Zero;
                    if (error == Win32.ERROR_PATH_NOT_FOUND && !folderMadeAgain)
                    {
                        // The folder was removed (by hand, or with the profile): made again once. Bounded: a path that
                        // still does not resolve (one Windows refuses, a folder replaced meanwhile) is an error, not a spin.
                        folderMadeAgain = true;
                        ForgetFolder();
                        continue;
                    }
                    throw new IpcPlatformException($"CreateFile (registry record {ExtendedPath.Describe(plain)})", error, name);
                }
                try
                {
                    var info = FileInfoOf(file, name);
                    if ((info.FileAttributes & (Win32.FILE_ATTRIBUTE_DIRECTORY | Win32.FILE_ATTRIBUTE_REPARSE_POINT)) != 0)
                        throw new IpcException($"The registry record '{plain}' is not a regular file; refusing to use it.", name);
                    RegistryTestHooks.BeforeLock?.Invoke(name);
                    Lock(file, exclusive, name);
                    if (StillLinked(path, info)) return file;
                }
                catch
                {
                    Win32.CloseHandle(file);
                    throw;
                }
                Win32.CloseHandle(file);   // deleted (and maybe made again) while we waited for the lock: again
            }
        }

        /// <summary>The path of NAME's record: its file name encodes the name (<see cref="RecordFileName"/>).</summary>
        private string RecordPath(string name) => Path.Combine(Folder, RecordFileName.Encode(name));

        private void ForgetFolder()
        {
            lock (_gate) _folder = null;
        }

        private static Win32.BY_HANDLE_FILE_INFORMATION FileInfoOf(IntPtr file, string name)
        {
            if (!Win32.GetFileInformationByHandle(file, out var info)) throw new IpcPlatformException("GetFileInformationByHandle", Win32.LastError, name);
            return info;
        }

        /// <summary>Whether the file at PATH (extended-length) now is the one described by INFO (same volume, same file index).</summary>
        private static bool StillLinked(string path, Win32.BY_HANDLE_FILE_INFORMATION info)
        {
            IntPtr now = Win32.CreateFile(path, Win32.FILE_READ_ATTRIBUTES, Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE | Win32.FILE_SHARE_DELETE,
                null, Win32.OPEN_EXISTING, Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (now == Win32.InvalidHandle) return false;
            try
            {
                return Win32.GetFileInformationByHandle(now, out var linked) && linked.VolumeSerialNumber == info.VolumeSerialNumber
                    && linked.FileIndexHigh == info.FileIndexHigh && linked.FileIndexLow == info.FileIndexLow;
            }
            finally { Win32.CloseHandle(now); }
        }

        private static void Lock(IntPtr file, bool exclusive, string name)
        {
            var overlapped = new Win32.OVERLAPPED { Offset = 0, OffsetHigh = LockOffsetHigh };
            if (!Win32.LockFileEx(file, exclusive ? Win32.LOCKFILE_EXCLUSIVE_LOCK : 0, 0, 1, 0, &overlapped))
                throw new IpcPlatformException("LockFileEx", Win32.LastError, name);
        }

        private static string ReadAll(IntPtr file, string name)
        {
            if (!Win32.SetFilePointerEx(file, 0, out _, 0)) throw new IpcPlatformException("SetFilePointerEx", Win32.LastError, name);
            var ms = new MemoryStream();
            var buffer = new byte[4096];
            fixed (byte* b = buffer)
                while (true)
                {
                    if (!Win32.ReadFile(file, b, buffer.Length, out int read, null)) throw new IpcPlatformException("ReadFile", Win32.LastError, name);
                    if (read == 0) break;
                    ms.Write(buffer, 0, read);
                    if (ms.Length > 1 << 20) throw new IpcException($"The registry record of '{name}' is larger than a record can be; refusing to read it.", name);
                }
            return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
        }

        private static void Rewrite(IntPtr file, byte[] bytes, string name)
        {
            if (!Win32.SetFilePointerEx(file, 0, out _, 0)) throw new IpcPlatformException("SetFilePointerEx", Win32.LastError, name);
            fixed (byte* b = bytes)
            {
                int done = 0;
                while (done < bytes.Length)
                {
                    if (!Win32.WriteFile(file, b + done, bytes.Length - done, out int written, null)) throw new IpcPlatformException("WriteFile", Win32.LastError, name);
                    done += written;
                }
            }
            if (!Win32.SetEndOfFile(file)) throw new IpcPlatformException("SetEndOfFile", Win32.LastError, name);
        }

        /// <summary>
        /// Deletes the record FILE (locked): renamed into the trash (the name is free at once), then delete-on-close. The
        /// trash name is a GUID alone: a record's name may already be 255 characters, the longest a file name can be.
        /// </summary>
        private void Delete(IntPtr file, string name)
        {
            string trash;
            for (int attempt = 0; ; attempt++)
            {
                trash = ExtendedPath.Of(Path.Combine(Folder, TrashFolder, Guid.NewGuid().ToString("N")));
                if (Rename(file, trash)) break;
                int error = Win32.LastError;
                if (error != Win32.ERROR_PATH_NOT_FOUND || attempt > 0) throw new IpcPlatformException("SetFileInformationByHandle (rename)", error, name);
                PrivateFolders.Ensure(Folder, TrashFolder);   // the trash folder was removed by hand
            }
            byte delete = 1;
            if (Win32.SetFileInformationByHandle(file, Win32.FileDispositionInfo, &delete, 1)) return;
            int failed = Win32.LastError;
            // The name is already free (renamed away): a mark that fails because someone else deleted the trash file
            // meanwhile (an older IpcPs's sweep, which used DeleteFile) leaves nothing to do.
            if (Win32.GetFileInformationByHandle(file, out var info) && !StillLinked(trash, info)) return;
            throw new IpcPlatformException("SetFileInformationByHandle (delete)", failed, name);
        }

        /// <summary>Renames the open FILE to TARGET (a full, extended-length path on the same volume); false with the error in LastError.</summary>
        private static bool Rename(IntPtr file, string target)
        {
            // FILE_RENAME_INFO: { union { BOOLEAN ReplaceIfExists; DWORD Flags; }; HANDLE RootDirectory; DWORD FileNameLength; WCHAR FileName[]; }
            int handleOffset = IntPtr.Size, lengthOffset = handleOffset + IntPtr.Size, nameOffset = lengthOffset + 4;
            int nameBytes = target.Length * 2;
            int size = nameOffset + nameBytes + 2;
            byte* info = stackalloc byte[size];
            for (int i = 0; i < size; i++) info[i] = 0;
            *(int*)(info + lengthOffset) = nameBytes;
            fixed (char* t = target) Buffer.MemoryCopy(t, info + nameOffset, nameBytes, nameBytes);
            return Win32.SetFileInformationByHandle(file, Win32.FileRenameInfo, info, size);
        }
    }
}
