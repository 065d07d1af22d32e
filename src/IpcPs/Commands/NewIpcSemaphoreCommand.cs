using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a counting semaphore shared between processes (bounded with -MaximumCount).</summary>
    [Cmdlet(VerbsCommon.New, "IpcSemaphore", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcSemaphore))]
    public sealed class NewIpcSemaphoreCommand : NewBackendObjectCmdlet
    {
        /// <summary>Permits available at first. Default 1.</summary>
        [Parameter]
        public int InitialCount { get; set; } = 1;

        /// <summary>The most permits there may be: releasing past it is an error (CPython's BoundedSemaphore).</summary>
        [Parameter]
        public int? MaximumCount { get; set; }

        /// <summary>Open the semaphore if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        /// <summary>A semaphore in a backend: how long each permit's lease lasts without renewal (seconds or a [TimeSpan]; default 10 s).</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

        protected override IpcObjectKind BackendKind => IpcObjectKind.Semaphore;

        protected override string[] LocalOnly => new[] { nameof(MaximumCount) };

        protected override string[] BackendOnly => new[] { nameof(LeaseTime) };

        protected override IpcBackendOptions BackendOptions() =>
            new IpcBackendOptions { OpenOrCreate = OpenOrCreate, InitialCount = InitialCount, LeaseTime = NewIpcLockCommand.Lease(LeaseTime) };

        protected override string Description => "Create semaphore";

        protected override IpcObject Create() => IpcSemaphore.Create(Name, InitialCount, MaximumCount, OpenOrCreate);
    }
}
