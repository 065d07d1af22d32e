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
