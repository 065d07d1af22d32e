using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a named shared memory segment (CPython's SharedMemory(create=True)).</summary>
    [Cmdlet(VerbsCommon.New, "SharedMemory", SupportsShouldProcess = true)]
    [OutputType(typeof(SharedMemory))]
    public sealed class NewSharedMemoryCommand : IpcCmdlet
    {
        /// <summary>The segment's name; generated when omitted.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>Size in bytes.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public long Size { get; set; }

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", $"Create shared memory of {Size} bytes")) return;
            try { WriteObject(SharedMemory.Create(Name, Size)); }
            catch (System.Exception e) when (e is IpcException || e is System.ArgumentException)
            {
                ThrowIpcError(e, Name);
            }
        }
    }
}
