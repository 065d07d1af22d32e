using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// A manager's directory: mode 0700, under the temp folder, holding "socket" (the Unix socket) and "authkey"
    /// (mode 0600). The key file is how processes of the same user on this machine (Start-IpcProcess children, a
    /// proxy that crossed into another process) authenticate without the key travelling with the proxy.
    /// </summary>
    internal static class ManagerState
    {
        public const string KeyFile = "authkey";

        [DllImport("libc", SetLastError = true)] private static extern int mkdir(string path, uint mode);
        [DllImport("libc", SetLastError = true)] private static extern int chmod(string path, uint mode);

        /// <summary>The directory of the manager called NAME (a random name when null).</summary>
        public static string PathOf(string name) => Path.Combine(Path.GetTempPath(), "ipcps-manager-" + IpcName.Validate(name));

        /// <summary>Makes a new manager directory (mode 0700); a NAME already in use is <see cref="IpcObjectExistsException"/>.</summary>
        public static string Create(string? name)
        {
            if (name is null)
            {
                var bytes = new byte[6];
                using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
                name = BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            }
            string dir = PathOf(name);
            if (mkdir(dir, 0x1C0 /* 0700 */) != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == 17 /* EEXIST */) throw new IpcObjectExistsException(name);
                throw new IpcPlatformException("mkdir", errno, dir);
            }
            return dir;
        }

        public static void WriteKey(string dir, byte[] key)
        {
            string path = Path.Combine(dir, KeyFile);
            File.WriteAllBytes(path, Array.Empty<byte>());
            chmod(path, 0x180 /* 0600 */);   // the directory is 0700 already; this keeps the file private if it is moved
            File.WriteAllBytes(path, key);
        }

        /// <summary>
        /// The key in DIR, only if DIR is a directory of this user that nobody else may enter (mode 0700): the temp
        /// folder is shared, and another user could make ipcps-manager-NAME first, with a key of their own and a
        /// socket of their own, to pose as the manager. A directory that fails the check gives no key (null).
        /// </summary>
        public static byte[]? ReadKey(string? dir)
        {
            if (string.IsNullOrEmpty(dir)) return null;
            if (!IsPrivate(dir!)) return null;
            try { return File.ReadAllBytes(Path.Combine(dir, KeyFile)); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        private static bool IsPrivate(string dir)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
            try
            {
                return Platform.Linux.Posix.Stat(dir) is Platform.Linux.FileStatus st && st.IsDirectory
                    && st.Uid == Platform.Linux.LibC.geteuid() && (st.Mode & 0x3F) == 0;
            }
            catch (IpcPlatformException) { return false; }
        }

        public static void Remove(string dir)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }
    }
}
