using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>The outcome of one item: its output and records, or the error that ended it, or its worker's death.</summary>
    internal sealed class PoolResult
    {
        public PoolResult(PoolTask task) => Task = task;

        public PoolTask Task { get; }
        public object?[] Output { get; set; } = Array.Empty<object?>();

        /// <summary>[kind, payload] pairs in the order the item wrote them (see <see cref="PoolWorker"/>).</summary>
        public object?[] Records { get; set; } = Array.Empty<object?>();

        /// <summary>The described terminating error of the item's script, if it threw.</summary>
        public Hashtable? Terminating { get; set; }

        /// <summary>Why the worker running this item died, if it did.</summary>
        public string? WorkerDied { get; set; }

        /// <summary>With <see cref="WorkerDied"/>: the workers holding the item died running no item (see PoolCall.OnDied).</summary>
        public bool DiedBeforeBegun { get; set; }

        /// <summary>With <see cref="WorkerDied"/>: the process id of the worker started in its slot; 0 when none was
        /// (<see cref="NoReplacement"/> says why).</summary>
        public int ReplacementPid { get; set; }

        /// <summary>With <see cref="WorkerDied"/>: why no worker was started in its place (the call then ends with that error).</summary>
        public string? NoReplacement { get; set; }

        public int WorkerPid { get; set; }
    }

    /// <summary>
    /// One Invoke-IpcPool call on a pool: hands items to workers in chunks (at most <see cref="Prefetch"/> chunks
    /// waiting per worker, so a worker never idles for a round trip), gathers their results, in input order with
    /// ORDERED, and replaces a worker that dies: the item it was running is reported, the items queued behind it go to
    /// other workers. The chunk size is CHUNKSIZE, or (0) found as the call runs: enough items for about
    /// <see cref="TargetChunkMs"/> ms of work, from the items' measured times, starting at 1.
    /// Everything runs on the caller's thread, except the workers' reader threads, which only post events.
    /// </summary>
    internal sealed class PoolCall : IDisposable
    {
        /// <summary>Chunks sent to one worker ahead of its answers.</summary>
        public const int Prefetch = 2;

        /// <summary>The work an automatic chunk aims at, and the most items it takes.</summary>
        public const int TargetChunkMs = 50, MaxAutoChunk = 1024;

        private static readonly List<PoolResult> NoResults = new List<PoolResult>(0);

        /// <summary>A worker that dies this many times in a row before it is ready means workers cannot start.</summary>
        private const int MaxStartFailures = 3;

        /// <summary>An item this many workers died holding, before any began it, is reported rather than sent again.</summary>
        public const int MaxDeathsBeforeBegun = 2;

        private readonly IpcPool _pool;
        private readonly int _callId;
        private readonly object?[] _callMessage;
        private readonly bool _ordered;
        private readonly int _depth;
        private readonly LinkedList<PoolTask> _pending = new LinkedList<PoolTask>();
        private readonly SortedDictionary<long, PoolResult> _early = new SortedDictionary<long, PoolResult>();
        private readonly List<PoolResult> _ready = new List<PoolResult>();
        private readonly int _fixedChunk;
        private int _autoChunk = 1;
        private long _measuredTicks, _measuredItems, _nextSizing = 2;
        private bool _inputEnded;
        private bool[]? _skip;
        private long _nextOut;
        private int _startFailures;
        private bool _finished;

        /// <summary>A call of SCRIPT with VALUES, its arguments and $using: values (<see cref="EncodeValues"/>).</summary>
        public PoolCall(IpcPool pool, string script, byte[] values, int depth, bool ordered, int chunkSize = 0)
        {
            _fixedChunk = chunkSize;
            _pool = pool;
            if (!pool.TryEnter(out _callId))
                throw new InvalidOperationException("The pool is running another Invoke-IpcPool call; one call at a time can use a pool.");
            try
            {
                // A worker that died when no replacement could start (no descriptor left) is replaced now: a call whose
                // workers are all dead would wait for ever.
                for (int slot = 0; slot < pool.Size; slot++)
                    if (pool.Worker(slot).Dead && !pool.Replace(slot)) throw pool.Removed();
            }
            catch
            {
                pool.Leave();
                throw;
            }
            _callMessage = new object?[] { "call", _callId, script, values, depth, ManagerKeys.ForChild() };
            _ordered = ordered;
            _depth = depth;
        }

        /// <summary>
        /// A call's arguments and $using: values, encoded once, together (an object in both stays one object): every
        /// worker, and one that replaces a dead worker later in the call, gets them as they were when the call started
        /// (the command before may change them while the call runs). One that cannot be sent is an ArgumentException,
        /// before the call holds a pool (or one is made for it).
        /// </summary>
        public static byte[] EncodeValues(object?[] arguments, Hashtable usingValues, int depth)
        {
            try { return MessageCodec.EncodeToArray(new object?[] { arguments, usingValues }, depth); }
            catch (Exception e) when (e is ArgumentException || e is MessageTooLargeException)
            {
                throw new ArgumentException("An argument or $using: value of the call cannot be sent to the workers: " + e.Message, e);
            }
        }

        public long Submitted { get; private set; }
        public long Completed { get; private set; }

        /// <summary>
        /// Queues ITEM; returns the results ready now. Invariant: it returns with less than a chunk queued here (the
        /// chunk that has not filled yet), waiting for events until the workers took the rest: all work happens on the
        /// caller's thread, so a whole chunk left here while the input pauses would go only when the input goes on,
        /// and an input waiting for what that item does would wait for ever (one at a busy worker's limit of
        /// chunks in flight, one larger than a busy worker's pipe has room for). The wait is also the back-pressure:
        /// a long input is never all in memory.
        /// </summary>
        public List<PoolResult> Add(object? item, CancellationToken cancel)
        {
            // Encoded now, as it is (the command before may change the same object for its next item): one that cannot
            // be sent fails now, as its item's error.
            object? wire;
            try { wire = PoolResults.ToWire(item, _depth); }
            catch (Exception e) when (!(e is OutOfMemoryException) && !(e is PipelineStoppedException) && !(e is OperationCanceledException))
            {
                Complete(new PoolResult(new PoolTask(Submitted++, item, null)) { Terminating = ChildProtocol.DescribeError(ErrorRecords.From(e, item)) });
                return Take();
            }
            _pending.AddLast(new PoolTask(Submitted++, item, wire));
            Dispatch(cancel);
            while (_pending.Count >= ChunkSize) Handle(Timeout.InfiniteTimeSpan, cancel);
            while (Handle(TimeSpan.Zero, cancel)) { }
            return Take();
        }

        /// <summary>Waits up to TIMEOUT for more results; returns those ready. <see cref="Done"/> says when all are in.</summary>
        public List<PoolResult> Next(TimeSpan timeout, CancellationToken cancel)
        {
            if (!_inputEnded)
            {
                _inputEnded = true;   // Next is called once the input has ended: partial chunks go now
                Dispatch(cancel);
            }
            if (!Done && Handle(timeout, cancel)) while (Handle(TimeSpan.Zero, cancel)) { }
            return Take();
        }

        public bool Done => Completed == Submitted;

        /// <summary>
        /// Items a chunk takes now. An automatic chunk is also at most 1/<see cref="SlowStart"/> of the items
        /// submitted so far: a busy worker gets only full chunks while input may still come, so items wait in this
        /// process until a chunk fills, and the first items of a call must not wait behind a chunk of 1,024 (an
        /// input that pauses, or waits for something an earlier item does, would hold them until it goes on).
        /// </summary>
        public int ChunkSize => _fixedChunk > 0 ? _fixedChunk : (int)Math.Max(1, Math.Min(_autoChunk, Submitted / SlowStart));

        /// <summary>The slow start of automatic chunks (see <see cref="ChunkSize"/>).</summary>
        public const int SlowStart = 8;

        /// <summary>The results ready to be written (in order, with -Ordered); the call's own steps return them too.</summary>
        public List<PoolResult> Take()
        {
            if (_ready.Count == 0) return NoResults;
            var taken = new List<PoolResult>(_ready);
            _ready.Clear();
            return taken;
        }

        /// <summary>
        /// Every result in, for a call that ends with an error: those ready, then (with -Ordered) those held until an
        /// earlier item's came, in input order, though a gap stays before them (the item a dead worker left, or one
        /// that never finished): what came is written, a PoolWorkerDied among it.
        /// </summary>
        public List<PoolResult> TakeAll()
        {
            var taken = new List<PoolResult>(Take());   // a list of its own: Take answers the shared NoResults when none is ready
            taken.AddRange(_early.Values);   // a SortedDictionary: input order
            _early.Clear();
            return taken;
        }

        /// <summary>
        /// Sends queued items to the workers that have room, in chunks, one chunk at a time to the worker with the
        /// fewest items in flight (so a free worker gets the next chunk before a busy one gets its prefetched one), the
        /// call's script first if the worker lacks it. A busy worker gets only a full chunk while input may still come;
        /// an idle one gets what there is.
        /// </summary>
        private void Dispatch(CancellationToken cancel)
        {
            if (_pool.IsRemoved) return;   // its workers' pipes are closed: the next Handle ends the call
            if (_skip is null || _skip.Length != _pool.Size) _skip = new bool[_pool.Size];
            var skip = _skip;   // workers that cannot take a chunk now (no room in their pipe, gone)
            Array.Clear(skip, 0, skip.Length);
            while (_pending.Count > 0)
            {
                int slot = -1;
                for (int s = 0; s < _pool.Size; s++)
                    if (!skip[s] && !_pool.Worker(s).Dead && (slot < 0 || _pool.Worker(s).InFlight.Count < _pool.Worker(slot).InFlight.Count)) slot = s;
                // The limits below only tighten as a worker's items in flight grow: when the least busy worker may not
                // take a chunk, no other may.
                if (slot < 0) return;
                if (GiveChunk(_pool.Worker(slot), cancel, out bool tryOthers)) continue;
                if (!tryOthers) return;
                skip[slot] = true;
            }
        }

        /// <summary>
        /// Sends W one chunk; false when it may not take one (TRYOTHERS: for a reason of its own, no room in its pipe
        /// now or its death). A busy worker is never waited for: see <see cref="PoolWorkerProcess.TrySendNow"/>.
        /// </summary>
        private bool GiveChunk(PoolWorkerProcess w, CancellationToken cancel, out bool tryOthers)
        {
            tryOthers = false;
            int chunk = ChunkSize;
            if (w.InFlight.Count >= Prefetch * chunk) return false;
            // Once the input has ended, what is left is shared among the workers rather than given to the first.
            int take = Math.Min(chunk, _inputEnded ? Math.Max(1, (_pending.Count + _pool.Size - 1) / _pool.Size) : _pending.Count);
            if (take < chunk && w.InFlight.Count > 0 && !_inputEnded) return false;
            // An item a worker died holding, running none, goes alone: a chunk no worker can read is then blamed on
            // that item only, not on a good one sent before it in the same chunk.
            if (_pending.First!.Value.DiedBeforeBegun > 0) take = 1;
            tryOthers = true;
            if (!w.MayTake) return false;
            if (w.CallId != _callId)
            {
                w.Depth = _depth;
                if (w.TrySendNow(_callMessage, cancel) != PoolSend.Sent) return false;
                w.CallId = _callId;
            }
            var tasks = new List<PoolTask>(take);
            for (int i = 0; i < take; i++)
            {
                tasks.Add(_pending.First!.Value);
                _pending.RemoveFirst();
            }
            if (!SendChunk(w, tasks, cancel)) return false;
            tryOthers = false;
            return true;
        }

        /// <summary>
        /// Sends TASKS as one chunk; false (the tasks not sent back in front of the queue, in order) when the worker
        /// cannot take it now or is gone.
        /// </summary>
        private bool SendChunk(PoolWorkerProcess w, List<PoolTask> tasks, CancellationToken cancel)
        {
            bool sent;
            try { sent = w.TrySendNow(ChunkMessage(tasks), cancel) == PoolSend.Sent; }
            catch (Exception e) when (!(e is ThreadAbortException) && !(e is OperationCanceledException))
            {
                if (tasks.Count > 1)
                {
                    // An item cannot be encoded: each is sent alone, so that one fails alone. One that does not go puts
                    // itself back in front of the queue; the ones after it go back behind it.
                    for (int i = 0; i < tasks.Count; i++)
                    {
                        if (SendChunk(w, new List<PoolTask> { tasks[i] }, cancel)) continue;
                        var at = _pending.First!;
                        for (int j = i + 1; j < tasks.Count; j++) at = _pending.AddAfter(at, tasks[j]);
                        return false;
                    }
                    return true;
                }
                Complete(new PoolResult(tasks[0]) { Terminating = ChildProtocol.DescribeError(ErrorRecords.From(e, tasks[0].Item)) });
                return true;
            }
            if (sent)
            {
                foreach (var t in tasks) w.InFlight.AddLast(t);
                return true;
            }
            for (int i = tasks.Count - 1; i >= 0; i--) _pending.AddFirst(tasks[i]);
            return false;
        }

        private object?[] ChunkMessage(List<PoolTask> tasks)
        {
            var indexes = new long[tasks.Count];
            var items = new object?[tasks.Count];
            for (int i = 0; i < tasks.Count; i++)
            {
                indexes[i] = tasks[i].Index;
                items[i] = tasks[i].Wire;
            }
            return new object?[] { "chunk", _callId, indexes, items };
        }

        /// <summary>
        /// Handles one event, waiting at most TIMEOUT for it. False if none came. The pool's removal (by another
        /// runspace, or by the call's own downstream) ends the call: ObjectDisposedException (IpcObjectClosed).
        /// </summary>
        private bool Handle(TimeSpan timeout, CancellationToken cancel)
        {
            if (_pool.IsRemoved) throw _pool.Removed();
            // A look without waiting, per input item: TryTake with a token links token sources on every call.
            if (timeout == TimeSpan.Zero && _pool.Events.Count == 0) return false;
            if (!_pool.TryTakeEvent(out var e, timeout == Timeout.InfiniteTimeSpan ? -1 : (int)timeout.TotalMilliseconds, cancel))
            {
                if (_pool.IsRemoved) throw _pool.Removed();   // woken by the removal (the pool's events are completed)
                return false;
            }
            var w = e.Worker;
            if (w != _pool.Worker(w.Slot)) return true;   // from a worker already replaced
            if (e.Message is null) OnDied(w);
            else if (PoolCallMessages.IsDone(e.Message, _callId)) OnDone(w, e.Message);
            else if (PoolCallMessages.IsCallError(e.Message, _callId))
            {
                // The worker could not receive the call's values (a handle among them whose object is gone): it runs
                // none of the call's chunks, so what it holds is not in flight; every worker would fail the same way.
                w.InFlight.Clear();
                var failed = new PoolCallValuesException(ChildProtocol.RebuildError(e.Message[2], w.Pid), w.Pid);
                AwaitCallErrors(cancel);
                throw failed;
            }
            else if (IpcPool.IsReady(e)) { w.Ready = true; _startFailures = 0; }
            Dispatch(cancel);
            return true;
        }

        /// <summary>
        /// The call has failed at a worker that could not receive its values: the other workers that were sent them
        /// fail the same way, each with a callerror of its own, and then hold nothing of the call. Waits for those
        /// that are ready (at most <see cref="CallErrorGraceMs"/>, sending nothing more), so that <see cref="Dispose"/>
        /// need not replace them as busy; one still starting is not waited for (its start could take longer than a
        /// replacement's). Results that come meanwhile (a worker that could receive the values after all) are kept for
        /// the caller (with ORDERED, those up to the first item without one); a death, or a worker's failed start,
        /// is left to Dispose. A worker still busy at the end is replaced, as after a stop.
        /// </summary>
        private void AwaitCallErrors(CancellationToken cancel)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                bool waiting = false;
                for (int s = 0; s < _pool.Size; s++)
                {
                    var x = _pool.Worker(s);
                    if (!x.Dead && x.Ready && x.CallId == _callId && x.InFlight.Count > 0) waiting = true;
                }
                long left = CallErrorGraceMs - clock.ElapsedMilliseconds;
                if (!waiting || left <= 0) return;
                if (!_pool.TryTakeEvent(out var e, (int)left, cancel)) return;
                var w = e.Worker;
                if (w != _pool.Worker(w.Slot)) continue;
                if (e.Message is null) w.Dead = true;
                else if (PoolCallMessages.IsDone(e.Message, _callId)) OnDone(w, e.Message);
                else if (PoolCallMessages.IsCallError(e.Message, _callId)) w.InFlight.Clear();
                else
                {
                    try { if (IpcPool.IsReady(e)) w.Ready = true; }
                    catch (PoolInitializationException) { /* the call's own error is the one reported */ }
                }
            }
        }

        /// <summary>How long a failed call waits for its other workers' callerrors (see <see cref="AwaitCallErrors"/>).</summary>
        public const int CallErrorGraceMs = 5000;

        /// <summary>
        /// Results of a worker, in order (see <see cref="PoolChunk"/>): each completes its item. Anything malformed is ignored (it comes from another process).
        /// </summary>
        private void OnDone(PoolWorkerProcess w, object?[] m)
        {
            if (!(m[2] is object?[] results)) return;
            foreach (var entry in results)
            {
                if (!(entry is object?[] r) || r.Length < 4 || !IsInteger(r[0])) continue;
                long index = Convert.ToInt64(r[0]);
                var node = w.InFlight.First;
                while (node != null && node.Value.Index != index) node = node.Next;
                if (node is null) continue;   // not ours (cannot happen: a worker answers in order)
                w.InFlight.Remove(node);
                Complete(new PoolResult(node.Value)
                {
                    Output = r[1] as object?[] ?? Array.Empty<object?>(),
                    Records = r[2] as object?[] ?? Array.Empty<object?>(),
                    Terminating = r[3] as Hashtable,
                    WorkerPid = w.Pid,
                });
            }
            if (_fixedChunk == 0 && IsInteger(m[3]) && results.Length > 0)
            {
                _measuredTicks += Math.Max(0, Convert.ToInt64(m[3]));
                _measuredItems += results.Length;
                // Settled at doubling counts of measured items: a size that changed with every message kept the
                // workers waiting for chunks that grew as they filled (twice the per-item cost of a fixed size).
                if (_measuredItems < _nextSizing) return;
                _nextSizing = _measuredItems * 2;
                double perItem = Math.Max(1.0, (double)_measuredTicks / _measuredItems);
                _autoChunk = (int)Math.Max(1, Math.Min(MaxAutoChunk, System.Diagnostics.Stopwatch.Frequency * TargetChunkMs / 1000.0 / perItem));
            }
        }

        private static bool IsInteger(object? v) => v is int || v is long;

        /// <summary>
        /// A worker died. A ready worker that was running an item (its progress word says which) is blamed on that
        /// item: it is reported. One that died between items (killed while it waited for its next chunk, or as it read
        /// one) is blamed on none; but an item that <see cref="MaxDeathsBeforeBegun"/> workers died holding, before they
        /// began it, is reported (a chunk that no worker can read, one whose handles are gone, would go round for ever).
        /// One that died before it was ready (while starting) is not blamed on an item; after a few such deaths in a
        /// row the call gives up. The other items it had go back to the front of the queue, in order (the ones it had
        /// finished too: their results died with it), and a new worker takes its slot. The reported item says whether
        /// one did: it is completed only once the replacement's start has returned (its process runs) or failed (no
        /// descriptor left: the call then ends with that error, after the item's).
        /// </summary>
        private void OnDied(PoolWorkerProcess w)
        {
            w.Dead = true;
            string reason = w.DeathReason();
            PoolResult? died = null;
            if (w.Ready && w.InFlight.Count > 0)
            {
                var blamed = Blamed(w, out bool begun);
                if (blamed != null)
                {
                    w.InFlight.Remove(blamed);
                    died = new PoolResult(blamed.Value) { WorkerDied = reason, DiedBeforeBegun = !begun, WorkerPid = w.Pid };
                }
            }
            else if (!w.Ready && ++_startFailures >= MaxStartFailures)
                throw new PoolInitializationException("Pool workers cannot start: " + reason);
            for (var node = w.InFlight.Last; node != null; node = node.Previous) _pending.AddFirst(node.Value);
            w.InFlight.Clear();
            bool replaced;
            try { replaced = _pool.Replace(w.Slot); }
            catch (Exception e) when (died != null)
            {
                died.NoReplacement = e.Message;
                Complete(died);
                throw;
            }
            if (died != null)
            {
                if (replaced) died.ReplacementPid = _pool.Worker(w.Slot).Pid;
                else died.NoReplacement = $"the pool {_pool.Id} was removed";
                Complete(died);
            }
            if (!replaced) throw _pool.Removed();   // removed meanwhile (Remove-IpcPool from another runspace)
        }

        /// <summary>The item of dead worker W that is reported (BEGUN: it was running it), or null (see <see cref="OnDied"/>).</summary>
        private static LinkedListNode<PoolTask>? Blamed(PoolWorkerProcess w, out bool begun)
        {
            // A worker runs its items in the order sent: those before the one its word names were finished, those
            // after it not begun. An item it finished and was answered for is no longer in flight.
            begun = PoolProgress.IsRunning(w.Progress(), out long index);
            var named = w.InFlight.First;
            while (named != null && named.Value.Index != index) named = named.Next;
            if (begun && named != null) return named;
            begun = false;
            // The first item it had not begun; or the one it finished last, if its result had not come: a worker that
            // dies as that result goes (its encoding ended it: a getter, memory) would otherwise run it on new workers
            // for ever, blaming none.
            var first = named ?? w.InFlight.First;
            for (var n = first; n != null; n = n.Next) n.Value.DiedBeforeBegun++;
            return first != null && first.Value.DiedBeforeBegun >= MaxDeathsBeforeBegun ? first : null;
        }

        private void Complete(PoolResult result)
        {
            Completed++;
            if (!_ordered) { _ready.Add(result); return; }
            _early[result.Task.Index] = result;
            while (_early.TryGetValue(_nextOut, out var next))
            {
                _early.Remove(_nextOut++);
                _ready.Add(next);
            }
        }

        /// <summary>All results are in.</summary>
        public void Finish() => _finished = true;

        /// <summary>
        /// Ends the call. Stopped early (Ctrl+C, an error), workers still busy with its items are replaced: a
        /// worker cannot be interrupted inside a user's script, and the next call must not wait for stale work.
        /// </summary>
        public void Dispose()
        {
            try
            {
                if (!_finished && !_pool.IsRemoved)
                {
                    for (int slot = 0; slot < _pool.Size; slot++)
                    {
                        var w = _pool.Worker(slot);
                        if (w.InFlight.Count > 0 || w.Dead || w.SendCut)
                        {
                            w.InFlight.Clear();
                            if (!_pool.Replace(slot)) break;   // removed meanwhile: its removal ends the workers
                        }
                    }
                }
            }
            catch (IpcException) { /* no replacement could start (no descriptor left): the next call replaces the dead */ }
            finally { _pool.Leave(); }
        }
    }

    internal static class PoolCallMessages
    {
        public static bool IsDone(object?[] m, int callId) =>
            m.Length >= 4 && m[0] is string kind && kind == "done" && m[1] is int id && id == callId;

        public static bool IsCallError(object?[] m, int callId) =>
            m.Length >= 3 && m[0] is string kind && kind == "callerror" && m[1] is int id && id == callId;
    }
}
