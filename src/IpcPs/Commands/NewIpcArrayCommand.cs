using System.Linq;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a fixed-length typed array in shared memory (CPython's multiprocessing.Array), with a shared RLock unless -NoLock.</summary>
    [Cmdlet(VerbsCommon.New, "IpcArray", SupportsShouldProcess = true, DefaultParameterSetName = LengthSet)]
    [OutputType(typeof(IpcArray))]
    public sealed class NewIpcArrayCommand : NewIpcObjectCmdlet
    {
        private const string LengthSet = "Length", ValueSet = "Value";

        /// <summary>The element type: a CPython typecode (b B h H i I l L q Q f d c) or a .NET name (int, double, …).</summary>
        [Parameter(Mandatory = true)]
        [ArgumentCompleter(typeof(IpcDataTypeCompleter))]
        public string Type { get; set; } = null!;

        /// <summary>The number of elements, all zero (or, with -Value, the number of values there must be).</summary>
        [Parameter(Mandatory = true, ParameterSetName = LengthSet)]
        [Parameter(ParameterSetName = ValueSet)]
        [ValidateRange(0, int.MaxValue)]
        public int Length { get; set; }

        /// <summary>The initial elements; a string for type 'c' gives its characters.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ValueSet)]
        [AllowEmptyCollection]
        public object?[]? Value { get; set; }

        /// <summary>No lock (CPython's lock=False): GetLock() is then an error, and ranges are copied without one.</summary>
        [Parameter]
        public SwitchParameter NoLock { get; set; }

        protected override string Description => $"Create a shared array of type '{Type}'";

        protected override IpcObject Create()
        {
            var type = IpcDataType.Parse(Type);
            if (Value is null) return IpcArray.Create(Name, type, Length, NoLock);
            var values = Value.Select(v => v is PSObject p ? p.BaseObject : v).ToArray();
            System.Collections.IEnumerable items = type.Code == 'c' && values.Length == 1 && values[0] is string s ? s : (System.Collections.IEnumerable)values;
            int count = items is string text ? text.Length : values.Length;
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Length)) && count != Length)
                throw new System.ArgumentException($"-Length is {Length} but -Value has {count} values: give as many values as the length, or only one of the two.");
            return IpcArray.Create(Name, type, items, NoLock);
        }
    }
}
