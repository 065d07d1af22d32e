using System;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Where managers keep their folders (docs/design.md, "Managers", "Folders"): the names of a manager folder's files,
    /// and the platform's folders (<see cref="Platform.IManagerFolders"/>: Linux in the temp folder, checked on
    /// descriptors; Windows in the user's profile, with a user-only security descriptor).
    /// </summary>
    internal static class ManagerState
    {
        public const string KeyFile = "authkey";
        public const string SocketFile = "socket";
        public const string AddressFile = "address";

        /// <inheritdoc cref="Platform.IManagerFolders.LocalOverLoopback"/>
        public static bool LocalOverLoopback => Folders.LocalOverLoopback;

        /// <inheritdoc cref="Platform.IManagerFolders.WriteAddress"/>
        public static void WriteAddress(string dir, string address) => Folders.WriteAddress(dir, address);

        /// <summary>The address of the local manager whose folder is DIR (see <see cref="Platform.IManagerFolder.LocalAddress"/>), or null.</summary>
        public static string? LocalAddressOf(string dir)
        {
            using (var folder = OpenLocal(dir)) return folder?.LocalAddress();
        }

        private static Platform.IManagerFolders Folders => Platform.Platforms.Current.ManagerFolders;

        /// <inheritdoc cref="Platform.IManagerFolders.Create"/>
        public static string Create(string? name) => Folders.Create(name);

        /// <inheritdoc cref="Platform.IManagerFolders.Find"/>
        public static string? Find(string name) => Folders.Find(name);

        /// <inheritdoc cref="Platform.IManagerFolders.WriteKey"/>
        public static void WriteKey(string dir, byte[] key) => Folders.WriteKey(dir, key);

        /// <inheritdoc cref="Platform.IManagerFolders.Remove"/>
        public static void Remove(string dir) => Folders.Remove(dir);

        /// <inheritdoc cref="Platform.IManagerFolders.OpenLocal"/>
        public static Platform.IManagerFolder? OpenLocal(string? dir) => Folders.OpenLocal(dir);
    }
}
