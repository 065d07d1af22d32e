using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Ends a pool's workers (politely, then by force after a few seconds) and releases their pipes.</summary>
    [Cmdlet(VerbsCommon.Remove, "IpcPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByPool)]
    [OutputType(typeof(void))]
    public sealed class RemoveIpcPoolCommand : IpcCmdlet
    {
        private const string ByPool = nameof(ByPool), ById = nameof(ById);

        /// <summary>The pools New-IpcPool returned.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByPool)]
        public IpcPool[] Pool { get; set; } = null!;

        /// <summary>The pools with these ids (Get-IpcPool's Id column), as Remove-Job -Id.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ById)]
        public int[] Id { get; set; } = null!;

        protected override void ProcessRecord()
        {
            foreach (var pool in ParameterSetName == ById ? IpcPool.WithIds(Id, WriteError) : Pool) Remove(pool);
        }

        private void Remove(IpcPool pool)
        {
            if (ShouldProcess($"pool {pool.Id} of {pool.Size} workers ({string.Join(", ", pool.Pids)})", "Remove")) pool.Dispose();
        }
    }
}
