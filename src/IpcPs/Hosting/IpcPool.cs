using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using IpcPs.Hosting;

namespace IpcPs
{
    /// <summary>
    /// A pool of warm worker processes (New-IpcPool): child pwsh processes with IpcPs loaded, each waiting on its own
    /// pipe for items of Invoke-IpcPool. One call runs on a pool at a time; a worker that dies is replaced. Every pool
    /// of this process is listed by <see cref="All"/> (Get-IpcPool) until it is removed, so one whose variable was
    /// lost (made inside Measure-Command, a function…) can still be found and removed.
    /// </summary>
    public sealed class IpcPool : IDisposable
    {
        private static readonly ConcurrentDictionary<IpcPool, byte> Live = new ConcurrentDictionary<IpcPool, byte>();
        private static int _lastId;

        private readonly string _module;
        private readonly string _folder;
        private readonly string? _initializationScript;
        private readonly PoolWorkerProcess[] _workers;
        private int _busy;
        private int _nextCall;
        private int _removed;

        /// <summary>
        /// Held to mark the pool removed and to store a new worker. Invariant: no worker is stored once the pool is
        /// removed, so <see cref="Dispose(bool)"/> ends every worker the pool ever had (a replacement started by a call
        /// running on another thread could otherwise outlive the pool).
        /// </summary>
        private readonly object _gate = new object();

        private IpcPool(int size, string module, string folder, string? initializationScript)
        {
            _module = module;
            _folder = folder;
            _initializationScript = initializationScript;
            _workers = new PoolWorkerProcess[size];
            Id = Interlocked.Increment(ref _lastId);
            Created = DateTime.Now;
        }

        /// <summary>The pools of this process that are not removed, oldest first.</summary>
        public static IpcPool[] All => Live.Keys.OrderBy(p => p.Id).ToArray();

        /// <summary>The live pools with IDS, in that order; NOTFOUND is called for each id no pool of this process has.</summary>
        internal static System.Collections.Generic.IEnumerable<IpcPool> WithIds(int[] ids, Action<ErrorRecord> notFound)
        {
            var pools = All;
            foreach (int id in ids)
            {
                var pool = pools.FirstOrDefault(p => p.Id == id);
                if (pool != null) yield return pool;
                else notFound(new ErrorRecord(new ArgumentException($"This session has no pool with id {id}."),
                    Hosting.ErrorRecords.IpcObjectNotFound, ErrorCategory.ObjectNotFound, id));
            }
        }

        /// <summary>A number for this pool, unique in this process (Get-IpcPool -Id).</summary>
        public int Id { get; }

        /// <summary>When the pool was made (local time).</summary>
        public DateTime Created { get; }

        /// <summary>Workers running an item now.</summary>
        public int Busy => IsRemoved ? 0 : _workers.Count(w => w != null && w.InFlight.Count > 0);

        /// <summary>Idle, Running (a call is using it) or Removed.</summary>
        public string State => IsRemoved ? "Removed" : Volatile.Read(ref _busy) != 0 ? "Running" : "Idle";

        /// <summary>How many workers the pool keeps.</summary>
        public int Size => _workers.Length;

        /// <summary>The process ids of the workers now.</summary>
        public int[] Pids => _workers.Select(w => w?.Pid ?? 0).ToArray();

        /// <summary>Workers started to replace ones that died (or were stopped with an item in hand).</summary>
        public int Replaced { get; private set; }

        public bool IsRemoved => Volatile.Read(ref _removed) != 0;

        /// <summary>Messages from every worker, in arrival order; drained by whoever drives the pool. Completed (no more
        /// added, a waiting taker wakes) once the pool is removed.</summary>
        internal BlockingCollection<PoolEvent> Events { get; } = new BlockingCollection<PoolEvent>();

        internal PoolWorkerProcess Worker(int slot) => _workers[slot];

        internal static IpcPool Start(int size, string module, string folder, string? initializationScript)
        {
            var pool = new IpcPool(size, module, folder, initializationScript);
            Live[pool] = 0;
            try
            {
                for (int i = 0; i < size; i++) pool._workers[i] = PoolWorkerProcess.Start(i, module, folder, initializationScript, pool.Events);
            }
            catch
            {
                pool.Dispose(atOnce: true);   // nobody has it: the workers started so far end now
                throw;
            }
            return pool;
        }

        /// <summary>
        /// Starts a new worker in SLOT (the old one is killed if it still runs); false, starting none, once the pool
        /// is removed (<see cref="Removed"/>).
        /// </summary>
        internal bool Replace(int slot)
        {
            var old = _workers[slot];
            // Waited for, not reaped in the background: a killed worker still counts as a holder of the handles its
            // item had opened until it has gone, and a caller closing those handles right after a stop would then
            // leave them to a holder about to die (orphaned segments). SIGKILL makes this a few milliseconds.
            old.AwaitExit(TimeSpan.Zero);
            old.Dead = true;   // gone: when no replacement can start now (no descriptor left), the next call's start replaces it
            lock (_gate)
            {
                if (IsRemoved) return false;
                Replaced++;
                _workers[slot] = PoolWorkerProcess.Start(slot, _module, _folder, _initializationScript, Events);
                return true;
            }
        }

        /// <summary>The error of a call on a removed pool (IpcObjectClosed).</summary>
        internal ObjectDisposedException Removed() => new ObjectDisposedException(null, $"The pool {Id} was removed.");

