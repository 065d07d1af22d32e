using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// The per-user registry of named objects: one record per name, changed only under a lock that the operating
    /// system drops when its holder dies, so a SIGKILL can never leave the registry locked.
    /// </summary>
    internal interface IObjectRegistry
    {
        /// <summary>
        /// Locks NAME's record and runs BODY with it (null when there is none). BODY returns the record to store, or
        /// null to delete it. With <paramref name="create"/> false and no record, BODY runs unlocked with null and
        /// must return null.
        /// </summary>
        T Update<T>(string name, bool create, Func<RegistryRecord?, (RegistryRecord? Next, T Result)> body);

        /// <summary>A snapshot of NAME's record, or null.</summary>
        RegistryRecord? Read(string name);

        /// <summary>Every name that has a record.</summary>
        IEnumerable<string> Names();
    }

    /// <summary>
    /// Test hooks of the registries. Null outside tests: one null check per record access.
    /// </summary>
    internal static class RegistryTestHooks
    {
        /// <summary>
        /// Both registries: called with the name after a record's file is opened and checked, before its lock is taken
        /// (tests/IpcPs.Tests/PlatformRegistryTests: a waiter that opened a record about to be deleted).
        /// </summary>
        public static Action<string>? BeforeLock;

        /// <summary>
        /// Windows: called with the path the registry is about to open a record at (CreateFile); a non-zero answer is
        /// taken as the Win32 error that CreateFile failed with, and the file is not opened. Tests make a path that
        /// never resolves, or emulate Windows' MAX_PATH rule under Wine, which has none (tests/pester/WindowsLongPath).
        /// </summary>
        public static Func<string, int>? RecordOpenError;
    }

    /// <summary>What is known now of a process recorded in shared memory or in the registry.</summary>
    internal enum ProcessState
    {
        /// <summary>It runs (same pid, same start time, a process rather than a thread).</summary>
        Running,
        /// <summary>Known to be gone: no such pid, a zombie, a thread, or a later process that reused the pid.</summary>
        Gone,
        /// <summary>Cannot be told (no descriptor left, out of memory, /proc unreadable): treated as running.</summary>
        Unknown,
    }

    /// <summary>Liveness of processes, for owners and holders. Fails closed: only Gone lets a caller take anything.</summary>
    internal interface IProcessTable
    {
        /// <summary>This process: its pid and start time.</summary>
        ProcessIdentity Current { get; }

        /// <summary>The pid namespace this process's pids belong to (Linux: the inode of /proc/self/ns/pid); 0 when unknown.</summary>
        uint PidNamespace { get; }

        /// <summary>
        /// Whether the process PID that started at START still runs. STARTMASK: the bits of START that were recorded
        /// (lock words keep the low 32 bits; 0 when the start is unknown and only the pid can be judged).
        /// </summary>
        ProcessState Check(int pid, long start, long startMask);

        /// <summary>The identity of the running process PID, or null when it is not running or cannot be read.</summary>
        ProcessIdentity? Find(int pid);

        /// <summary>
        /// CHILD, a process this one started (its <c>Process</c> not disposed), held for the signals a stop or a kill sends
        /// it (<see cref="IChildProcess"/>): they reach it or nothing, never a process that took its pid once it was reaped.
        /// Pinning is race-free at any moment: a child that was not yet reaped after its pidfd was taken still owned its pid.
        /// Signals to a child go through this, never through its bare pid. START: the child's start time recorded at its
        /// launch (<see cref="Find"/> then), which makes the tree walks' root that very process; 0 when none was recorded:
        /// read now, and where the child is a zombie already or /proc cannot be read, not known.
        /// </summary>
        IChildProcess Pin(System.Diagnostics.Process child, long start = 0);

        /// <summary>
        /// Ends PID at once (SIGKILL; TerminateProcess). A process that has already ended is no error. By bare pid: only
        /// for this process itself (a crash point); a child is killed through <see cref="Pin"/>.
        /// </summary>
        void Kill(int pid);

        /// <summary>
        /// The processes descended from PID (started at START; 0 when not known) as they are now: its children, theirs,
        /// and so on, found through their parent links, each held so that a later <see cref="IProcessTree.Kill"/> reaches
        /// that very process. Nothing is signalled. Found before PID ends: a process whose parent has ended is no longer
        /// linked to it (Linux re-parents it). Empty when PID is not that process. PASSOVER: ids of processes left out,
        /// with everything under them (processes that end their own trees).
        /// </summary>
        IProcessTree FindDescendants(int pid, long start, ICollection<int>? passOver = null);

        /// <summary>
        /// Ends PID (started at START; 0 when not known) and every process descended from it, at once. The descendants are
        /// found before anything is killed (Linux: each is stopped with SIGSTOP as it is found, so that none starts
        /// another meanwhile; Windows: each is ended as it is found, since a process keeps its parent's id after that
        /// parent has ended). Nothing that is not PID or descended from it is signalled.
        /// </summary>
        void KillTree(int pid, long start);

        /// <summary>
        /// Takes this process out of its parent's process tree, as far as <see cref="FindDescendants"/> and
        /// <see cref="KillTree"/> see it: they leave it, and what it starts, alone (a -Detached child, which is to outlive
        /// its parent). Linux: setsid(2), a session of its own (the walks pass over session leaders: daemons and `setsid`
        /// programs left their starter's session the same way); Windows: a named marker held for the process's life.
        /// False when it could not be done (Linux: the process leads a process group already, as one started through
        /// <see cref="OutOfTreeLauncher"/> does).
        /// </summary>
        bool LeaveParentTree();

        /// <summary>
        /// Takes PID (started at START), a process this one has just started, out of this process's tree (as
        /// <see cref="LeaveParentTree"/> would in it). Windows: its marker, made here and handed to it (DuplicateHandle).
        /// False where only the process itself can do it (Linux).
        /// </summary>
        bool PutOutOfTree(int pid, long start);

        /// <summary>Whether PID (started at START; 0 when not known) is out of its parent's tree: it leads a session (Linux), it holds its marker (Windows).</summary>
        bool HasLeftTree(int pid, long start);

        /// <summary>
        /// A program that runs the program named in its arguments out of this process's tree from its first instruction,
        /// in the same process (Linux: setsid(1), which calls setsid(2) and then exec: the pid stays the one started);
        /// null where there is none (or none is needed: Windows, <see cref="PutOutOfTree"/>).
        /// </summary>
        string? OutOfTreeLauncher { get; }
    }

    internal sealed class Platforms
    {
        private Platforms(ISharedMemoryPlatform sharedMemory, IObjectRegistry registry, IProcessTable processes, IWordWait words, IManagerFolders managerFolders)
        {
            SharedMemory = sharedMemory;
            Registry = registry;
            Processes = processes;
            Words = words;
            ManagerFolders = managerFolders;
        }

        public ISharedMemoryPlatform SharedMemory { get; }
        public IObjectRegistry Registry { get; }
        public IProcessTable Processes { get; }
        public IWordWait Words { get; }
        public IManagerFolders ManagerFolders { get; }

        /// <summary>True on Windows (where there are no signals: stops go through a child's channel, kills are TerminateProcess).</summary>
        public bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        public static Platforms Current { get; } = Create();

        /// <summary>
        /// The platform this process runs on: Linux (Linux/) or Windows (Windows/). macOS would plug in here (shm_open
        /// and flock as Linux; liveness from proc_pidinfo; waits from os_sync_wait_on_address or a sleepers table as
        /// Windows).
        /// </summary>
        private static Platforms Create()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                return new Platforms(new Linux.LinuxSharedMemory(), new Linux.LinuxRegistry(), new Linux.LinuxProcesses(), new Linux.LinuxFutex(), new Linux.LinuxManagerFolders());
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                var registry = new Windows.WindowsRegistry();
                return new Platforms(new Windows.WindowsSharedMemory(registry), registry, new Windows.WindowsProcesses(), new Windows.WindowsWordWait(), new Windows.WindowsManagerFolders());
            }
            throw new PlatformNotSupportedException("IpcPs implements named shared memory for Linux and Windows; the platform layer (Core/Platform) is where macOS plugs in.");
        }
    }
}
