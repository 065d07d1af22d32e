using System;
using System.Collections.Generic;

namespace IpcPs
{
    /// <summary>
    /// A remote backend (Redis) holding named IPC objects shared across machines. The module reaches it only through this
    /// interface and the Core interfaces its objects implement (IMessageChannel, IJoinableChannel, ILockable, IIpcEvent,
    /// IIpcBarrier), so the backend's assembly and its dependencies load only when a backend is first used.
    /// </summary>
    public interface IIpcBackend : IDisposable
    {
        /// <summary>The backend's address without its password (redis://user@host:port/db): what descriptors carry.</summary>
        string Address { get; }

        /// <summary>Creates a named object (NAME null: a generated name); IpcObjectExistsException when taken, unless OPTIONS.OpenOrCreate.</summary>
        IIpcBackendObject Create(IpcObjectKind kind, string? name, IpcBackendOptions options);

        /// <summary>Opens an existing object; KIND null accepts any. IpcObjectNotFoundException, IpcObjectKindException.</summary>
        IIpcBackendObject Open(string name, IpcObjectKind? kind);

        /// <summary>The objects whose names match the wildcard PATTERN (null: all).</summary>
        IReadOnlyList<IpcBackendObjectInfo> List(string? pattern);

        /// <summary>Destroys the object NAME at once; False when there was none.</summary>
        bool Remove(string name);

        /// <summary>A manager whose Dict/List/Namespace/Queue/Lock/Event/Value live in the backend (Connect-IpcManager -Address redis://…).</summary>
        object Manager();
    }

    /// <summary>An object of a remote backend.</summary>
    public interface IIpcBackendObject : IDisposable
    {
        string Name { get; }
        IpcObjectKind Kind { get; }

        /// <summary>The backend holding it (its process-wide connection).</summary>
        IIpcBackend Backend { get; }

        /// <summary>What re-attaches it in another process (with the credentials, which travel apart).</summary>
        IpcBackendDescriptor Descriptor { get; }
    }

    /// <summary>
    /// A manager store of a backend (a Redis manager's Dict, List or Namespace): shared by name, so it crosses a process
    /// boundary as (address without password, store kind, name) and re-attaches there (IpcBackends.AttachStore), never
    /// as a copy of its contents.
    /// </summary>
    public interface IIpcBackendStore
    {
        string Name { get; }

        /// <summary>"Dict", "List" or "Namespace" (<see cref="IpcBackends.StoreKinds"/>).</summary>
        string StoreKind { get; }

        /// <summary>The backend's address, without password.</summary>
        string Address { get; }
    }

    /// <summary>
    /// A remote object's descriptor: kind, name and the backend's address without its password. A child process re-attaches
    /// with it (IpcBackends.Attach) using the credentials its parent sent over its private channel (IpcBackends.Credentials).
    /// </summary>
    public sealed class IpcBackendDescriptor
    {
        public IpcBackendDescriptor(string address, IpcObjectKind kind, string name)
        {
            Address = address ?? throw new ArgumentNullException(nameof(address));
            Kind = kind;
            Name = name ?? throw new ArgumentNullException(nameof(name));
        }

        public string Address { get; }
        public IpcObjectKind Kind { get; }
        public string Name { get; }

        public override string ToString() => $"{Kind} '{Name}' at {Address}";
    }

    /// <summary>A listed object of a backend.</summary>
    public sealed class IpcBackendObjectInfo
    {
        public IpcBackendObjectInfo(string name, IpcObjectKind kind, string address)
        {
            Name = name;
            Kind = kind;
            Address = address;
        }

        public string Name { get; }
        public IpcObjectKind Kind { get; }
        public string Address { get; }
    }

    /// <summary>The parameters of New-Ipc* -Backend, one bag for every kind (each kind reads its own).</summary>
    public sealed class IpcBackendOptions
    {
        /// <summary>Open the object when it exists with the same kind, else create it (atomically).</summary>
        public bool OpenOrCreate { get; set; }

        // Queue
        public int MaxSize { get; set; }
        public QueueOrder Order { get; set; } = QueueOrder.Fifo;
        public bool Joinable { get; set; }
        /// <summary>A joinable queue: how long a got message may stay without TaskDone before it is delivered again.</summary>
        public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);
        /// <summary>A joinable queue: deliveries after which a message goes to the dead-letter queue (0: never).</summary>
        public int MaxDeliveries { get; set; }

        // Lock, Semaphore
        /// <summary>How long a lease lasts without renewal (renewed in the background every third of it while held).</summary>
        public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);
        public int InitialCount { get; set; } = 1;

        // Event
        public bool InitiallySet { get; set; }

        // Barrier
        public int Parties { get; set; }
        /// <summary>The barrier's default timeout in seconds (NaN: none).</summary>
        public double BarrierTimeoutSeconds { get; set; } = double.NaN;

        // Value
        public IpcDataType? DataType { get; set; }
        public object? InitialValue { get; set; }
    }

    /// <summary>What a backend's assembly provides: connecting to an address of its schemes.</summary>
    public interface IIpcBackendProvider
    {
        /// <summary>The URI schemes it serves ("redis", "rediss").</summary>
        IReadOnlyList<string> Schemes { get; }

        /// <summary>Connects to URI (credentials in it, or remembered for its address); errors within CONNECTTIMEOUT.</summary>
        IIpcBackend Connect(string uri, TimeSpan connectTimeout);

        /// <summary>Re-attaches to the object a descriptor names, connecting with the remembered credentials.</summary>
        IIpcBackendObject Attach(IpcBackendDescriptor descriptor);

        /// <summary>Re-attaches to the manager store STOREKIND NAME at ADDRESS (the same rules as <see cref="Attach"/>).</summary>
        IIpcBackendStore AttachStore(string address, string storeKind, string name);
    }
}