        /// <summary>Waits until every worker is ready. A worker whose start failed throws, with its reason.</summary>
        internal void WaitReady(TimeSpan timeout, CancellationToken cancel)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (_workers.Any(w => !w.Ready))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !TryTakeEvent(out var e, (int)Math.Min(int.MaxValue, left.TotalMilliseconds), cancel))
                    throw new TimeoutException($"The pool's workers were not ready within {timeout.TotalSeconds:0} s.");
                if (e.Worker != _workers[e.Worker.Slot]) continue;
                if (e.Message is null) throw new PoolInitializationException("A pool worker did not start: " + e.Worker.DeathReason());
                if (IsReady(e)) e.Worker.Ready = true;
            }
        }

        /// <summary>
        /// The next event of the workers (waiting at most MILLISECONDS, -1: no limit), taken: its worker's reader may
        /// take another message (<see cref="PoolWorkerProcess.MaxPendingEvents"/>). Every take of <see cref="Events"/>
        /// goes through here.
        /// </summary>
        internal bool TryTakeEvent(out PoolEvent e, int milliseconds, CancellationToken cancel)
        {
            if (!Events.TryTake(out e!, milliseconds, cancel)) return false;
            if (e.Message != null) e.Worker.Taken();
            return true;
        }

        /// <summary>A "ready" message; its initialization error, if it has one, is thrown.</summary>
        internal static bool IsReady(PoolEvent e)
        {
            if (!(e.Message![0] is string kind) || kind != "ready") return false;
            if (e.Message.Length > 2 && e.Message[2] != null)
            {
                var error = ChildProtocol.RebuildError(e.Message[2], e.Worker.Pid);
                throw new PoolInitializationException(error.ErrorDetails?.Message ?? error.Exception.Message, error);
            }
            return true;
        }

        /// <summary>Takes the pool for one call; false if another call is running on it.</summary>
        internal bool TryEnter(out int callId)
        {
            callId = Interlocked.Increment(ref _nextCall);
            if (IsRemoved) throw Removed();
            return Interlocked.CompareExchange(ref _busy, 1, 0) == 0;
        }

        internal void Leave() => Volatile.Write(ref _busy, 0);

        public override string ToString() => $"IpcPool({Id}, size {Size}, {State.ToLowerInvariant()})";

        /// <summary>
        /// Asks every worker to quit, waits at most <see cref="QuitGrace"/> for them all, kills those still running, and
        /// releases the pipes.
        /// </summary>
        public void Dispose() => Dispose(atOnce: false);

        /// <summary>How long a removal waits for its workers, for all of them together (not for each in turn).</summary>
        internal static readonly TimeSpan QuitGrace = TimeSpan.FromSeconds(3);

        /// <summary>
        /// As <see cref="Dispose()"/>. ATONCE: a pool nobody will use again (made for a call, at its end; or whose start
        /// failed or was stopped): workers with items in hand are killed rather than asked (a worker cannot be
        /// interrupted inside a user's script), and workers still starting, which read no "quit" before they are
        /// ready (their initialization script may run for minutes), are told to end by their input's end
        /// (<see cref="PoolWorkerProcess.CloseInput"/>): either would otherwise only end after the grace.
        /// </summary>
        internal void Dispose(bool atOnce)
        {
            lock (_gate)
            {
                if (IsRemoved) return;
                Volatile.Write(ref _removed, 1);
            }
            Live.TryRemove(this, out _);
            // Completed, never disposed: a call running on another thread may be waiting for an event; it wakes now,
            // sees the pool removed and ends (IpcObjectClosed). Events the workers send from now on are dropped.
            Events.CompleteAdding();
            if (atOnce)
            {
                foreach (var w in _workers)
                {
                    if (w is null) continue;
                    if (!w.Ready) w.CloseInput();   // it has begun no item, even if some were sent to it
                    else if (w.InFlight.Count > 0) w.Kill();
                }
            }
            // One grace for all: the workers end side by side, so each is waited for only what is left of it (it was
            // 3 s for each in turn: 18 s for six workers that do not quit). "quit" waits for room in a worker's pipe
            // only within it: first it goes to every worker whose pipe has room now; then to the others (a busy worker
            // whose ring is full, read only after its item, perhaps never) as room comes, till the grace ends: each on a
            // thread of its own, so that one that never makes room does not use up the grace of the others.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var asking = _workers.Where(x => x != null && !x.RequestQuit(TimeSpan.Zero))
                .Select(w => new Thread(() => w.RequestQuit(Left(clock))) { IsBackground = true, Name = "IpcPs pool quit" }).ToList();
            var started = new System.Collections.Generic.List<Thread>();
            foreach (var t in asking)
            {
                try { t.Start(); started.Add(t); }
                catch (OutOfMemoryException) { /* no thread (no descriptor left): that worker is killed at the grace's end */ }
            }
            foreach (var t in started) t.Join();
            foreach (var w in _workers) w?.AwaitExit(Left(clock));
        }

        internal static TimeSpan Left(System.Diagnostics.Stopwatch clock) =>
            clock.Elapsed < QuitGrace ? QuitGrace - clock.Elapsed : TimeSpan.Zero;
    }

    /// <summary>A worker could not receive the call's arguments or $using: values (ERROR, the worker's): the call cannot run.</summary>
    public sealed class PoolCallValuesException : InvalidOperationException
    {
        public PoolCallValuesException(System.Management.Automation.ErrorRecord error, int workerPid) : base(error.Exception.Message)
        {
            Error = error;
            WorkerPid = workerPid;
        }

        public System.Management.Automation.ErrorRecord Error { get; }

        /// <summary>The worker that said so.</summary>
        public int WorkerPid { get; }
    }

    /// <summary>Pool workers could not start, or their initialization script failed (then with the worker's error).</summary>
    public sealed class PoolInitializationException : InvalidOperationException
    {
        public PoolInitializationException(string message, System.Management.Automation.ErrorRecord? error = null) : base(message) => Error = error;

        public System.Management.Automation.ErrorRecord? Error { get; }
    }
}
