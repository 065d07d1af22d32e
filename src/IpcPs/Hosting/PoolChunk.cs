using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A pool worker's run of one chunk of items. The items go one by one, from C#, through the call's pipeline (a
    /// <see cref="SteppablePipeline"/> of the user's script as a process block, see <see cref="PoolScript"/>): so
    /// an item costs one <c>Process</c> step and nothing of ours in script. Before each item runs, and again after it,
    /// the worker's progress word says so (<see cref="PoolProgress"/>: the parent reads it if the worker dies, to know
    /// the item it was running, if any); after it, the item's result (its output and the records it wrote) is closed. Results go back
    /// in order, several per message: at the chunk's end, and from a heartbeat every <see cref="HeartbeatMs"/> ms while
    /// the chunk runs (so they stream back while a long chunk runs); a result that is not only plain values is encoded
    /// when its item finishes, on the runspace's thread (<see cref="PoolResults"/>). A terminating error, or <c>exit</c>, ends its
    /// item only: the pipeline is made again for the items after it.
    /// The steps run inside the worker's driver invocation (see <see cref="PoolWorker"/>), on the runspace's thread, so
    /// the items' records reach the driver's streams, as they are written.
    /// Message: ["done", callId, results, ticks], each result [index, output[], records[], terminating] or [index, bytes]
    /// (that result encoded), ticks the Stopwatch ticks the items of these results took.
    /// </summary>
    public sealed class PoolChunk
    {
        /// <summary>How often the heartbeat looks at a running chunk.</summary>
        public const int HeartbeatMs = 2;

        private readonly Action<object?[]> _send;   // sends one message; callers hold _gate
        private readonly object _gate = new object();
        private readonly int _callId;
        private readonly long[] _indexes;
        private readonly object?[] _items;
        private readonly PoolScript _script;
        private readonly List<object?> _output = new List<object?>();
        private readonly List<object?> _records;
        private readonly List<object?> _finished = new List<object?>();   // results not sent yet
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly SharedMemory? _progress;
        private readonly int _depth;
        private long _ticksOfFinished;
        private bool _ended;

        private PoolChunk(PoolScript script, int callId, long[] indexes, object?[] items, List<object?> records, Action<object?[]> send, SharedMemory? progress, int depth)
        {
            _depth = depth;
            _script = script;
            _progress = progress;
            _callId = callId;
            _indexes = indexes;
            _items = items;
            _records = records;
            _send = send;
        }

        /// <summary>
        /// Runs ITEMS (whose input indexes are INDEXES) through SCRIPT; every result is sent by the time it returns.
        /// Called on the runspace's thread, inside the worker's driver invocation, whose streams are STREAMS; results
        /// are serialized DEPTH deep.
        /// </summary>
        internal static void Run(PoolScript script, PSDataStreams streams, ChildHost host, List<object?> records,
            int callId, long[] indexes, object?[] items, Action<object?[]> send, SharedMemory? progress, int depth)
        {
            var chunk = new PoolChunk(script, callId, indexes, items, records, send, progress, depth);
            using (new Timer(_ => chunk.Beat(), null, HeartbeatMs, HeartbeatMs))
            {
                try { chunk.RunItems(); }
                finally
                {
                    host.ExitCode = null;   // `exit` in an item ends the item, not the worker
                    streams.ClearStreams();
                    lock (chunk._gate) chunk._ended = true;
                }
            }
            chunk.Flush();
        }

        private void RunItems()
        {
            for (int i = 0; i < _items.Length; i++)
            {
                if (_items[i] is UnreadableItem unreadable)   // it fails unrun, with why this worker could not read it
                {
                    _progress?.WriteInt64(0, PoolProgress.Finished(_indexes[i]));
                    Finish(i, PoolResults.DescribeUnreadable(unreadable.Error, "this item"), 0);
                    continue;
                }
                // Before the item runs: a worker that dies from now on was running this item.
                _progress?.WriteInt64(0, PoolProgress.Running(_indexes[i]));
                _records.Clear();
                object? terminating = null;
                long start = -1;
                try
                {
                    // Made (at a call's first item, or after an item that ended it) before the clock starts: the
                    // item's time sizes automatic chunks, and the pipeline's start is not the item's work.
                    var pipeline = _script.Pipeline();
                    start = _clock.ElapsedTicks;
                    // The step's output comes back when it returns: an item that throws loses what it output before
                    // (a try or trap around it to keep that would make PowerShell end the item at its first
                    // statement-terminating error, such as 1/0, where a script goes on; docs/design.md).
                    foreach (var o in pipeline.Process(_items[i])) _output.Add(o);
                }
                catch (Exception e) when (!(e is ThreadAbortException))
                {
                    _script.Reset();
                    terminating = e switch
                    {
                        FlowControlException _ => null,   // exit, or break/continue out of the script: ends the item only
                        RuntimeException r => ChildProtocol.DescribeError(r.ErrorRecord),
                        _ => Describe(e, _items[i]),      // the engine's own
                    };
                }
                // It has ended: a worker that dies from now on, before the next item, was running none (this item's
                // result, if it had not gone yet, dies with it, and the item runs again).
                _progress?.WriteInt64(0, PoolProgress.Finished(_indexes[i]));
                Finish(i, terminating, start < 0 ? 0 : _clock.ElapsedTicks - start);
            }
        }

        private void Finish(int position, object? terminating, long ticks)
        {
            var output = _output.ToArray();
            var records = _records.ToArray();
            var result = new object?[] { _indexes[position], output, records, terminating };
            // Anything but plain values is encoded now, on this thread, as the item left it (PoolResults).
            if (!PoolResults.IsPlain(output, records)) result = PoolResults.Encode(result, _depth);
            _output.Clear();
            _records.Clear();
            lock (_gate)
            {
                _finished.Add(result);
                _ticksOfFinished += ticks;
            }
        }

        /// <summary>The heartbeat: sends the results finished since the last message.</summary>
        private void Beat()
        {
            // A timer's callback: an exception here would end the process. What FlushLocked lets through means the
            // parent's end is gone, which the serve loop sees at its next read.
            try
            {
                lock (_gate)
                {
                    if (!_ended) FlushLocked();
                }
            }
            catch (Exception) { }
        }

        private void Flush()
        {
            lock (_gate) FlushLocked();
        }

        private void FlushLocked()
        {
            if (_finished.Count == 0) return;
            var results = _finished.ToArray();
            _finished.Clear();
            long ticks = _ticksOfFinished;
            _ticksOfFinished = 0;
            try { _send(new object?[] { "done", _callId, results, ticks }); }
            catch (Exception e) when (!(e is ConnectionClosedException) && !(e is ObjectDisposedException))
            {
                // A result the codec cannot encode fails its item, not the others nor the worker: one at a time.
                foreach (object?[] r in results.OfType<object?[]>())
                {
                    try { _send(new object?[] { "done", _callId, new object?[] { r }, 0L }); }
                    catch (Exception one) when (!(one is ConnectionClosedException) && !(one is ObjectDisposedException))
                    {
                        // Its output or its records (a warning's, an information's data): neither goes, only the error.
                        _send(new object?[] { "done", _callId, new object?[] { new object?[] { r[0], Array.Empty<object?>(), Array.Empty<object?>(), Describe(one, null) } }, 0L });
                    }
                }
            }
        }

        private static Hashtable Describe(Exception e, object? item) =>
            ChildProtocol.DescribeError(new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, item));
    }

    /// <summary>
    /// A worker's script for one call, and the pipeline that runs its items. A plain script (no begin/process/end
    /// blocks, no attributes that make it an advanced script, no using statements or #requires) becomes the process
    /// block of a script of its own, with its param() block: its items then run as one pipeline, one scope for the
    /// items a worker runs in a call, as ForEach-Object's script block (each <c>Process</c> step costs well under a
    /// microsecond; the call of a script block per item, with a new scope each, cost ~5 us). Any other script runs
    /// as before chunks: called once per item (<c>&amp; $script @args</c>), in a scope of its own, with $_ set.
    /// The pipeline is made at the call's first item, and again after an item that ended it (a terminating error,
    /// exit); a new call starts a new one, so nothing an item set outlives its call (but $global:/$script: values).
    /// </summary>
    internal sealed class PoolScript
    {
        /// <summary>The variables the driver reads: the script to run, and its arguments.</summary>
        public const string ScriptVariable = "__ipcRunner", ArgumentsVariable = "__ipcRunnerArgs";

        private static readonly ScriptBlock Driver = ScriptBlock.Create("& $" + ScriptVariable + " @" + ArgumentsVariable);

        // The fallbacks: the user's script (in $__ipcScript) called per item. A script without a process block of its
        // own sees $_ of the driver's process block; one with a process block takes the item as its pipeline input
        // (its begin and end blocks run once per item, an advanced script binds it to its pipeline parameter).
        private static readonly ScriptBlock PerItem = ScriptBlock.Create("process { & $__ipcScript @__ipcArgs }");
        private static readonly ScriptBlock PerItemPiped = ScriptBlock.Create("process { $_ | & $__ipcScript @__ipcArgs }");

        private SteppablePipeline? _pipeline;
        private bool _stale;

        /// <summary>True when the call's script runs as a process block (one scope per worker and call).</summary>
        public bool AsProcessBlock { get; private set; }

        /// <summary>
        /// Sets up the call's SCRIPT with ARGUMENTS in the runspace's variables; the pipeline of an earlier call is
        /// dropped at the next step (a SteppablePipeline is used and disposed on the runspace's thread only).
        /// </summary>
        public void Configure(PSVariableIntrinsics variables, ScriptBlock script, ScriptBlock? processBlock, object?[] arguments)
        {
            _stale = true;
            AsProcessBlock = processBlock != null;
            variables.Set("__ipcScript", script);
            variables.Set("__ipcArgs", arguments);
            variables.Set(ScriptVariable, processBlock ?? (script.Ast is ScriptBlockAst { ProcessBlock: not null } ? PerItemPiped : PerItem));
            variables.Set(ArgumentsVariable, processBlock != null ? arguments : Array.Empty<object?>());
        }

        /// <summary>The call's pipeline, begun (made now if there is none).</summary>
        public SteppablePipeline Pipeline()
        {
            if (_stale) Reset();
            if (_pipeline != null) return _pipeline;
            var pipeline = Driver.GetSteppablePipeline();
            try { pipeline.Begin(true); }
            catch
            {
                pipeline.Dispose();
                throw;
            }
            return _pipeline = pipeline;
        }

        /// <summary>Drops the pipeline (after an item ended it); the next step makes a new one.</summary>
        public void Reset()
        {
            _stale = false;
            var pipeline = _pipeline;
            _pipeline = null;
            try { pipeline?.Dispose(); }
            catch (Exception) { /* a pipeline that failed may fail to dispose too; it is dropped all the same */ }
        }

        /// <summary>
        /// SCRIPT as the process block of a script with its param() block, or null if it is not a plain script (see
        /// the class summary). Made from the script's text, its body wrapped in place: lines keep their numbers, so
        /// errors point into the script (the first line of the body moves right by the wrapper's width). Parsed, not
        /// built from AST nodes: a script block made of constructed nodes ran a CPU-bound loop ~1.5x slower.
        /// </summary>
        public static ScriptBlock? ToProcessBlock(ScriptBlock script)
        {
            if (!(script.Ast is ScriptBlockAst ast)) return null;
            var body = ast.EndBlock;
            if (body is null || !body.Unnamed || body.Statements.Count == 0 || ast.BeginBlock != null || ast.ProcessBlock != null || ast.DynamicParamBlock != null) return null;
            if (ast.UsingStatements.Count > 0 || ast.ScriptRequirements != null || ast.Attributes.Count > 0) return null;
            var param = ast.ParamBlock;
            if (param != null && (param.Attributes.Count > 0 || param.Parameters.Any(p => p.Attributes.Any(a => a is AttributeAst))))
                return null;
            string text = ast.Extent.Text;
            int origin = ast.Extent.StartOffset;
            // The statements' span (traps included): an unnamed block's own extent may cover the param() block too.
            var parts = body.Statements.Cast<Ast>().Concat(body.Traps ?? Enumerable.Empty<TrapStatementAst>()).ToList();
            int from = parts.Min(a => a.Extent.StartOffset) - origin, to = parts.Max(a => a.Extent.EndOffset) - origin;
            if (from < 0 || to > text.Length || from > to) return null;
            string wrapped = text.Substring(0, from) + "process { " + text.Substring(from, to - from) + "\n}" + text.Substring(to);
            try
            {
                var block = ScriptBlock.Create(wrapped);
                return block.Ast is ScriptBlockAst w && w.ProcessBlock != null && w.EndBlock is null ? block : null;
            }
            catch (ParseException) { return null; }   // not expected of a script that parsed; it would run per item
        }
    }
}
