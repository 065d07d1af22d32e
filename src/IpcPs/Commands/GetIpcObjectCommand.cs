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

        /// <summary>List or find the objects of a backend: a URI (redis://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter]
        public object? Backend { get; set; }

        private IIpcBackend? _backend;
        private bool _backendExplicit;

        protected override void BeginProcessing()
        {
            try { _backend = BackendArgument.Resolve(this, out _backendExplicit); }
            catch (System.Exception e) when (e is IpcException || e is System.ArgumentException) { ThrowIpcError(e, Backend); }
        }

        protected override void ProcessRecord()
        {
            if (_backend != null) { ProcessBackend(_backend); return; }
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

        /// <summary>
        /// A backend's objects. A handle of a backend holds nothing by being open (no reference count; a lock is held only
        /// once acquired), so listing outputs open handles (a manager's stores are not listed: Connect-IpcManager opens them by
        /// name). A name the default backend (the environment's) does
        /// not have is looked up on this machine.
        /// </summary>
        private void ProcessBackend(IIpcBackend backend)
        {
            if (Name is null) { ListBackend(backend, _ => true); return; }
            foreach (var name in Name)
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    ListBackend(backend, pattern.IsMatch);
                    continue;
                }
                TryIpc(() =>
                {
                    IIpcBackendObject obj;
                    try { obj = backend.Open(name, Kind?.Length == 1 ? Kind[0] : (IpcObjectKind?)null); }
                    catch (IpcObjectNotFoundException) when (!_backendExplicit)
                    {
                        var local = IpcObjects.Get(name);
                        if (Kind != null && System.Array.IndexOf(Kind, local.Kind) < 0)
                            throw new IpcObjectKindException(name, $"'{name}' is a {local.Kind}, not a {string.Join(" or ", Kind)}.");
                        Output(local);
                        return;
                    }
                    if (Kind != null && System.Array.IndexOf(Kind, obj.Kind) < 0)
                        throw new IpcObjectKindException(name, $"'{name}' at {backend.Address} is a {obj.Kind}, not a {string.Join(" or ", Kind)}.");
                    WriteObject(obj);
                }, name);
            }
        }

        private void ListBackend(IIpcBackend backend, System.Func<string, bool> matches)
        {
            System.Collections.Generic.IReadOnlyList<IpcBackendObjectInfo> listed;
            try { listed = backend.List(null); }
            catch (IpcException e) { ThrowIpcError(e, backend.Address); return; }
            foreach (var info in listed)
            {
                if (!matches(info.Name) || (Kind != null && System.Array.IndexOf(Kind, info.Kind) < 0)) continue;
                try { WriteObject(backend.Open(info.Name, info.Kind)); }
                catch (IpcObjectNotFoundException) { /* removed since it was listed */ }
                catch (IpcException e) { WriteIpcError(e, info.Name); }
            }
        }

        private void List(System.Func<string, bool> matches)
        {
            try
            {
                foreach (var obj in IpcObjects.List(matches, IncludeForeign))
                    if (Kind is null || System.Array.IndexOf(Kind, obj.Kind) >= 0)
                    {
                        if (!Open) { WriteObject(obj); continue; }
                        TryIpc(() => Output(obj), obj.Name);
                    }
            }
            catch (IpcException e) { ThrowIpcError(e, null); }   // the listing itself failed (no descriptor left to read the folder)
        }

        private void Output(IpcObject obj)
        {
            if (Open) obj.Open();
            WriteObject(obj);
        }
    }
}
