using System.Linq;
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
            var pools = IpcPool.All;
            if (Id is null) { WriteObject(pools, enumerateCollection: true); return; }
            foreach (int id in Id)
            {
                var pool = pools.FirstOrDefault(p => p.Id == id);
                if (pool != null) WriteObject(pool);
                else WriteError(new ErrorRecord(new System.ArgumentException($"This session has no pool with id {id}."),
                    ErrorRecords.IpcObjectNotFound, ErrorCategory.ObjectNotFound, id));
            }
        }
    }
}
