using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Lists the process pools of this session (New-IpcPool's, and Invoke-IpcPool's own while they run), with their
    /// size and busy workers: a pool whose variable was lost can still be found, and removed with Remove-IpcPool.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "IpcPool")]
    [OutputType(typeof(IpcPool))]
    public sealed class GetIpcPoolCommand : IpcCmdlet
    {
        /// <summary>Only the pools with these ids (the Id column).</summary>
        [Parameter(Position = 0)]
        public int[]? Id { get; set; }

        protected override void EndProcessing()
        {
            if (Id is null) { WriteObject(IpcPool.All, enumerateCollection: true); return; }
            foreach (var pool in IpcPool.WithIds(Id, WriteError)) WriteObject(pool);
        }
    }
}
