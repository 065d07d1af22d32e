using System;
using System.Collections.Generic;
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

    /// <summary>Liveness of processes, for owners and holders.</summary>
    internal interface IProcessTable
    {
        ProcessIdentity Current { get; }
        bool IsAlive(ProcessIdentity process);
        /// <summary>The identity of a running process, or null if it is not running.</summary>
        ProcessIdentity? Find(int pid);
    }

    internal sealed class Platforms
    {
        private Platforms(ISharedMemoryPlatform sharedMemory, IObjectRegistry registry, IProcessTable processes, IWordWait words)
        {
            SharedMemory = sharedMemory;
            Registry = registry;
            Processes = processes;
            Words = words;
        }

        public ISharedMemoryPlatform SharedMemory { get; }
        public IObjectRegistry Registry { get; }
        public IProcessTable Processes { get; }
        public IWordWait Words { get; }

        public static Platforms Current { get; } = Create();

        private static Platforms Create()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
                throw new PlatformNotSupportedException("IpcPs implements named shared memory for Linux only so far; the platform layer (Core/Platform) is where Windows and macOS plug in.");
            return new Platforms(new Linux.LinuxSharedMemory(), new Linux.LinuxRegistry(), new Linux.LinuxProcesses(), new Linux.LinuxFutex());
        }
    }
}
