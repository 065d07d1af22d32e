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

        // Run through a steppable pipeline begun with the cmdlet, so it writes to the cmdlet's output and error pipes.
        // The block runs in a scope where -ErrorAction, -WarningAction, -InformationAction, -ProgressAction, -Verbose
        // and -Debug given to the cmdlet are the preference variables, as in an advanced function's body. One
        // command, as a steppable pipeline must be; its arguments are evaluated when the pipeline is made.
        private const string BlockRunner =
            "param($b, $a, $p, $h) & { param($__ipcBlock, $__ipcArgs, $__ipcPreferences, $__ipcHeld) " +
            "foreach ($__ipcP in $__ipcPreferences.GetEnumerator()) { Set-Variable -Name $__ipcP.Key -Value $__ipcP.Value }; " +
            "if ($null -eq $__ipcHeld) { & $__ipcBlock @__ipcArgs } " +
            "else { $__ipcHeld.AddRange([object[]]@(& $__ipcBlock @__ipcArgs)) } } $b $a $p $h";

        /// <summary>
        /// Runs BLOCK with ARGS so that its errors, warnings and other records go through this cmdlet as they are
        /// written (into -ErrorVariable, 2>&amp;1, …), as a function's would, and so does its output, unless
        /// OUTPUTAFTEREND holds it back until END has run; then END, once, however the block ended. A terminating error
        /// in the block becomes this cmdlet's, after END (output held back is then dropped); Ctrl+C and a downstream
        /// Select-Object -First stop the block and still run END.
        /// </summary>
        protected void InvokeBlock(ScriptBlock block, object[] args, Action end, bool outputAfterEnd = false)
        {
            ErrorRecord? failed = null;
            var held = outputAfterEnd ? new System.Collections.Generic.List<object>() : null;
            try
            {
                var runner = ScriptBlock.Create(BlockRunner);
                using (var pipeline = runner.GetSteppablePipeline(CommandOrigin.Internal, new object?[] { block, args, Preferences(), held }))
                {
                    pipeline.Begin(this);
                    pipeline.End();
                }
            }
            catch (RuntimeException e) when (!(e is PipelineStoppedException))
            {
                failed = e.ErrorRecord;
            }
            finally { end(); }
            if (failed != null) ThrowTerminatingError(failed);
            if (held != null) foreach (var item in held) WriteObject(item);
        }

        private System.Collections.Hashtable Preferences()
        {
            var bound = MyInvocation.BoundParameters;
            var preferences = new System.Collections.Hashtable();
            if (bound.TryGetValue("ErrorAction", out var error)) preferences["ErrorActionPreference"] = error;
            if (bound.TryGetValue("WarningAction", out var warning)) preferences["WarningPreference"] = warning;
            if (bound.TryGetValue("InformationAction", out var information)) preferences["InformationPreference"] = information;
            if (bound.TryGetValue("ProgressAction", out var progress)) preferences["ProgressPreference"] = progress;   // PowerShell 7.4+
            if (bound.TryGetValue("Verbose", out var verbose))
                preferences["VerbosePreference"] = LanguagePrimitives.IsTrue(verbose) ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            if (bound.TryGetValue("Debug", out var debug))
                preferences["DebugPreference"] = LanguagePrimitives.IsTrue(debug) ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            return preferences;
        }

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
