using System;

namespace IpcPs
{
    /// <summary>Base of every error IpcPs raises about an IPC object. <see cref="ObjectName"/> names it.</summary>
    public class IpcException : Exception
    {
        public IpcException(string message, string? objectName = null, Exception? inner = null)
            : base(message, inner) => ObjectName = objectName;

        /// <summary>The name of the IPC object concerned, when there is one.</summary>
        public string? ObjectName { get; }
    }

    /// <summary>A <c>New-*</c> found its name already taken (CPython: FileExistsError).</summary>
    public sealed class IpcObjectExistsException : IpcException
    {
        public IpcObjectExistsException(string name)
            : base($"An IPC object named '{name}' already exists. Open it (New-* -OpenOrCreate, or Get-IpcObject -Name '{name}' -Open), or choose another name.", name) { }

        /// <summary>The name is taken for a reason MESSAGE explains (Windows: removed, but still open somewhere).</summary>
        internal IpcObjectExistsException(string name, string message) : base(message, name) { }
    }

    /// <summary>No object of that name exists (CPython: FileNotFoundError).</summary>
    public sealed class IpcObjectNotFoundException : IpcException
    {
        public IpcObjectNotFoundException(string name)
            : base($"No IPC object named '{name}' exists.", name) { }
    }

    /// <summary>
    /// The object this handle refers to was destroyed (Remove-IpcObject, Unlink, the end of the scope that made it, its
    /// manager's shutdown): its name is gone, and whatever this handle did would reach nobody. Raised by every use of
    /// the handle instead of working silently on the destroyed object; reading what it last held still works.
    /// </summary>
    public sealed class IpcObjectRemovedException : IpcException
    {
        public IpcObjectRemovedException(string name, IpcObjectKind kind)
            : base($"The {kind} '{name}' was removed (Remove-IpcObject, Unlink, or the end of the scope or manager that made it): this handle refers to a destroyed object. Close it; create the object again to go on.", name) { }
    }

    /// <summary>A name that no platform object may carry.</summary>
    public sealed class InvalidIpcNameException : ArgumentException
    {
        public InvalidIpcNameException(string? name, string reason)
            : base($"'{name}' is not a valid IPC object name: {reason}", "Name") => ObjectName = name;

        public string? ObjectName { get; }
    }

    /// <summary>An object exists under the name but is of another kind, or its bytes are not what the kind requires.</summary>
    public class IpcObjectKindException : IpcException
    {
        public IpcObjectKindException(string name, string message) : base(message, name) { }
    }

    /// <summary>
    /// The object's shared memory is damaged: a header field, a link or a count that another writer changed into
    /// something impossible. Raised instead of reading or writing outside the segment; the process goes on.
    /// </summary>
    public sealed class IpcObjectCorruptException : IpcObjectKindException
    {
        public IpcObjectCorruptException(string name, string what)
            : base(name, $"The {what}. Remove it with Remove-IpcObject -Name '{name}' and create it again.") { }

        /// <summary>
        /// An object of a backend server (ADDRESS, without its password) whose stored fields are damaged: WHAT says which,
        /// and the advice names the backend (Remove-IpcObject without -Backend would remove a local object of that name).
        /// </summary>
        public IpcObjectCorruptException(string name, string address, string what)
            : base(name, $"The object '{name}' at {address} is damaged: {what}. Remove it with Remove-IpcObject -Name '{name}' -Backend '{address}' and create it again.") { }
    }

    /// <summary>
    /// The name is taken by a segment (or folder) that belongs to another user. IpcPs never opens, trusts or removes
    /// another user's memory: in /dev/shm anyone may create any name, so such a segment may have been planted.
    /// </summary>
    public sealed class IpcObjectOwnerException : IpcException
    {
        public IpcObjectOwnerException(string name, long ownerUid)
            : base($"'{name}' exists but belongs to another user (uid {ownerUid}); IpcPs never uses another user's shared memory. Choose another name.", name)
        {
            OwnerUid = ownerUid;
            Owner = "uid " + ownerUid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>On Windows: OWNER is the owner's SID (S-1-…), or a phrase when it cannot be read.</summary>
        public IpcObjectOwnerException(string name, string owner)
            : base($"'{name}' exists but belongs to another user ({owner}); IpcPs never uses another user's shared memory. Choose another name.", name)
        {
            OwnerUid = -1;
            Owner = owner;
        }

        /// <summary>The user id that owns the segment (Linux); -1 on Windows, where <see cref="Owner"/> is a SID.</summary>
        public long OwnerUid { get; }

        /// <summary>Who owns it, as the platform names users: "uid 1000" on Linux, a SID on Windows.</summary>
        public string Owner { get; }
    }

