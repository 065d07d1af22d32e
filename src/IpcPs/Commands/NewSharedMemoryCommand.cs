using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a named shared memory segment (CPython's SharedMemory(create=True)).</summary>
    [Cmdlet(VerbsCommon.New, "SharedMemory", SupportsShouldProcess = true)]
    [OutputType(typeof(SharedMemory))]
    public sealed class NewSharedMemoryCommand : NewIpcObjectCmdlet
    {
        /// <summary>Size in bytes.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public long Size { get; set; }

        protected override string Description => $"Create shared memory of {Size} bytes";

        protected override IpcObject Create() => SharedMemory.Create(Name, Size);
    }
}
