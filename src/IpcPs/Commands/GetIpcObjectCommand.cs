using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Lists named objects (orphans included, with their status), or finds the ones given by exact name (an error if
    /// a name is not there). Looking never holds: the objects output are described, and reading them (properties,
    /// formatting, ConvertTo-Json) never makes this session a holder nor changes their status. -Open opens them at
    /// once; otherwise each opens on its first use (a put, an acquire, a write…).
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

        /// <summary>Open (attach) each object output now: this session holds it until the handle is closed (Close-IpcObject) or the session ends.</summary>
        [Parameter]
        public SwitchParameter Open { get; set; }

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
                    // One kind asked for: found as that kind (a ShareableList that CPython made has no record to say so).
                    var obj = Kind?.Length == 1 ? IpcObjects.Get(name, Kind[0]) : IpcObjects.Get(name);
                    if (Kind != null && System.Array.IndexOf(Kind, obj.Kind) < 0)
                        throw new IpcObjectKindException(name, $"'{name}' is a {obj.Kind}, not a {string.Join(" or ", Kind)}.");
                    Output(obj);
                }, name);
            }
        }

        private void List(System.Func<string, bool> matches)
        {
            foreach (var obj in IpcObjects.List(matches, IncludeForeign))
                if (Kind is null || System.Array.IndexOf(Kind, obj.Kind) >= 0)
                {
                    if (!Open) { WriteObject(obj); continue; }
                    TryIpc(() => Output(obj), obj.Name);
                }
        }

        private void Output(IpcObject obj)
        {
            if (Open) obj.Open();
            WriteObject(obj);
        }
    }
}
