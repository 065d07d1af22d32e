using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Closes handles without destroying their objects (the handle's Close()): this session stops holding them; an
    /// object lives on while another handle or process holds it, and its last holder's close destroys it. A backend's
    /// handle (Redis) is disposed: what it holds (a lock's lease) is released.
    /// </summary>
    [Cmdlet(VerbsCommon.Close, "IpcObject", DefaultParameterSetName = ByObject)]
    [OutputType(typeof(void))]
    public sealed class CloseIpcObjectCommand : IpcCmdlet
    {
        private const string ByObject = nameof(ByObject), ByBackendObject = nameof(ByBackendObject);

        /// <summary>The handles to close (New-* and Get-IpcObject output, pipe ends…). Closing a closed handle does nothing.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
        [HandleArgumentTransformation]
        public IpcObject[] InputObject { get; set; } = null!;

        /// <summary>Handles of a backend to close (New-* -Backend and Get-IpcObject -Backend output).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByBackendObject)]
        public IIpcBackendObject[] BackendObject { get; set; } = null!;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByBackendObject)
            {
                foreach (var remote in BackendObject)
                    if (remote != null) TryIpc(remote.Dispose, remote.Name);
                return;
            }
            foreach (var obj in InputObject)
                if (obj != null) TryIpc(obj.Close, obj);
        }
    }
}
