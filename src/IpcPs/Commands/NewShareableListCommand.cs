using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Creates a list in shared memory in CPython's ShareableList layout, byte for byte, so CPython processes open it
    /// by name. Items come from -InputObject (a list) or from the pipeline (one item per pipeline object).
    /// </summary>
    [Cmdlet(VerbsCommon.New, "ShareableList", SupportsShouldProcess = true)]
    [OutputType(typeof(ShareableList))]
    public sealed class NewShareableListCommand : NewIpcObjectCmdlet
    {
        private readonly List<object?> _items = new List<object?>();

        /// <summary>The items: int (64-bit), float (double), bool, string, byte[] or $null.</summary>
        [Parameter(Position = 1, ValueFromPipeline = true)]
        [AllowNull]
        [AllowEmptyCollection]
        public object? InputObject { get; set; }

        protected override string Description => "Create a ShareableList";

        protected override void ProcessRecord()
        {
            // A piped object is one item (a byte[] stays one bytes item); a list given as an argument is the items.
            object? value = InputObject is PSObject p ? p.BaseObject : InputObject;
            if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject))) return;
            if (!MyInvocation.ExpectingInput && value is IEnumerable list && !(value is string) && !(value is byte[]))
                foreach (var item in list) _items.Add(item is PSObject q ? q.BaseObject : item);
            else _items.Add(value);
        }

        protected override IpcObject Create() => ShareableList.Create(Name, _items);
    }
}