    /// <summary>
    /// What was asked needs something this platform does not have (ErrorId IpcNotSupported): a Unix-socket manager
    /// address where there are no Unix domain sockets (Wine, Windows before 10 1803). Said plainly, never a
    /// PlatformNotSupportedException from deep inside.
    /// </summary>
    public sealed class IpcNotSupportedException : IpcException
    {
        public IpcNotSupportedException(string message, string? objectName = null) : base(message, objectName) { }
    }

    /// <summary>A failed operating-system call. Keeps the errno and the operation.</summary>
    public sealed class IpcPlatformException : IpcException
    {
        public IpcPlatformException(string operation, int errno, string? objectName) : this(operation, errno, objectName, null) { }

        /// <summary>INNER: the .NET exception the call raised (a Process.Start, socket or file error turned into this one).</summary>
        public IpcPlatformException(string operation, int errno, string? objectName, Exception? inner)
            : base(Describe(operation, errno, objectName), objectName, inner)
        {
            Operation = operation;
            ErrorNumber = errno;
        }

        public string Operation { get; }

        /// <summary>The error number the call failed with: errno on Linux, a Win32 error code on Windows.</summary>
        public int ErrorNumber { get; }

        /// <summary>True when the system refused for lack of permission.</summary>
        public bool IsPermissionDenied => Core.Platform.PlatformErrors.IsPermissionDenied(ErrorNumber);

        /// <summary>
        /// True when no descriptor was left (EMFILE: this process's limit, ulimit -n; ENFILE: the system's): nothing was
        /// made or left behind, and the same call works once descriptors are free again.
        /// </summary>
        public bool IsOutOfDescriptors => Core.Platform.PlatformErrors.IsOutOfDescriptors(ErrorNumber);

        /// <summary>
        /// True when a resource limit refused (ErrorCategory LimitsExceeded): no descriptor left, no process or thread
        /// could start (EAGAIN: RLIMIT_NPROC, ulimit -u), no memory (ENOMEM).
        /// </summary>
        public bool IsResourceLimit => Core.Platform.PlatformErrors.IsResourceLimit(ErrorNumber);

        /// <summary>E as this exception (E inside) when .NET raised it for lack of descriptors; null for anything else.</summary>
        internal static IpcPlatformException? OutOfDescriptors(string operation, Exception e, string? objectName) =>
            Core.Platform.PlatformErrors.OutOfDescriptors(e) is int code ? new IpcPlatformException(operation, code, objectName, e) : null;

        private static string Describe(string op, int errno, string? name) =>
            $"{op} failed{(name is null ? "" : $" for '{name}'")}: {Core.Platform.PlatformErrors.Describe(errno)} ({Core.Platform.PlatformErrors.Label} {errno}).";
    }
}

namespace IpcPs
{
    /// <summary>
    /// The lock (or semaphore permit) was held by a process that died without releasing it. The call that throws
    /// this HAS acquired it: the caller owns it now, must release it, and should check the data it protects.
    /// </summary>
    public sealed class AbandonedLockException : IpcException
    {
        public AbandonedLockException(string name, string kind)
            : base($"The {kind} '{name}' was abandoned: the process holding it died without releasing it. It is now held by this caller; the data it protects may be inconsistent.", name) { }
    }

    /// <summary>A barrier was broken (aborted, reset while waiting, timed out, its action failed, or a waiter died).</summary>
    public sealed class BrokenBarrierException : IpcException
    {
        public BrokenBarrierException(string name, string why, bool timedOut = false) : base($"The barrier '{name}' is broken: {why}", name) => TimedOut = timedOut;

        /// <summary>True for the party whose own timeout ran out and broke the barrier (CPython raises BrokenBarrierError there too).</summary>
        public bool TimedOut { get; }
    }

    /// <summary>A wait that must not fail silently ran out of time (a lock taken by Use-IpcLock, a barrier).</summary>
    public sealed class IpcTimeoutException : System.TimeoutException
    {
        public IpcTimeoutException(string message, string name) : base(message) => ObjectName = name;
        public string ObjectName { get; }
    }

    /// <summary>An item does not fit where it must go (a ShareableList slot: CPython's "exceeds available storage").</summary>
    public sealed class IpcStorageException : IpcException
    {
        public IpcStorageException(string? name, string message) : base(message, name) { }
    }

    /// <summary>A synchronisation call made in a state that forbids it (over-release, release by a non-owner).</summary>
    public sealed class IpcSyncStateException : IpcException
    {
        public IpcSyncStateException(string name, string message) : base(message, name) { }
    }
}
