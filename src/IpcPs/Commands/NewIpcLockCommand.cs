using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a lock shared between processes (CPython's Lock; RLock with -Recursive).</summary>
    [Cmdlet(VerbsCommon.New, "IpcLock", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcLock), typeof(ILockable))]
    public sealed class NewIpcLockCommand : NewBackendObjectCmdlet
    {
        /// <summary>A recursive lock (RLock): the thread holding it may take it again.</summary>
        [Parameter]
        public SwitchParameter Recursive { get; set; }

        /// <summary>Open the lock if the name exists (atomically: of racing callers exactly one creates it).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        /// <summary>A lock in a backend: how long its lease lasts without renewal (seconds or a [TimeSpan]; default 10 s). Renewed in the background every third of it while held.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

        protected override IpcObjectKind BackendKind => IpcObjectKind.Lock;

        protected override string[] LocalOnly => new[] { nameof(Recursive) };

        protected override string[] BackendOnly => new[] { nameof(LeaseTime) };

        protected override IpcBackendOptions BackendOptions() => new IpcBackendOptions { OpenOrCreate = OpenOrCreate, LeaseTime = Lease(LeaseTime) };

        /// <summary>A lease of at least 1 ms and at most a day (a lease renews every third of it).</summary>
        internal static TimeSpan Lease(TimeSpan t) =>
            t < TimeSpan.FromMilliseconds(300) || t > TimeSpan.FromDays(1) ? throw new ArgumentException($"-LeaseTime must be between 0.3 s and 1 day, not {t.TotalSeconds:0.###} s.") : t;

        protected override string Description => Recursive ? "Create RLock" : "Create Lock";

        protected override IpcObject Create() => IpcLock.Create(Name, Recursive, OpenOrCreate);
    }
}
