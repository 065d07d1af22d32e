using System;
using System.IO;
using System.Security.Cryptography;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Manager folders on Windows: <c>%LOCALAPPDATA%\IpcPs\managers\NAME</c> (NAME encoded as a registry record's file
    /// name is, <see cref="RecordFileName"/>: names are case-sensitive, Windows file names are not), each made with the user-only security
    /// descriptor (<see cref="PrivateSecurity"/>), holding, for a local manager, the key file and the address file (the
    /// loopback host:port it listens on: local managers use TCP on Windows, <see cref="LocalOverLoopback"/>), both made
    /// with CREATE_NEW and the same descriptor. The profile folder is the user's alone, so unlike Linux's shared temp
    /// folder nobody can make the parent first: there is no fallback parent. A folder is used only when it is a real
    /// folder (not a junction or link) that is private to the user (owner and every allowing entry of its DACL: the
    /// user); a key only from a regular file of the user's of 1 to 4096 bytes. <see cref="OpenLocal"/> holds the
    /// folder open without FILE_SHARE_DELETE, so it can be neither renamed nor replaced while a key is read from it or
    /// its socket is reached.
    /// </summary>
    internal sealed unsafe class WindowsManagerFolders : IManagerFolders
    {
        private const int MaxKeyFileBytes = 4096;
        private readonly object _gate = new object();
        private string? _parent;

        private string Parent
        {
            get
            {
                lock (_gate)
                {
                    if (_parent != null && Directory.Exists(_parent)) return _parent;
                    string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
                    if (string.IsNullOrEmpty(local)) throw new IpcException("Managers need %LOCALAPPDATA%, which is not set.");
                    _parent = PrivateFolders.Ensure(local, "IpcPs", "managers");
                    return _parent;
                }
            }
        }

        public string Create(string? name)
        {
            if (name is null)
            {
                var bytes = new byte[6];
                using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
                name = BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            }
            else name = IpcName.Validate(name);
            string dir = Path.Combine(Parent, RecordFileName.Encode(name));   // names are case-sensitive, file names not
            var sa = PrivateSecurity.ForFolder();
            if (!Win32.CreateDirectory(ExtendedPath.Of(dir), &sa))
            {
                int error = Win32.LastError;
                if (error == Win32.ERROR_ALREADY_EXISTS) throw new IpcObjectExistsException(name);
                throw new IpcPlatformException("CreateDirectory", error, dir);
            }
            return dir;
        }

        public string? Find(string name)
        {
            string dir = Path.Combine(Parent, RecordFileName.Encode(IpcName.Validate(name)));
            using (var folder = OpenLocal(dir)) return folder is null ? null : dir;
        }

        public void WriteKey(string dir, byte[] key) => WritePrivate(dir, Managers.ManagerState.KeyFile, key);

        public bool LocalOverLoopback => true;

        public void WriteAddress(string dir, string address) => WritePrivate(dir, Managers.ManagerState.AddressFile, System.Text.Encoding.UTF8.GetBytes(address));

        /// <summary>Writes BYTES to DIR\FILE: created exclusively (CREATE_NEW), with the user-only descriptor, never through a link.</summary>
        private static void WritePrivate(string dir, string fileName, byte[] bytes)
        {
            using (var folder = OpenLocalFolder(dir) ?? throw new IpcException($"The manager folder '{dir}' is not a private folder of this user.", dir))
            {
                var sa = PrivateSecurity.ForObject();
                string path = Path.Combine(dir, fileName);
                IntPtr file = Win32.CreateFile(ExtendedPath.Of(path), Win32.GENERIC_WRITE, 0, &sa, Win32.CREATE_NEW, Win32.FILE_ATTRIBUTE_NORMAL | Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
                if (file == Win32.InvalidHandle) throw new IpcPlatformException("CreateFile", Win32.LastError, path);
                try
                {
                    fixed (byte* b = bytes)
                        for (int done = 0; done < bytes.Length;)
                        {
                            if (!Win32.WriteFile(file, b + done, bytes.Length - done, out int written, null)) throw new IpcPlatformException("WriteFile", Win32.LastError, path);
                            done += written;
                        }
                }
                finally { Win32.CloseHandle(file); }
            }
        }

        public void Remove(string dir)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }

        public IManagerFolder? OpenLocal(string? dir) => OpenLocalFolder(dir);

        private static Folder? OpenLocalFolder(string? dir)
        {
            if (string.IsNullOrEmpty(dir)) return null;
            // No FILE_SHARE_DELETE: while we hold it, the folder cannot be renamed, moved or deleted.
            IntPtr handle = Win32.CreateFile(ExtendedPath.Of(dir!), Win32.READ_CONTROL | Win32.FILE_READ_ATTRIBUTES, Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE,
                null, Win32.OPEN_EXISTING, Win32.FILE_FLAG_BACKUP_SEMANTICS | Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (handle == Win32.InvalidHandle) return null;
            try
            {
                if (!Win32.GetFileInformationByHandle(handle, out var info)
                    || (info.FileAttributes & Win32.FILE_ATTRIBUTE_DIRECTORY) == 0 || (info.FileAttributes & Win32.FILE_ATTRIBUTE_REPARSE_POINT) != 0
                    || !PrivateSecurity.IsPrivate(handle, Win32.SE_FILE_OBJECT, dir!))
                {
                    Win32.CloseHandle(handle);
                    return null;
                }
                return new Folder(handle, dir!);
            }
            catch
            {
                Win32.CloseHandle(handle);
                throw;
            }
        }

        /// <summary>Windows has no path through a handle: a socket path must fit AF_UNIX's 108 bytes as it is.</summary>
        public IDisposable? ReachLongSocketPath(string path, out string? viaPath)
        {
            viaPath = null;
            return null;
        }

        private sealed class Folder : IManagerFolder
        {
            private IntPtr _handle;

            public Folder(IntPtr handle, string path) { _handle = handle; Path = path; }

            public string Path { get; }

            public string SocketPath => System.IO.Path.Combine(Path, Managers.ManagerState.SocketFile);

            public byte[]? ReadKey() => ReadPrivate(Managers.ManagerState.KeyFile);

            /// <summary>The address file's text (host:port), read as the key is; null if there is none.</summary>
            public string? LocalAddress()
            {
                var bytes = ReadPrivate(Managers.ManagerState.AddressFile);
                if (bytes is null) return null;
                string text = System.Text.Encoding.UTF8.GetString(bytes);
                return Managers.ManagerAddress.IsUnix(text) ? null : text;   // a loopback host:port, nothing else
            }

            /// <summary>FILE in the folder, if it is a regular file of this user of 1 to 4096 bytes; else null.</summary>
            private byte[]? ReadPrivate(string fileName)
            {
                string path = System.IO.Path.Combine(Path, fileName);
                IntPtr file = Win32.CreateFile(ExtendedPath.Of(path), Win32.GENERIC_READ | Win32.READ_CONTROL, Win32.FILE_SHARE_READ, null, Win32.OPEN_EXISTING,
                    Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
                if (file == Win32.InvalidHandle) return null;
                try
                {
                    if (!Win32.GetFileInformationByHandle(file, out var info)
                        || (info.FileAttributes & (Win32.FILE_ATTRIBUTE_DIRECTORY | Win32.FILE_ATTRIBUTE_REPARSE_POINT)) != 0
                        || !PrivateSecurity.OwnerOf(file, Win32.SE_FILE_OBJECT, path).Ours
                        || !Win32.GetFileSizeEx(file, out long size) || size <= 0 || size > MaxKeyFileBytes) return null;
                    var bytes = new byte[size];
                    fixed (byte* b = bytes)
                        for (int done = 0; done < bytes.Length;)
                        {
                            if (!Win32.ReadFile(file, b + done, bytes.Length - done, out int read, null) || read == 0) return null;   // shrank: not a file we trust
                            done += read;
                        }
                    return bytes;
                }
                catch (IpcPlatformException) { return null; }
                finally { Win32.CloseHandle(file); }
            }

            public void Dispose()
            {
                if (_handle != IntPtr.Zero) Win32.CloseHandle(_handle);
                _handle = IntPtr.Zero;
            }
        }
    }
}
