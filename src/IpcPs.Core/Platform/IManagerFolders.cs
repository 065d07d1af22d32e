using System;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Where managers keep their folders and key files (docs/design.md, "Managers", "Folders"): every manager has a
    /// folder private to the user holding its socket and, for a local manager, its key file. The invariant both
    /// platforms keep: a path handed out by <see cref="Create"/> or <see cref="Find"/> names a private folder of this
    /// user, and a key is read, and the socket reached, only through a folder held open and checked again
    /// (<see cref="OpenLocal"/>), so a path changed between the check and the use cannot lead anywhere else.
    /// Linux: folders in the shared temp folder, checked on descriptors (Linux/LinuxManagerFolders). Windows: folders
    /// in the user's profile with a user-only security descriptor (Windows/WindowsManagerFolders).
    /// </summary>
    internal interface IManagerFolders
    {
        /// <summary>
        /// Makes a new private manager folder called NAME (random when null) and returns its path; a NAME already in
        /// use by a manager of this user is <see cref="IpcObjectExistsException"/>.
        /// </summary>
        string Create(string? name);

        /// <summary>The folder of this user's manager called NAME, or null when there is none.</summary>
        string? Find(string name);

        /// <summary>Writes KEY to DIR's key file: created exclusively, private, never through a link.</summary>
        void WriteKey(string dir, byte[] key);

        /// <summary>
        /// True where a local manager (one started without -Address) listens on TCP on the loopback, its address in its
        /// folder's address file, because the platform gives no Unix domain sockets to rely on (Windows: Wine has none,
        /// and Windows 10 before 1803 neither). False where it listens on the Unix socket in its folder (Linux).
        /// </summary>
        bool LocalOverLoopback { get; }

        /// <summary>Writes ADDRESS (host:port) to DIR's address file, as <see cref="WriteKey"/> writes the key (only where <see cref="LocalOverLoopback"/>).</summary>
        void WriteAddress(string dir, string address);

        /// <summary>Removes a manager folder (and, where folders share a parent made for them, the parent once empty).</summary>
        void Remove(string dir);

        /// <summary>The folder DIR held open, if it is a private folder of this user; else null.</summary>
        IManagerFolder? OpenLocal(string? dir);

        /// <summary>
        /// For a Unix socket PATH too long for sun_path (108 bytes): a way to reach it that is short (Linux: through its
        /// folder's descriptor, /proc/self/fd/N/NAME; VIAPATH set, the returned handle closed after connecting). Null
        /// (and VIAPATH null) when PATH is short enough or the platform has no such way.
        /// </summary>
        IDisposable? ReachLongSocketPath(string path, out string? viaPath);
    }

    /// <summary>A manager folder of this user held open (checked once, used for everything after).</summary>
    internal interface IManagerFolder : IDisposable
    {
        string Path { get; }

        /// <summary>The socket's path as a client or the server should use it (Linux: through the held descriptor).</summary>
        string SocketPath { get; }

        /// <summary>The key file's bytes, if it is a regular file of this user of 1 to 4096 bytes; else null.</summary>
        byte[]? ReadKey();

        /// <summary>
        /// Where the folder's manager listens: the Unix socket in it (unix:PATH), or, where local managers listen on the
        /// loopback, the address file's text (host:port, read as the key is: a private file of this user); null if none.
        /// </summary>
        string? LocalAddress();
    }
}
