using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a message queue shared between processes: FIFO, LIFO or priority, optionally joinable.</summary>
    [Cmdlet(VerbsCommon.New, "IpcQueue", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcQueue))]
    public sealed class NewIpcQueueCommand : NewIpcObjectCmdlet
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

        protected override string Description => $"Create {Order} queue";

        protected override IpcObject Create() => IpcQueue.Create(Name, MaxSize, Capacity, Order, Joinable, OpenOrCreate);
    }
}
