namespace IpcPs
{
    /// <summary>The kinds of named IPC object. A registry record stores the kind by name, so members are never renamed.</summary>
    public enum IpcObjectKind
    {
        SharedMemory,
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
