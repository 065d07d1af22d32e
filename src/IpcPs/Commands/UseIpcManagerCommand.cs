using System;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Starts a manager, runs a script block with it as its first argument, and shuts it down when the block ends,
    /// normally, by an error or by Ctrl+C (Python's "with Manager() as m:"). Outputs what the script block outputs.
    /// </summary>
    [Cmdlet(VerbsOther.Use, "IpcManager")]
    [OutputType(typeof(object))]
    public sealed class UseIpcManagerCommand : ManagerStartCmdlet
    {
        /// <summary>The code that uses the manager: param($m) …</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>More arguments for the script block, after the manager.</summary>
        [Parameter]
        [Alias("Args")]
        [HandleArgumentTransformation]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        protected override void EndProcessing()
        {
            var manager = StartManager();
            var args = new object[ArgumentList.Length + 1];
            args[0] = manager;
            ArgumentList.CopyTo(args, 1);
            InvokeBlock(ScriptBlock, args, () => End(manager));
        }

        private void End(IpcManager manager)
        {
            try { ManagerControl.Stop(manager); }
            catch (Exception e) when (e is IpcException && !StopToken.IsCancellationRequested) { WriteIpcError(e, manager); }
            catch (IpcException) { /* stopping: the manager process was ended anyway */ }
        }
    }
}
