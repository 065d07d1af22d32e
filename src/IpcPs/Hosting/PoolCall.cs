using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;

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

        public int WorkerPid { get; set; }
    }

    /// <summary>
    /// One Invoke-IpcPool call on a pool: hands items to workers (at most <see cref="Prefetch"/> waiting per worker,
    /// so a worker never idles for a round trip), gathers their results, in input order with ORDERED, and replaces
    /// a worker that dies: the item it was running is reported, the items queued behind it go to other workers.
    /// Everything runs on the caller's thread, except the workers' reader threads, which only post events.
    /// </summary>
    internal sealed class PoolCall : IDisposable
    {
        /// <summary>Items sent to one worker ahead of its answers.</summary>
        public const int Prefetch = 4;

        /// <summary>A worker that dies this many times in a row before it is ready means workers cannot start.</summary>
        private const int MaxStartFailures = 3;

        private readonly IpcPool _pool;
        private readonly int _callId;
        private readonly object?[] _callMessage;
        private readonly bool _ordered;
        private readonly int _depth;
        private readonly LinkedList<PoolTask> _pending = new LinkedList<PoolTask>();
        private readonly SortedDictionary<long, PoolResult> _early = new SortedDictionary<long, PoolResult>();
        private readonly List<PoolResult> _ready = new List<PoolResult>();
        private long _nextOut;
        private int _startFailures;
        private bool _finished;

        public PoolCall(IpcPool pool, string script, object?[] arguments, Hashtable usingValues, int depth, bool ordered)
        {
            _pool = pool;
            if (!pool.TryEnter(out _callId))
                throw new InvalidOperationException("The pool is running another Invoke-IpcPool call; one call at a time can use a pool.");
            _callMessage = new object?[] { "call", _callId, script, arguments, usingValues, depth, ManagerKeys.ForChild() };
            _ordered = ordered;
            _depth = depth;
        }

        public long Submitted { get; private set; }
        public long Completed { get; private set; }

        /// <summary>Queues ITEM; returns the results ready now (waiting for some only while too many are queued).</summary>
        public List<PoolResult> Add(object? item, CancellationToken cancel)
        {
            _pending.AddLast(new PoolTask(Submitted++, item));
            Dispatch();
            while (_pending.Count > _pool.Size * Prefetch) Handle(Timeout.InfiniteTimeSpan, cancel);
            while (Handle(TimeSpan.Zero, cancel)) { }
            return Take();
        }

        /// <summary>Waits up to TIMEOUT for more results; returns those ready. <see cref="Done"/> says when all are in.</summary>
        public List<PoolResult> Next(TimeSpan timeout, CancellationToken cancel)
        {
            if (!Done && Handle(timeout, cancel)) while (Handle(TimeSpan.Zero, cancel)) { }
            return Take();
        }

        public bool Done => Completed == Submitted;

        private List<PoolResult> Take()
        {
            var taken = new List<PoolResult>(_ready);
            _ready.Clear();
            return taken;
        }

        /// <summary>Sends queued items to every worker that has room, the call's script first if it lacks it.</summary>
        private void Dispatch()
        {
            for (int slot = 0; slot < _pool.Size && _pending.Count > 0; slot++)
            {
                var w = _pool.Worker(slot);
                while (!w.Dead && w.InFlight.Count < Prefetch && _pending.Count > 0)
                {
                    if (w.CallId != _callId)
                    {
                        w.Depth = _depth;
                        if (!w.TrySend(_callMessage)) break;
                        w.CallId = _callId;
                    }
                    var task = _pending.First!.Value;
                    _pending.RemoveFirst();
                    bool sent;
                    try { sent = w.TrySend(new object?[] { "item", _callId, task.Index, task.Item }); }
                    catch (Exception e) when (!(e is ThreadAbortException))
                    {
                        // The item cannot be encoded: it fails alone.
                        Complete(new PoolResult(task) { Terminating = ChildProtocol.DescribeError(ErrorRecords.From(e, task.Item)) });
                        continue;
                    }
                    if (sent) w.InFlight.AddLast(task);
                    else _pending.AddFirst(task);
                }
            }
        }

        /// <summary>Handles one event, waiting at most TIMEOUT for it. False if none came.</summary>
        private bool Handle(TimeSpan timeout, CancellationToken cancel)
        {
            if (!_pool.Events.TryTake(out var e, timeout == Timeout.InfiniteTimeSpan ? -1 : (int)timeout.TotalMilliseconds, cancel)) return false;
            var w = e.Worker;
            if (w != _pool.Worker(w.Slot)) return true;   // from a worker already replaced
            if (e.Message is null) OnDied(w);
            else if (PoolCallMessages.IsDone(e.Message, _callId)) OnDone(w, e.Message);
            else if (IpcPool.IsReady(e)) { w.Ready = true; _startFailures = 0; }
            Dispatch();
            return true;
        }

        private void OnDone(PoolWorkerProcess w, object?[] m)
        {
            long index = Convert.ToInt64(m[2]);
            var node = w.InFlight.First;
            while (node != null && node.Value.Index != index) node = node.Next;
            if (node is null) return;   // not ours (cannot happen: a worker answers in order)
            w.InFlight.Remove(node);
            Complete(new PoolResult(node.Value)
            {
                Output = m[3] as object?[] ?? Array.Empty<object?>(),
                Records = m[4] as object?[] ?? Array.Empty<object?>(),
                Terminating = m[5] as Hashtable,
                WorkerPid = w.Pid,
            });
        }

        /// <summary>
        /// A worker died. A ready worker was running its oldest item: that item is reported. One that died before it
        /// was ready (while starting) is not blamed on an item; after a few such deaths in a row the call gives up.
        /// The other items it had go back to the front of the queue, and a new worker takes its slot.
        /// </summary>
        private void OnDied(PoolWorkerProcess w)
        {
            w.Dead = true;
            string reason = w.DeathReason();
            if (w.Ready && w.InFlight.Count > 0)
            {
                var running = w.InFlight.First!.Value;
                w.InFlight.RemoveFirst();
                Complete(new PoolResult(running) { WorkerDied = reason, WorkerPid = w.Pid });
            }
            else if (!w.Ready && ++_startFailures >= MaxStartFailures)
                throw new PoolInitializationException("Pool workers cannot start: " + reason);
            for (var node = w.InFlight.Last; node != null; node = node.Previous) _pending.AddFirst(node.Value);
            w.InFlight.Clear();
            _pool.Replace(w.Slot);
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
            if (!_finished && !_pool.IsRemoved)
            {
                for (int slot = 0; slot < _pool.Size; slot++)
                {
                    var w = _pool.Worker(slot);
                    if (w.InFlight.Count > 0 || w.Dead)
                    {
                        w.InFlight.Clear();
                        _pool.Replace(slot);
                    }
                }
            }
            _pool.Leave();
        }
    }

    internal static class PoolCallMessages
    {
        public static bool IsDone(object?[] m, int callId) =>
            m.Length >= 6 && m[0] is string kind && kind == "done" && m[1] is int id && id == callId;
    }
}
