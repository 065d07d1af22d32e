using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a message queue shared between processes: FIFO, LIFO or priority, optionally joinable.</summary>
    [Cmdlet(VerbsCommon.New, "IpcQueue", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcQueue), typeof(IJoinableChannel))]
    public sealed class NewIpcQueueCommand : NewBackendObjectCmdlet
    {
        /// <summary>The most messages it holds; 0 (the default) or less: no limit but the capacity.</summary>
        [Parameter]
        public int MaxSize { get; set; }

        /// <summary>Bytes of message storage (default 16 MiB, used only as messages need it).</summary>
        [Parameter]
        [ValidateRange(IpcQueue.MinimumCapacity, IpcQueue.MaximumCapacity)]
        public long Capacity { get; set; } = IpcQueue.DefaultCapacity;

        /// <summary>Fifo (default), Lifo or Priority.</summary>
        [Parameter]
        public QueueOrder Order { get; set; } = QueueOrder.Fifo;

        /// <summary>A JoinableQueue: TaskDone() and Wait-IpcQueue.</summary>
        [Parameter]
        public SwitchParameter Joinable { get; set; }

        /// <summary>Open the queue if the name exists (atomically); its own settings then apply.</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        /// <summary>A joinable queue in a backend: how long a message got may stay without TaskDone before it is delivered again (seconds or a [TimeSpan]; default 30 s).</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>A joinable queue in a backend: deliveries after which a message goes to the dead-letter queue (0, the default: never).</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int MaxDeliveries { get; set; }

        protected override IpcObjectKind BackendKind => IpcObjectKind.Queue;

        protected override string[] LocalOnly => new[] { nameof(Capacity) };

        protected override string[] BackendOnly => new[] { nameof(VisibilityTimeout), nameof(MaxDeliveries) };

        protected override IpcBackendOptions BackendOptions()
        {
            if (VisibilityTimeout <= TimeSpan.Zero && MyInvocation.BoundParameters.ContainsKey(nameof(VisibilityTimeout)))
                throw new ArgumentException("-VisibilityTimeout must be more than 0.");
            if (!Joinable && (MyInvocation.BoundParameters.ContainsKey(nameof(VisibilityTimeout)) || MyInvocation.BoundParameters.ContainsKey(nameof(MaxDeliveries))))
                throw new ArgumentException("-VisibilityTimeout and -MaxDeliveries apply to a joinable queue (add -Joinable): a plain queue's Get is final.");
            return new IpcBackendOptions
            {
                OpenOrCreate = OpenOrCreate, MaxSize = MaxSize, Order = Order, Joinable = Joinable,
                VisibilityTimeout = VisibilityTimeout, MaxDeliveries = MaxDeliveries,
            };
        }

        protected override string Description => $"Create {Order} queue";

        protected override IpcObject Create() => IpcQueue.Create(Name, MaxSize, Capacity, Order, Joinable, OpenOrCreate);
    }
}
