using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Destroys named objects now, whoever holds them: the name is gone, mappings already made stay valid.</summary>
    [Cmdlet(VerbsCommon.Remove, "IpcObject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = ByObject)]
    [OutputType(typeof(void))]
    public sealed class RemoveIpcObjectCommand : IpcCmdlet
    {
        private const string ByObject = nameof(ByObject);

        /// <summary>Names of the objects to destroy (no wildcards: pipe Get-IpcObject for patterns).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(IpcNameCompleter))]
        public string[] Name { get; set; } = null!;

        /// <summary>Objects to destroy, such as Get-IpcObject's output.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
        [HandleArgumentTransformation]
        public IpcObject[] InputObject { get; set; } = null!;

        protected override void ProcessRecord()
        {
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
