using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a typed value in shared memory (CPython's multiprocessing.Value), with a shared RLock unless -NoLock.</summary>
    [Cmdlet(VerbsCommon.New, "IpcValue", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcValue))]
    public sealed class NewIpcValueCommand : NewBackendObjectCmdlet
    {
        /// <summary>The element type: a CPython typecode (b B h H i I l L q Q f d c) or a .NET name (int, double, …).</summary>
        [Parameter(Mandatory = true)]
        [ArgumentCompleter(typeof(IpcDataTypeCompleter))]
        public string Type { get; set; } = null!;

        /// <summary>The initial value; 0 when omitted.</summary>
        [Parameter]
        public object? Value { get; set; }

        /// <summary>No lock (CPython's lock=False): GetLock() is then an error.</summary>
        [Parameter]
        public SwitchParameter NoLock { get; set; }

        protected override IpcObjectKind BackendKind => IpcObjectKind.Value;

        protected override string[] LocalOnly => new[] { nameof(NoLock) };

        protected override IpcBackendOptions BackendOptions() =>
            new IpcBackendOptions { DataType = IpcDataType.Parse(Type), InitialValue = Value is PSObject p ? p.BaseObject : Value };

        protected override string Description => $"Create a shared value of type '{Type}'";

        protected override IpcObject Create() => IpcValue.Create(Name, IpcDataType.Parse(Type), Value is PSObject p ? p.BaseObject : Value, NoLock);
    }
}
