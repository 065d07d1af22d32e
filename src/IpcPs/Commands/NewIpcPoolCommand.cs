using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>Starts a pool of warm worker processes for Invoke-IpcPool, and waits until they are ready.</summary>
    [Cmdlet(VerbsCommon.New, "IpcPool")]
    [OutputType(typeof(IpcPool))]
    public sealed class NewIpcPoolCommand : IpcCmdlet
    {
        /// <summary>How many workers. Default: the processor count.</summary>
        [Parameter(Position = 0)]
        [Alias("ThrottleLimit")]
        [ValidateRange(1, 256)]
        public int Size { get; set; } = Environment.ProcessorCount;

        /// <summary>Runs once in every worker when it starts (and in a worker that replaces one), before any item.</summary>
        [Parameter]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>How long to wait for the workers to be ready. Default 120 seconds.</summary>
        [Parameter]
        [IpcTimeoutTransformation]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

        protected override void EndProcessing()
        {
            string folder = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            IpcPool? pool = null;
            try
            {
                pool = IpcPool.Start(Size, ChildLauncher.ModuleManifest(this), folder, InitializationScript?.ToString());
                pool.WaitReady(Timeout == System.Threading.Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : Timeout, StopToken);
            }
            catch (OperationCanceledException)
            {
                pool?.Dispose(atOnce: true);   // nobody has it: its workers still starting end now, not after 3 s each
                throw new PipelineStoppedException();
            }
            catch (Exception e) when (e is IpcException || e is InvalidOperationException || e is TimeoutException || e is System.ComponentModel.Win32Exception)
            {
                pool?.Dispose(atOnce: true);
                if (e is PoolInitializationException p && p.Error != null)
                    ThrowTerminatingError(new ErrorRecord(e, ErrorRecords.ChildProcessFailed, ErrorCategory.OpenError, InitializationScript) { ErrorDetails = p.Error.ErrorDetails });
                ThrowIpcError(e, InitializationScript);
            }
            WriteObject(pool);
        }
    }
}
