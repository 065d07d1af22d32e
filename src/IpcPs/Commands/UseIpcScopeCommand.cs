using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Runs a script block and destroys every IPC object this process created inside it when it ends — normally, by
    /// an error or by Ctrl+C (Python's "with SharedMemoryManager()"). Outputs what the script block outputs.
    /// </summary>
    [Cmdlet(VerbsOther.Use, "IpcScope")]
    [OutputType(typeof(object))]
    public sealed class UseIpcScopeCommand : IpcCmdlet
    {
        /// <summary>The code whose objects the scope owns.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>Arguments for the script block's param().</summary>
        [Parameter]
        [Alias("Args")]
        [HandleArgumentTransformation]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        protected override void EndProcessing()
        {
            var scope = IpcScope.Begin();
            // Output waits for the end: later commands in the pipeline run on this thread, and what they create is
            // not the scope's.
            InvokeBlock(ScriptBlock, ArgumentList, () => End(scope), outputAfterEnd: true);
        }

        private void End(IpcScope scope)
        {
            try { scope.Dispose(); }
            catch (Exception e) when (e is IpcException && !StopToken.IsCancellationRequested) { WriteIpcError(e, null); }
            catch (IpcException) { /* stopping: nothing can be written; the scope destroyed what it could */ }
        }
    }
}
