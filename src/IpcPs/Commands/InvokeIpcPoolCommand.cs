using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Runs a script block over each input item ($_) in warm worker processes: those of -Pool, or a pool of
    /// -ThrottleLimit workers made for this call. Results stream back as items finish, in input order with -Ordered.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "IpcPool", DefaultParameterSetName = TemporarySet)]
    [OutputType(typeof(object))]
    public sealed class InvokeIpcPoolCommand : IpcCmdlet
    {
        private const string TemporarySet = "ThrottleLimit", PoolSet = "Pool";
        private static readonly TimeSpan ProgressAfter = TimeSpan.FromSeconds(1), ProgressEvery = TimeSpan.FromMilliseconds(250);

        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly int _activityId = new Random().Next(1, int.MaxValue);
        private IpcPool? _pool;
        private bool _ownPool;
        private PoolCall? _call;
        private TimeSpan _lastProgress = TimeSpan.Zero;
        private bool _progressShown;

        /// <summary>What each worker runs per item; the item is $_.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>The items.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>A pool from New-IpcPool. Without it, a pool is made for this call and removed after it.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PoolSet)]
        public IpcPool Pool { get; set; } = null!;

        /// <summary>Workers of the pool made for this call. Default: the processor count.</summary>
        [Parameter(ParameterSetName = TemporarySet)]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        /// <summary>Runs once in each worker of the pool made for this call, before any item.</summary>
        [Parameter(ParameterSetName = TemporarySet)]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>Values for the script's param() block (or $args), the same for every item.</summary>
        [Parameter]
        [HandleArgumentTransformation]
        [Alias("Args")]
        public object?[]? ArgumentList { get; set; }

        /// <summary>Output in input order (else as items finish).</summary>
        [Parameter]
        public SwitchParameter Ordered { get; set; }

        /// <summary>Items sent to a worker at once and run as one pipeline there. Default (0): automatic.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int ChunkSize { get; set; }

        /// <summary>How deep items, arguments and results are serialized when they are not plain values. Default 2.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int Depth { get; set; } = 2;

        protected override void BeginProcessing()
        {
            string script = "";
            Hashtable usingValues = new Hashtable();
            try { (script, usingValues) = UsingVariables.Capture(ScriptBlock, SessionState); }
            catch (ArgumentException e) { ThrowIpcError(e, ScriptBlock); }
            // The values first: one that cannot be sent fails the call before a pool is made for it (its workers
            // would take the session's spares only to be ended).
            byte[] values = Array.Empty<byte>();
            try { values = PoolCall.EncodeValues(ArgumentList ?? Array.Empty<object?>(), usingValues, Depth); }
            catch (ArgumentException e) { ThrowIpcError(e, ArgumentList); }
            try
            {
                if (ParameterSetName == PoolSet) _pool = Pool;
                else
                {
                    _pool = IpcPool.Start(ThrottleLimit, ChildLauncher.ModuleManifest(this),
                        SessionState.Path.CurrentFileSystemLocation.ProviderPath, InitializationScript?.ToString());
                    _ownPool = true;
                }
                _call = new PoolCall(_pool, script, values, Depth, Ordered, ChunkSize);
            }
            catch (Exception e) when (e is IpcException || e is InvalidOperationException || e is System.ComponentModel.Win32Exception)
            {
                ThrowIpcError(e, ParameterSetName == PoolSet ? (object)Pool : ScriptBlock);
            }
        }

        protected override void ProcessRecord()
        {
            if (!MyInvocation.ExpectingInput && InputObject is null) return;
            Run(() => _call!.Add(InputObject, StopToken));
        }

        protected override void EndProcessing()
        {
            _endStarted = true;
            while (!_call!.Done) Run(() => _call.Next(ProgressEvery, StopToken));
            _call.Finish();
            if (_progressShown)
                WriteProgress(new ProgressRecord(_activityId, "Invoke-IpcPool", "Done") { RecordType = ProgressRecordType.Completed });
        }

        protected override void OnDispose()
        {
            // A pool made for this call goes first, at once (its busy workers killed, those still starting told to
            // end): stopped early (Ctrl+C), the call would otherwise start new workers in place of the busy ones, only
            // for the pool to wait for them to start and quit.
            if (_ownPool) _pool?.Dispose(atOnce: true);
            _call?.Dispose();
        }

        private void Run(Func<List<PoolResult>> step)
        {
            List<PoolResult> results;
            try { results = step(); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (PoolInitializationException e)
            {
                // A worker's initialization failed mid-call (a replacement's, or a "ready" with an error from a worker):
                // the results that came before it are written first, as for every other error that ends the call.
                foreach (var r in _call!.TakeAll()) Write(r);
                ThrowIpcError(e, ScriptBlock);
                return;
            }
            catch (IpcException e)
            {
                // A worker could not be replaced (no descriptor left): the results that came before it are written first.
                foreach (var r in _call!.TakeAll()) Write(r);
                ThrowIpcError(e, _pool);
                return;
            }
            catch (ObjectDisposedException e)
            {
                // The pool was removed during the call (IpcObjectClosed): the results that came before are written first.
                foreach (var r in _call!.TakeAll()) Write(r);
                ThrowIpcError(e, _pool);
                return;
            }
            catch (PoolCallValuesException e)
            {
                // The results that came before it are written first. The worker's error (IpcObjectNotFound for a handle
                // whose object is gone) is aimed at the call's arguments, or at its script when it has none ($using:).
                foreach (var r in _call!.TakeAll()) Write(r);
                object target = ArgumentList is { Length: > 0 } ? ArgumentList : ScriptBlock;
                ThrowTerminatingError(new ErrorRecord(e.Error.Exception, e.Error.FullyQualifiedErrorId, e.Error.CategoryInfo.Category, target) { ErrorDetails = new ErrorDetails(Detail(e.Error, e.WorkerPid)) });
                return;
            }
            foreach (var r in results) Write(r);
            Progress();
        }

        private void Write(PoolResult r)
        {
            foreach (var o in r.Output) WriteObject(o);
            foreach (var entry in r.Records)
            {
                if (!(entry is object?[] rec) || rec.Length < 2) continue;
                switch (rec[0] as string)
                {
                    case "E": WriteError(ForItem(ChildProtocol.RebuildError(rec[1], r.WorkerPid), r)); break;
                    case "W": WriteWarning(rec[1]?.ToString() ?? ""); break;
                    case "V": WriteVerbose(rec[1]?.ToString() ?? ""); break;
                    case "D": WriteDebug(rec[1]?.ToString() ?? ""); break;
                    case "I": WriteInformation(ChildProtocol.RebuildInformation(rec[1])); break;
                }
            }
            if (r.Terminating != null) WriteError(ForItem(ChildProtocol.RebuildError(r.Terminating, r.WorkerPid), r));
            if (r.WorkerDied != null)
            {
                var died = new ErrorRecord(new RemoteException(r.WorkerDied), ErrorRecords.PoolWorkerDied, ErrorCategory.OperationStopped, r.Task.Item);
                // Says what became of the slot as PoolCall knows it: a worker whose process was started there, or why none was.
                string replacement = r.NoReplacement is null
                    ? $"a new worker (process {r.ReplacementPid}) was started in its place."
                    : $"no new worker could be started in its place: {r.NoReplacement.TrimEnd('.')}.";
                died.ErrorDetails = new ErrorDetails($"{Name(r)} {r.WorkerDied} " + (r.DiedBeforeBegun
                    ? $"{PoolCall.MaxDeathsBeforeBegun} workers died holding this item, running none (can a worker read it, or send its result?), so it is not sent again; "
                    : "It was running this item; ") + replacement);
                WriteError(died);
            }
        }

        /// <summary>The worker's error, aimed at the item: the item is its target, and its message says which item.</summary>
        private static ErrorRecord ForItem(ErrorRecord error, PoolResult r)
        {
            var record = new ErrorRecord(error.Exception, error.FullyQualifiedErrorId, error.CategoryInfo.Category, r.Task.Item);
            record.ErrorDetails = new ErrorDetails($"{Name(r)} {Detail(error, r.WorkerPid)}");
            return record;
        }

        /// <summary>The worker's error's message without the "[child pid N] " it starts with (the item's name, or the call, says where).</summary>
        private static string Detail(ErrorRecord error, int workerPid)
        {
            string detail = error.ErrorDetails?.Message ?? error.Exception.Message;
            string prefix = $"[child pid {workerPid}] ";
            return detail.StartsWith(prefix, StringComparison.Ordinal) ? detail.Substring(prefix.Length) : detail;
        }

        /// <summary>The item as an error message names it: its index and string form, shortened.</summary>
        private static string Name(PoolResult r)
        {
            string text = Text(r.Task.Item);
            if (text.Length > 60) text = text.Substring(0, 57) + "...";
            return $"[item {r.Task.Index} '{text}']";
        }

        /// <summary>
        /// ITEM's string form, or its type name ("[SomeType]") when that throws (a ToString script method, a getter
        /// its formatting reads): naming an item in its error must never end the call (the items after it would be lost).
        /// </summary>
        private static string Text(object? item)
        {
            if (item is null) return "null";
            try { return LanguagePrimitives.ConvertTo<string>(item) ?? ""; }
            catch (Exception e) when (!(e is PipelineStoppedException) && !(e is OutOfMemoryException))
            {
                return $"[{PSObject.AsPSObject(item).BaseObject.GetType().FullName}]";
            }
        }

        /// <summary>A progress bar once a run has lasted a second, updated a few times a second.</summary>
        private void Progress()
        {
            var now = _clock.Elapsed;
            if (now < ProgressAfter || now - _lastProgress < ProgressEvery) return;
            _lastProgress = now;
            _progressShown = true;
            var call = _call!;
            bool allIn = _endStarted;   // the total is known once the input has ended
            WriteProgress(new ProgressRecord(_activityId, "Invoke-IpcPool", $"{call.Completed} of {call.Submitted} items done")
            {
                PercentComplete = allIn && call.Submitted > 0 ? (int)(100 * call.Completed / call.Submitted) : -1,
            });
        }

        private bool _endStarted;
    }
}
