namespace IpcPs
{
    /// <summary>The kinds of named IPC object. A registry record stores the kind by name, so members are never renamed.</summary>
    public enum IpcObjectKind
    {
        SharedMemory,
        Lock,
        RLock,
        Semaphore,
        BoundedSemaphore,
        Event,
        Condition,
        Barrier,
        Queue,
        Pipe,
        /// <summary>A typed value in shared memory (CPython's multiprocessing.Value).</summary>
        Value,
        /// <summary>A typed array in shared memory (CPython's multiprocessing.Array).</summary>
        Array,
        /// <summary>CPython's shared_memory.ShareableList, byte for byte (no IpcPs header).</summary>
        ShareableList,
    }

    /// <summary>How an attempt to take a lock or a semaphore permit ended.</summary>
    public enum LockAcquisition
    {
        /// <summary>Taken.</summary>
        Acquired,
        /// <summary>Taken, from a holder that had died: the caller holds it now; the protected data may be inconsistent.</summary>
        Abandoned,
        /// <summary>Not taken: the timeout passed (or the call did not block).</summary>
        TimedOut,
    }

    /// <summary>How an object stands, as Get-IpcObject shows it.</summary>
    public enum IpcObjectStatus
    {
        /// <summary>At least one live process holds it open.</summary>
        Active,
        /// <summary>Every process that held it has died without closing it (SIGKILL, crash); Remove-IpcObject reclaims it.</summary>
        Orphaned,
        /// <summary>A segment IpcPs did not create (CPython, another program): never destroyed automatically.</summary>
        Foreign,
        /// <summary>The name no longer exists (removed after this object was opened).</summary>
        Removed,
    }
}
