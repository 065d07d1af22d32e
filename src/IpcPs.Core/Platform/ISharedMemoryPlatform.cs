using System.Collections.Generic;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Named shared memory as the operating system offers it. Linux: POSIX segments in /dev/shm. A Windows
    /// (named file mappings) or macOS (shm_open) implementation plugs in here.
    /// </summary>
    internal interface ISharedMemoryPlatform
    {
        /// <summary>Creates NAME with exactly SIZE zeroed bytes, private to the user; <see cref="IpcObjectExistsException"/> if taken.</summary>
        Segment Create(string name, long size);

        /// <summary>
        /// Attaches NAME, its size read from the segment; <see cref="IpcObjectNotFoundException"/> if absent,
        /// <see cref="IpcObjectOwnerException"/> if it belongs to another user.
        /// </summary>
        Segment Open(string name);

        /// <summary>
        /// The first COUNT bytes of NAME (fewer when it is smaller), read without mapping it, from a segment checked as
        /// <see cref="Open"/> checks it.
        /// </summary>
        byte[] Peek(string name, int count);

        /// <summary>Removes the name (never another user's segment); mappings already made stay valid. False when it was already gone.</summary>
        bool Unlink(string name);

        bool Exists(string name);

        /// <summary>The error for creating NAME when it exists: <see cref="IpcObjectOwnerException"/> when another user's.</summary>
        IpcException Taken(string name);

        /// <summary>Size in bytes of the named segment, or null when absent.</summary>
        long? SizeOf(string name);

        /// <summary>Names of the user's segments.</summary>
        IEnumerable<string> List();
    }

}
