using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Lists named objects (orphans included, with their status) or, given an exact name, opens one. Listed objects
    /// attach on first use; an exact name attaches at once and fails if nothing has that name.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "IpcObject")]
    [OutputType(typeof(IpcObject), typeof(SharedMemory), typeof(IpcValue), typeof(IpcArray), typeof(ShareableList))]
    public sealed class GetIpcObjectCommand : IpcCmdlet
    {
        /// <summary>Names or wildcard patterns; all objects when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>Only objects of these kinds.</summary>
        [Parameter]
        public IpcObjectKind[]? Kind { get; set; }

        /// <summary>List segments that IpcPs did not create (CPython's, other programs') as well.</summary>
        [Parameter]
        public SwitchParameter IncludeForeign { get; set; }

        protected override void ProcessRecord()
        {
            if (Name is null) { List(_ => true); return; }
            foreach (var name in Name)
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    List(pattern.IsMatch);
                    continue;
                }
                TryIpc(() =>
                {
                    // One kind asked for: open as that kind (a ShareableList that CPython made has no record to say so).
                    var obj = Kind?.Length == 1 ? IpcObjects.Open(name, Kind[0]) : IpcObjects.Open(name);
                    if (Kind is null || System.Array.IndexOf(Kind, obj.Kind) >= 0) WriteObject(obj);
                    else
                    {
                        obj.Close();
                        throw new IpcObjectKindException(name, $"'{name}' is a {obj.Kind}, not a {string.Join(" or ", Kind)}.");
                    }
                }, name);
            }
        }

        private void List(System.Func<string, bool> matches)
        {
            foreach (var obj in IpcObjects.List(matches, IncludeForeign))
                if (Kind is null || System.Array.IndexOf(Kind, obj.Kind) >= 0) WriteObject(obj);
        }
    }
}
