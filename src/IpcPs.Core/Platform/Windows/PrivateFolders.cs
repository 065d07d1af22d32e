using System;
using System.IO;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Folders of the current user's made with the user-only security descriptor (<see cref="PrivateSecurity"/>) inside
    /// the user's profile (%LOCALAPPDATA%), which other users cannot write to: nobody else can make them first. An
    /// existing folder is used only when it is a real folder (not a junction or symlink) owned by the user.
    /// </summary>
    internal static unsafe class PrivateFolders
    {
        /// <summary>BASE\PARTS…, each made if missing; the last one checked. Returns its path.</summary>
        public static string Ensure(string basePath, params string[] parts)
        {
            string path = basePath;
            var sa = PrivateSecurity.ForFolder();
            foreach (var part in parts)
            {
                path = Path.Combine(path, part);
                if (!Win32.CreateDirectory(ExtendedPath.Of(path), &sa))
                {
                    int error = Win32.LastError;
                    if (error != Win32.ERROR_ALREADY_EXISTS) throw new IpcPlatformException("CreateDirectory", error, path);
                }
            }
            Check(path);
            return path;
        }

        /// <summary>Refuses PATH unless it is a folder (not a reparse point) whose owner is the current user.</summary>
        public static void Check(string path)
        {
            IntPtr dir = Win32.CreateFile(ExtendedPath.Of(path), Win32.READ_CONTROL | Win32.FILE_READ_ATTRIBUTES,
                Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE | Win32.FILE_SHARE_DELETE, null, Win32.OPEN_EXISTING,
                Win32.FILE_FLAG_BACKUP_SEMANTICS | Win32.FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (dir == Win32.InvalidHandle) throw new IpcPlatformException("CreateFile (folder)", Win32.LastError, path);
            try
            {
                if (!Win32.GetFileInformationByHandle(dir, out var info)) throw new IpcPlatformException("GetFileInformationByHandle", Win32.LastError, path);
                if ((info.FileAttributes & Win32.FILE_ATTRIBUTE_DIRECTORY) == 0 || (info.FileAttributes & Win32.FILE_ATTRIBUTE_REPARSE_POINT) != 0)
                    throw new IpcException($"'{path}' is not a folder (a file, a junction or a link); refusing to use it.", path);
                var (ours, owner) = PrivateSecurity.OwnerOf(dir, Win32.SE_FILE_OBJECT, path);
                if (!ours) throw new IpcObjectOwnerException(path, owner);
            }
            finally { Win32.CloseHandle(dir); }
        }
    }
}
