using System;
using System.Management.Automation;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>Base of every IpcPs cmdlet: a stop token cancelled by Ctrl+C, typed errors, the timeout rule, and handles opened by name.</summary>
    public abstract class IpcCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly System.Collections.Generic.List<object> _opened = new System.Collections.Generic.List<object>();

        /// <summary>The parameter set of the action cmdlets that take an object's name instead of the object.</summary>
        protected const string ByName = "ByName";

        /// <summary>Cancelled by <see cref="StopProcessing"/> (Ctrl+C, Stop-Job, a stopped pipeline).</summary>
        protected CancellationToken StopToken => _stop.Token;

        protected override void StopProcessing() => _stop.Cancel();

        public void Dispose()
        {
            try { OnDispose(); }
            finally
            {
                CloseOpened();
                _stop.Dispose();
            }
        }

        /// <summary>
        /// Opens NAME for this command (-Name): it is attached, and closed again when the command ends (after a Ctrl+C or
        /// an error too), so a name used once never keeps the object alive. NotFound, wrong kind: a typed exception
        /// that says what the command needs (WHAT, e.g. "an event"). A cmdlet with -Backend opens the name in its
        /// backend (-Backend, else $env:IPCPS_BACKEND; a name the default backend does not have is then looked up here).
        /// </summary>
        protected T OpenNamed<T>(string name, string what) where T : class
        {
            var backend = NamedBackend(out bool isExplicit);
            if (backend != null)
            {
                IIpcBackendObject? remote = null;
                try { remote = backend.Open(name, null); }
                catch (IpcObjectNotFoundException) when (!isExplicit) { /* the default backend: a local object of that name */ }
                if (remote != null)
                {
                    if (remote is T found)
                    {
                        lock (_opened) _opened.Add(remote);
                        return found;
                    }
                    remote.Dispose();
                    throw new IpcObjectKindException(name, $"'{name}' at {backend.Address} is a {remote.Kind}, not {what}.");
                }
            }
            return OpenLocal<T>(name, what);
        }

        private T OpenLocal<T>(string name, string what) where T : class
        {
            var obj = IpcObjects.Open(name);
            if (obj is T target)
            {
                lock (_opened) _opened.Add(obj);
                return target;
            }
            obj.Close();
            throw new IpcObjectKindException(name, $"'{name}' is a {obj.Kind}, not {what}.");
        }

        private IIpcBackend? _namedBackend;
        private bool _namedBackendResolved, _namedBackendExplicit;

        /// <summary>The backend -Name is looked up in (see <see cref="BackendArgument"/>), resolved once per command.</summary>
        protected IIpcBackend? NamedBackend(out bool isExplicit)
        {
            if (!_namedBackendResolved)
            {
                _namedBackend = BackendArgument.Resolve(this, out _namedBackendExplicit);
                _namedBackendResolved = true;
            }
            isExplicit = _namedBackendExplicit;
            return _namedBackend;
        }

        /// <summary>
        /// What an action cmdlet acts on: TARGET when it is an open handle; a handle opened for this command (see
        /// <see cref="OpenNamed"/>) for NAME, or for a described handle (Get-IpcObject's output), so that acting on a
        /// listed object never leaves this session holding it.
        /// </summary>
        protected T Target<T>(T? target, string? name, string what) where T : class
        {
            if (target is IpcObject o && !o.IsOpen && !o.IsClosed) return OpenLocal<T>(o.Name, what);
            return target ?? OpenNamed<T>(name ?? throw new ArgumentException("Give the object or its name."), what);
        }

        /// <summary>Closes a handle OpenNamed gave, now (a pipeline of names: each is closed after its item).</summary>
        protected void CloseNamed(object handle)
        {
            if (!(handle is IpcObject || handle is IIpcBackendObject)) return;
            lock (_opened) _opened.Remove(handle);
            CloseHandle(handle);
        }

        /// <summary>Keeps a handle OpenNamed gave open after the command (Enter-IpcLock -Name: the lock stays taken).</summary>
        protected void KeepNamed(object handle)
        {
            lock (_opened) _opened.Remove(handle);
        }

        /// <summary>Closes a local handle or a backend's (which releases what that handle holds: a lease).</summary>
        protected static void CloseHandle(object handle)
        {
            if (handle is IpcObject obj) obj.Close();
            else if (handle is IIpcBackendObject remote) remote.Dispose();
        }

        /// <summary>What -PassThru outputs for a handle opened by name: the object described (local), or a new handle (a backend's: it holds nothing).</summary>
        protected static object Described(object handle) => handle switch
        {
            IIpcBackendObject remote => remote.Backend.Open(remote.Name, remote.Kind),
            IpcObject obj => IpcObjects.Get(obj.Name),
            _ => handle,
        };

        private void CloseOpened()
        {
            object[] opened;
            lock (_opened) { opened = _opened.ToArray(); _opened.Clear(); }
            foreach (var obj in opened)
            {
                try { CloseHandle(obj); }
                catch (Exception e) when (e is IpcException) { /* closing: a registry that cannot be updated is pruned later */ }
            }
        }

        /// <summary>
        /// The one timeout rule (about_IpcPs, "Timeouts"): a wait that runs out of time writes this non-terminating
        /// IpcTimeout error (a TimeoutException, category OperationTimeout, TARGET as its target) and outputs nothing
        /// for what did not happen; -ErrorAction decides what it does to the script (Stop: a terminating error).
        /// </summary>
        protected void WriteTimeout(string message, string? name, object? target) =>
            WriteError(new ErrorRecord(new IpcTimeoutException(message, name ?? ""), ErrorRecords.IpcTimeout, ErrorCategory.OperationTimeout, target));

        /// <summary>A timeout in words for messages: "within 2.5 s".</summary>
        protected static string Within(TimeSpan timeout) => $"within {timeout.TotalSeconds:0.###} s";

        /// <summary>Releases what the cmdlet holds however its pipeline ended (completed, stopped, failed).</summary>
        protected virtual void OnDispose() { }

        /// <summary>A non-terminating error for one item; the cmdlet goes on with the next.</summary>
        protected void WriteIpcError(Exception e, object? target) => WriteError(ErrorRecords.From(e, target));

        /// <summary>A terminating error: the command cannot go on.</summary>
        protected void ThrowIpcError(Exception e, object? target) => ThrowTerminatingError(ErrorRecords.From(e, target));

        // The user's block is dot-sourced into the current scope — the caller's, since a cmdlet runs in its caller's
        // scope — so what it sets stays set, as with any PowerShell block that runs in place: CommandInvocationIntrinsics
        // .InvokeScript with useNewScope false runs it as ForEach-Object runs its blocks, its output streamed through
        // this cmdlet's output pipe (unless held back), its errors through its error pipe (-ErrorVariable, 2>&1). The
        // runner's two parameters are variables of the caller's scope while the block runs, removed after it.
        // Output held back is collected inside the runner (an @() subexpression), not by leaving Output out of the
        // streams: the block's errors reach -ErrorVariable only through this cmdlet's output pipe.
        private const string BlockRunner = "param($__ipcUseBlock, $__ipcUseArgs) . $__ipcUseBlock @__ipcUseArgs";
        private const string HeldRunner = "param($__ipcUseBlock, $__ipcUseArgs, $__ipcUseHeld) $__ipcUseHeld.AddRange(@(. $__ipcUseBlock @__ipcUseArgs))";
        private static readonly string[] RunnerVariables = { "__ipcUseBlock", "__ipcUseArgs", "__ipcUseHeld" };

        /// <summary>
        /// Runs BLOCK with ARGS in the caller's scope (variables it sets survive), its errors and other records going
        /// through this cmdlet as they are written (into -ErrorVariable, 2>&amp;1, …) and so does its output, unless
        /// OUTPUTAFTEREND holds it back until END has run; then END, once, however the block ended. The common parameters
        /// given to the cmdlet (-ErrorAction, -WarningAction, -Verbose, …) are the block's preference variables while it
        /// runs, as in an advanced function's body, and the caller's own are put back after it. A terminating error in
        /// the block becomes this cmdlet's, after END (output held back is then dropped); Ctrl+C and a downstream
        /// Select-Object -First stop the block and still run END.
        /// </summary>
        protected void InvokeBlock(ScriptBlock block, object[] args, Action end, bool outputAfterEnd = false)
        {
            ErrorRecord? failed = null;
            var held = outputAfterEnd ? new System.Collections.ArrayList() : null;
            var restore = SetPreferences();
            try
            {
                var streams = System.Management.Automation.Runspaces.PipelineResultTypes.Output | System.Management.Automation.Runspaces.PipelineResultTypes.Error;
                if (held is null) InvokeCommand.InvokeScript(BlockRunner, false, streams, null, block, args);
                else InvokeCommand.InvokeScript(HeldRunner, false, streams, null, block, args, held);
            }
            catch (RuntimeException e) when (!(e is PipelineStoppedException))
            {
                failed = e.ErrorRecord;
            }
            finally
            {
                restore();
                end();
            }
            if (failed != null) ThrowTerminatingError(failed);
            if (held != null) foreach (var item in held) WriteObject(item);
        }

        /// <summary>
        /// Makes the common parameters given to this cmdlet the preference variables of the caller's scope, and returns
        /// what puts the scope back (each variable as it was there, or absent), removing the runner's variables too.
        /// </summary>
        private Action SetPreferences()
        {
            var bound = MyInvocation.BoundParameters;
            var preferences = new System.Collections.Generic.Dictionary<string, object?>();
            if (bound.TryGetValue("ErrorAction", out var error)) preferences["ErrorActionPreference"] = error;
            if (bound.TryGetValue("WarningAction", out var warning)) preferences["WarningPreference"] = warning;
            if (bound.TryGetValue("InformationAction", out var information)) preferences["InformationPreference"] = information;
            if (bound.TryGetValue("ProgressAction", out var progress)) preferences["ProgressPreference"] = progress;   // PowerShell 7.4+
            if (bound.TryGetValue("Verbose", out var verbose))
                preferences["VerbosePreference"] = LanguagePrimitives.IsTrue(verbose) ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            if (bound.TryGetValue("Debug", out var debug))
                preferences["DebugPreference"] = LanguagePrimitives.IsTrue(debug) ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            // The values, not the PSVariable objects: setting a variable changes the object in place.
            var saved = new System.Collections.Generic.List<(string Name, bool Existed, object? Value)>();
            foreach (var p in preferences)
            {
                var local = SessionState.PSVariable.Get("local:" + p.Key);
                saved.Add((p.Key, local != null, local?.Value));
                SessionState.PSVariable.Set("local:" + p.Key, p.Value);
            }
            return () =>
            {
                foreach (var (name, existed, value) in saved)
                {
                    if (existed) SessionState.PSVariable.Set("local:" + name, value);
                    else RemoveLocal(name);
                }
                foreach (var name in RunnerVariables) RemoveLocal(name);
            };
        }

        private void RemoveLocal(string name)
        {
            var v = SessionState.PSVariable.Get("local:" + name);
            if (v != null) SessionState.PSVariable.Remove(v);
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
