using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a barrier for a number of parties in any processes.</summary>
    [Cmdlet(VerbsCommon.New, "IpcBarrier", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcBarrier))]
    public sealed class NewIpcBarrierCommand : NewBackendObjectCmdlet
    {
        /// <summary>How many parties must arrive before all go on.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateRange(1, int.MaxValue)]
        public int Parties { get; set; }

        /// <summary>A script block the last party to arrive runs before the others go on (in that party's process).</summary>
        [Parameter]
        public ScriptBlock? Action { get; set; }

        /// <summary>Default timeout of Wait (seconds or a [TimeSpan]); none when omitted.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

        /// <summary>Open the barrier if the name exists (atomically).</summary>
        [Parameter]
        public SwitchParameter OpenOrCreate { get; set; }

        protected override IpcObjectKind BackendKind => IpcObjectKind.Barrier;

        protected override string[] LocalOnly => new[] { nameof(Action) };

        protected override IpcBackendOptions BackendOptions() => new IpcBackendOptions
        {
            OpenOrCreate = OpenOrCreate, Parties = Parties,
            BarrierTimeoutSeconds = Timeout == System.Threading.Timeout.InfiniteTimeSpan ? double.NaN : Timeout.TotalSeconds,
        };

        protected override string Description => $"Create barrier for {Parties} parties";

        protected override IpcObject Create() =>
            IpcBarrier.Create(Name, Parties, Action?.ToString(),
                Timeout == System.Threading.Timeout.InfiniteTimeSpan ? double.NaN : Timeout.TotalSeconds, OpenOrCreate);
    }
}
