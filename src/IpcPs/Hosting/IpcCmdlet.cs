using System;
using System.Management.Automation;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>Base of every IpcPs cmdlet: a stop token cancelled by Ctrl+C, and typed errors.</summary>
    public abstract class IpcCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Cancelled by <see cref="StopProcessing"/> (Ctrl+C, Stop-Job, a stopped pipeline).</summary>
        protected CancellationToken StopToken => _stop.Token;

        protected override void StopProcessing() => _stop.Cancel();

        public void Dispose()
        {
            OnDispose();
            _stop.Dispose();
        }

        /// <summary>Releases what the cmdlet holds however its pipeline ended (completed, stopped, failed).</summary>
        protected virtual void OnDispose() { }

        /// <summary>A non-terminating error for one item; the cmdlet goes on with the next.</summary>
        protected void WriteIpcError(Exception e, object? target) => WriteError(ErrorRecords.From(e, target));

        /// <summary>A terminating error: the command cannot go on.</summary>
        protected void ThrowIpcError(Exception e, object? target) => ThrowTerminatingError(ErrorRecords.From(e, target));

        /// <summary>Runs ACTION, turning IpcPs and argument exceptions into a non-terminating error on TARGET.</summary>
        protected bool TryIpc(Action action, object? target)
        {
            try
            {
                action();
                return true;
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is OverflowException || e is ObjectDisposedException)
            {
                WriteIpcError(e, target);
                return false;
            }
        }
    }
}
