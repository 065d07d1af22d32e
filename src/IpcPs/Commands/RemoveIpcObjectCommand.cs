using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Destroys named objects now, whoever holds them: the name is gone, mappings already made stay valid.</summary>
    [Cmdlet(VerbsCommon.Remove, "IpcObject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = ByBackendObject)]
    [OutputType(typeof(void))]
    public sealed class RemoveIpcObjectCommand : IpcCmdlet
    {
        private const string ByObject = nameof(ByObject);

        /// <summary>Names of the objects to destroy (no wildcards: pipe Get-IpcObject for patterns).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string[] Name { get; set; } = null!;

        /// <summary>Objects to destroy, such as Get-IpcObject's output.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByObject, ValueFromPipeline = true)]
        [HandleArgumentTransformation]
        public IpcObject[] InputObject { get; set; } = null!;

        /// <summary>Objects of a backend to destroy (New-IpcQueue -Backend's output, Get-IpcObject -Backend's).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByBackendObject, ValueFromPipeline = true)]
        public IIpcBackendObject[] BackendObject { get; set; } = null!;

        /// <summary>Where -Name is: a URI (redis://…), an object from Connect-IpcBackend (or a piped handle's Backend), or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter(ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        public object? Backend { get; set; }

        private const string ByBackendObject = nameof(ByBackendObject);

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByBackendObject)
            {
                foreach (var obj in BackendObject)
                    if (ShouldProcess($"{obj.Kind} '{obj.Name}' at {obj.Backend.Address}", "Remove IPC object"))
                        TryIpc(() => { if (!obj.Backend.Remove(obj.Name)) throw new IpcObjectNotFoundException(obj.Name); }, obj.Name);
                return;
            }
            if (ParameterSetName == ByName)
            {
                IIpcBackend? backend;
                bool isExplicit;
                // Per item: a piped backend handle that bound by property name brings its own Backend.
                try { backend = BackendArgument.Resolve(this, out isExplicit); }
                catch (System.Exception e) when (e is IpcException || e is System.ArgumentException) { ThrowIpcError(e, Backend); return; }
                if (backend != null)
                {
                    foreach (var name in Name)
                        if (ShouldProcess($"'{name}' at {backend.Address}", "Remove IPC object"))
                            TryIpc(() =>
                            {
                                // The default backend (the environment's) without that name: the name on this machine.
                                if (!backend.Remove(name) && (isExplicit || !IpcObjects.Remove(name))) throw new IpcObjectNotFoundException(name);
                            }, name);
                    return;
                }
            }
            if (ParameterSetName == ByObject)
                foreach (var obj in InputObject) Remove(obj.Name, $"{obj.Kind} '{obj.Name}'");
            else
                foreach (var name in Name) Remove(name, $"'{name}'");
        }

        private void Remove(string name, string what)
        {
            if (!ShouldProcess(what, "Remove IPC object")) return;
            TryIpc(() =>
            {
                if (!IpcObjects.Remove(name)) throw new IpcObjectNotFoundException(name);
            }, name);
        }
    }
}
