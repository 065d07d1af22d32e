using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Closes handles without destroying their objects (the handle's Close()): this session stops holding them; an
    /// object lives on while another handle or process holds it, and its last holder's close destroys it.
    /// </summary>
    [Cmdlet(VerbsCommon.Close, "IpcObject")]
    [OutputType(typeof(void))]
    public sealed class CloseIpcObjectCommand : IpcCmdlet
    {
        /// <summary>The handles to close (New-* and Get-IpcObject output, pipe ends…). Closing a closed handle does nothing.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [HandleArgumentTransformation]
        public IpcObject[] InputObject { get; set; } = null!;

        protected override void ProcessRecord()
        {
            foreach (var obj in InputObject)
                if (obj != null) TryIpc(obj.Close, obj);
        }
    }
}
