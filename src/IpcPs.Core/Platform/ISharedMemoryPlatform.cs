using System.Collections.Generic;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Named shared memory as the operating system offers it. Linux: POSIX segments in /dev/shm (Linux/). Windows:
    /// named file mappings in the session's namespace (Windows/). macOS (shm_open, as Linux) would plug in beside them.
    /// </summary>
    internal interface ISharedMemoryPlatform
    {
        /// <summary>
        /// Creates NAME with at least SIZE zeroed bytes, private to the user; <see cref="IpcObjectExistsException"/> if
        /// taken. WAITABLE: the segment holds words that <see cref="IWordWait"/> sleeps on (every kind with the IpcPs
        /// header); Windows then adds the sleepers table those waits need (docs/design.md, "Waits on Windows").
        /// </summary>
        Segment Create(string name, long size, bool waitable = false);

        /// <summary>
        /// SIZE zeroed bytes of this process's own, with no name: nothing to remove, gone with the mapping, never seen by
        /// another process (a spare's warm-up queue). LABEL only names the segment in errors. WAITABLE as for
        /// <see cref="Create"/>.
        /// </summary>
        Segment CreateUnnamed(string label, long size, bool waitable = false);

        /// <summary>
        /// Attaches NAME, its size read from the segment; <see cref="IpcObjectNotFoundException"/> if absent,
        /// <see cref="IpcObjectOwnerException"/> if it belongs to another user. WAITABLE as for <see cref="Create"/>: a
        /// segment opened so must have been created so (Windows checks its sleepers table).
        /// </summary>
        Segment Open(string name, bool waitable = false);

        /// <summary>
        /// The first COUNT bytes of NAME (fewer when it is smaller), read without keeping it mapped, from a segment checked
        /// as <see cref="Open"/> checks it.
        /// </summary>
        byte[] Peek(string name, int count);

        /// <summary>
        /// Removes the name (never another user's segment); mappings already made stay valid. False when it was already
        /// gone. Where names cannot be removed (<see cref="UnlinkRemovesName"/> false: Windows, whose kernel destroys a
        /// mapping with its last handle), nothing is removed and the answer is whether the segment still exists.
        /// </summary>
        bool Unlink(string name);

        /// <summary>
        /// True where <see cref="Unlink"/> removes the name at once (Linux). False on Windows: the lifecycle then keeps
        /// a removed object's record as a tombstone until its holders have closed it (docs/design.md, "Lifecycle on Windows").
        /// </summary>
        bool UnlinkRemovesName { get; }

        bool Exists(string name);

        /// <summary>The error for creating NAME when it exists: <see cref="IpcObjectOwnerException"/> when another user's.</summary>
        IpcException Taken(string name);

        /// <summary>Size in bytes of the named segment, or null when absent.</summary>
        long? SizeOf(string name);

        /// <summary>
        /// Names of the user's segments. Linux: every segment of the user's in /dev/shm. Windows cannot enumerate named
        /// objects: the names the registry knows whose segments exist.
        /// </summary>
        IEnumerable<string> List();
    }
}
