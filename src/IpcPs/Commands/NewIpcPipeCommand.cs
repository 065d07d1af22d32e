using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Creates a pipe and outputs its two connected ends (CPython's Pipe()).</summary>
    [Cmdlet(VerbsCommon.New, "IpcPipe", SupportsShouldProcess = true)]
    [OutputType(typeof(IpcConnection))]
    public sealed class NewIpcPipeCommand : IpcCmdlet
    {
        /// <summary>The pipe's name; generated when omitted. A number given here is refused (<see cref="NumberIsNotANameAttribute"/>).</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [NumberIsNotAName]
        public string? Name { get; set; }

        /// <summary>Both ends send and receive (default). -Duplex:$false: the first end only receives, the second only sends.</summary>
        [Parameter]
        public SwitchParameter Duplex { get; set; } = true;

        /// <summary>Bytes of buffer per direction (default 1 MiB); larger messages pass in pieces.</summary>
        [Parameter]
        [ValidateRange(IpcConnection.MinimumBufferSize, IpcConnection.MaximumBufferSize)]
        public int BufferSize { get; set; } = IpcConnection.DefaultBufferSize;

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", Duplex ? "Create duplex pipe" : "Create one-way pipe")) return;
            IpcConnection[] ends;
            try { ends = IpcConnection.CreatePipe(Name, Duplex, BufferSize); }
            catch (Exception e) when (e is IpcException || e is ArgumentException)
            {
                ThrowIpcError(e, Name);
                return;
            }
            WriteObject(ends[0]);
            WriteObject(ends[1]);
        }
    }
}
