namespace IpcPs
{
    /// <summary>
    /// The object was made in another pid namespace (a container sharing /dev/shm but not its pids): the pids in its
    /// locks and records name other processes here, so its holders' liveness cannot be judged. Opening it is refused
    /// rather than risking taking a lock from a live holder or destroying an object in use.
    /// </summary>
    public sealed class IpcPidNamespaceException : IpcException
    {
        public IpcPidNamespaceException(string name, uint objectNamespace, uint currentNamespace)
            : base($"The IPC object '{name}' was created in another pid namespace (pid:[{objectNamespace}]; this process is in pid:[{currentNamespace}]). "
                + "Its holders' process ids mean other processes here, so IpcPs cannot tell whether they are alive and refuses to open it. "
                + "Use IpcPs objects within one pid namespace (containers that share /dev/shm must share their pid namespace too).", name)
        {
            ObjectNamespace = objectNamespace;
            CurrentNamespace = currentNamespace;
        }

        /// <summary>The pid namespace recorded with the object (the inode of /proc/PID/ns/pid of its creator).</summary>
        public uint ObjectNamespace { get; }

        /// <summary>This process's pid namespace.</summary>
        public uint CurrentNamespace { get; }
    }
}
