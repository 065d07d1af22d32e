using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Hosting
{
    /// <summary>One item of a pool's work, as the parent tracks it: its place in the input and the item itself.</summary>
    internal sealed class PoolTask
    {
        public PoolTask(long index, object? item, object? wire)
        {
            Index = index;
            Item = item;
            Wire = wire;
        }

        public long Index { get; }

        /// <summary>The item as given (it names the item in errors).</summary>
        public object? Item { get; }

        /// <summary>What a chunk sends for it: the item itself if plain, else its bytes as it was when given (see <see cref="PoolResults.ToWire"/>).</summary>
        public object? Wire { get; }

        /// <summary>Workers that died holding this item, running none (before they began it, or before its result went) (see PoolCall.OnDied).</summary>
        public int DiedBeforeBegun { get; set; }
    }

    /// <summary>How <see cref="PoolWorkerProcess.TrySendNow"/> went: the message went; or not, the worker cannot take it now; or it is gone.</summary>
    internal enum PoolSend
    {
        Sent,
        NoRoom,
        Gone,
    }

    /// <summary>What a worker's reader thread saw: a message, or (Message null) that the worker is gone.</summary>
    internal sealed class PoolEvent
    {
        public PoolEvent(PoolWorkerProcess worker, object?[]? message)
        {
            Worker = worker;
            Message = message;
        }

        public PoolWorkerProcess Worker { get; }
        public object?[]? Message { get; }
    }

    /// <summary>
    /// The parent's side of one pool worker: the child pwsh, the pipe end that talks to it, and a reader thread that
    /// turns every message, and the worker's death, into a <see cref="PoolEvent"/> for whoever drives the pool.
    /// Death is seen through the pipe: the worker held the other end, so a receive finds no holder once it died,
    /// however it died (docs/design.md, "Pipe": liveness checked every 200 ms while waiting).
    /// </summary>
    internal sealed class PoolWorkerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly IpcConnection _pipe;      // end 0, this process's
        private readonly IpcConnection _handedOver; // end 1, handed to the worker and closed here at once
        private readonly SharedMemory _progress;    // the worker's progress word (PoolProgress)
        private readonly TextHead _stderr = new TextHead(8192);
        private System.Threading.Tasks.Task? _errors;   // reads stderr to its end
        private int _disposed;
        private readonly ManualResetEventSlim _released = new ManualResetEventSlim();   // set once AwaitExit has ended

        /// <summary>
        /// The most messages of this worker that its reader holds, decoded, for the pool's calls to take: then it takes
        /// nothing more from the pipe until a call has taken one (<see cref="Taken"/>), and the worker's sends wait for
        /// room, as a pipe's writer waits for its reader. Every message is the worker's: one whose code keeps sending
        /// (a thread it left running) made the session queue all it sent, between calls without a bound. A worker of
        /// the pool's own sends at most one message per item in flight, and a few more (ready, callerror).
        /// </summary>
        internal const int MaxPendingEvents = 256;
        private readonly SemaphoreSlim _pending = new SemaphoreSlim(MaxPendingEvents);
        private readonly CancellationTokenSource _stopReading = new CancellationTokenSource();   // AwaitExit: the reader waits for no room

        private PoolWorkerProcess(int slot, Process process, IpcConnection pipe, IpcConnection handedOver, SharedMemory progress)
        {
            _progress = progress;
            Slot = slot;
            _process = process;
            _pipe = pipe;
            _handedOver = handedOver;
            Pid = process.Id;
            _start = Platforms.Current.Processes.Find(Pid)?.Start ?? 0;
        }

        private readonly long _start;   // the worker's start time, for the process-tree walk of Kill (0: not known)

        public int Slot { get; }
        public int Pid { get; }

        /// <summary>True once the worker said it is ready (its initialization script ran).</summary>
        public bool Ready { get; set; }

        /// <summary>True once its death was handled, or a send to it failed: nothing more is sent to it.</summary>
        public bool Dead { get; set; }

        /// <summary>The call whose script the worker has now.</summary>
        public int CallId { get; set; } = -1;

        /// <summary>Items sent and not answered, oldest first: the worker runs them in this order.</summary>
        public LinkedList<PoolTask> InFlight { get; } = new LinkedList<PoolTask>();

        public static PoolWorkerProcess Start(int slot, string module, string folder, string? initializationScript, BlockingCollection<PoolEvent> events)
        {
            var ends = IpcConnection.CreatePipe();
            SharedMemory? progress = null;
            Process? process = null;
            try
            {
                progress = SharedMemory.Create(null, PoolProgress.Size);
                progress.WriteInt64(0, PoolProgress.None);
                // A warm spare if one fits (it becomes the worker when it reads its request); else a new pwsh.
                var spare = SpareChildren.Take(module, folder: folder);
                var child = process = spare?.Process ?? ChildLauncher.Start(ChildLauncher.StartInfo(module, folder, $"[IpcPs.Hosting.PoolWorker]::Run('{ends[0].Name}')"), "pool worker");
                // The worker holds end 1 from now on, even before it attaches, and this process no longer does: the
                // worker's death shows as the end closing.
                ends[1].HandOver(child.Id);
                ends[1].Close();
                if (spare != null)
                {
                    var request = new System.Collections.Hashtable
                    {
                        ["PoolPipe"] = ends[0].Name,
                        ["WorkingDirectory"] = folder,
                        ["Environment"] = Environment.GetEnvironmentVariables(),
                    };
                    try
                    {
                        child.StandardInput.Write(ChildProtocol.EncodeRequest(request, 2) + "\n");
                        child.StandardInput.Flush();   // stdin stays open: the worker exits when it closes
                    }
                    catch (System.IO.IOException) { /* the spare died: its pipe end shows it, the pool replaces it */ }
                }
                // Its first message: the initialization script and the manager keys it inherits (not on the command
                // line, which any local user can read).
                ends[0].SendNow(new object?[] { "start", initializationScript ?? "", ManagerKeys.ForChild(), progress.Name });
                var worker = new PoolWorkerProcess(slot, child, ends[0], ends[1], progress);
                // Drained: a worker that prints must not block. In blocks, not lines (BeginOutputReadLine and ReadLine
                // held a line of any length whole): stdout is dropped, the start of stderr kept. A spare's stdout
                // is read from its first line's reader, after it.
                worker._errors = ChildOutputReader.DrainAsync(child.StandardError, worker.KeepError);
                if (spare is null) _ = ChildOutputReader.DrainAsync(child.StandardOutput, null);
                else spare.FirstLine.ContinueWith(_ => ChildOutputReader.DrainAsync(child.StandardOutput, null), System.Threading.Tasks.TaskScheduler.Default);
                Core.Platform.PlatformErrors.StartThread(new Thread(() => worker.Read(events)) { IsBackground = true, Name = $"IpcPs pool worker {worker.Pid}" });
                return worker;
            }
            catch
            {
                // Started half-way (no descriptor left for the hand-over's record or a thread): a worker nobody reads or
                // waits for is never left running.
                if (process != null) ChildLauncher.Abandon(process);
                ends[0].Close();
                ends[1].Close();
                progress?.Close();
                throw;
            }
        }

        /// <summary>The worker's progress word (<see cref="PoolProgress"/>; None when unreadable).</summary>
        public long Progress()
        {
            try { return _progress.ReadInt64(0); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException) { return PoolProgress.None; }
        }

        /// <summary>How deep objects that are not plain values are serialized on the way to the worker.</summary>
        public int Depth
        {
            set => _pipe.SerializationDepth = value;
        }

        /// <summary>
        /// Sends a message that fits the worker's pipe's ring, waiting at most TIMEOUT for room (nothing of it goes
        /// otherwise); false when it did not go in time, or when the worker is gone (then <see cref="Dead"/>; its death
        /// arrives as an event).
        /// </summary>
        public bool TrySend(object?[] message, TimeSpan timeout)
        {
            try { return ((IMessageChannel)_pipe).TrySend(message, null, null, timeout, default); }
            catch (Exception e) when (e is ConnectionClosedException || e is ObjectDisposedException)
            {
                Dead = true;
                return false;
            }
        }

        /// <summary>
        /// A send to it was stopped: nothing of the message went, or a part of one too big for the ring in one piece
        /// (the pipe is then broken). Either way the call that stops replaces it.
        /// </summary>
        public bool SendCut { get; private set; }

        /// <summary>
        /// Sends a message of a call if the worker can take it now. A busy worker (or one not ready yet) reads its pipe
        /// only after its item: it gets a message that fits its pipe's ring if there is room for it now, never a larger
        /// one (that streams as the worker reads, and the call would wait, handing nothing to the other workers). A
        /// ready worker with nothing in flight is reading its pipe: it gets any message, waiting for room (or streaming
        /// as it reads) until CANCEL, which ends the wait, and the worker is then <see cref="SendCut"/>.
        /// NoRoom: nothing of it went, and <see cref="MayTake"/> says when to offer one again.
        /// </summary>
        public PoolSend TrySendNow(object?[] message, CancellationToken cancel)
        {
            try
            {
                bool sent = _pipe.TrySendWithoutWaiting(message, Ready && InFlight.Count == 0, cancel, out long frame);
                _offered = frame;
                return sent ? PoolSend.Sent : PoolSend.NoRoom;
            }
            catch (Exception e) when (e is ConnectionClosedException || e is ObjectDisposedException)
            {
                Dead = true;
                return PoolSend.Gone;
            }
            catch (OperationCanceledException)
            {
                SendCut = true;
                throw;
            }
        }

        /// <summary>
        /// False when the worker is busy (or not ready) and its pipe has no room now for a message as large as the
        /// last one offered to it (<see cref="TrySendNow"/>, sent or not): the next chunk is likely as large, and is
        /// not encoded only to find no room (a chunk larger than the ring was encoded again for every busy worker at
        /// every item and event). An idle ready worker may always be offered one.
        /// </summary>
        public bool MayTake
        {
            get
            {
                long last = _offered;
                if (last == 0 || (Ready && InFlight.Count == 0)) return true;
                try { return last <= _pipe.BufferSize && _pipe.SendRoom >= last; }
                catch (Exception e) when (e is IpcException || e is ObjectDisposedException) { return true; }   // the send says what is wrong
            }
        }

        private long _offered;   // the frame of the last message offered to the worker (0: none yet)

        /// <summary>Why the worker ended, once it has: its exit code or signal, and the last of its error output.</summary>
        public string DeathReason()
        {
            string how = "";
            if (_process.WaitForExit(2000))
            {
                int code = _process.ExitCode;
                how = code > 128 && code < 160 && !Core.Platform.Platforms.Current.IsWindows
                    ? $" (ended by signal {code - 128}{(code == 137 ? ", SIGKILL" : code == 143 ? ", SIGTERM" : "")})"
                    : $" (exit code {code})";
                _errors?.Wait(1000);   // what it wrote last, still in the pipe
            }
            string stderr = _stderr.ToString().Trim();
            return $"The pool worker process {Pid} died{how}." + (stderr.Length > 0 ? " Its error output: " + stderr : "");
        }

        /// <summary>
        /// Ends a worker still starting without killing it: its standard input closes, which a child reads as its
        /// parent gone (<see cref="ChildChannel"/>'s parent watch, or a spare's request that never comes): it exits
        /// through Environment.Exit, in the middle of its initialization script too, and leaves nothing behind (a
        /// killed runtime leaves its debugger pipes and diagnostics socket in the temp folder; on Windows a console
        /// program killed early in its start leaves its console host running: see SpareChildren's End). A worker reads
        /// no "quit" before it is ready. One still booting (before the module's import) exits once it has imported it.
        /// </summary>
        public void CloseInput()
        {
            Dead = true;
            try { _process.StandardInput.Close(); }
            catch (Exception e) when (e is System.IO.IOException || e is InvalidOperationException || e is ObjectDisposedException) { /* gone already */ }
        }

        /// <summary>
        /// Kills the worker and the programs it started (its process tree: a busy item's native programs end with it,
        /// as a stopped job's do); never a worker already reaped.
        /// </summary>
        public void Kill()
        {
            Dead = true;
            // Through the pinned worker: one reaped already (its pid may be another's) is not signalled.
            using var child = Platforms.Current.Processes.Pin(_process, _start);
            child.KillTree();
        }

        private void KeepError(char[] text, int length)
        {
            _stderr.Append(text, 0, length);
        }

        /// <summary>A call took a message event of this worker (not its death): its reader may take another (<see cref="MaxPendingEvents"/>).</summary>
        public void Taken() => _pending.Release();

        private void Read(BlockingCollection<PoolEvent> events)
        {
            while (true)
            {
                try { _pending.Wait(_stopReading.Token); }
                catch (OperationCanceledException) { return; }   // the pool let the worker go: nobody listens
                object? message;
                try { message = _pipe.RecvNow(); }
                catch (ObjectDisposedException) { return; }   // the pool closed this end: nobody listens
                catch (Exception) { break; }                   // ConnectionClosedException: the worker is gone (or its pipe broke)
                if (!(message is object?[] m) || m.Length == 0) { _pending.Release(); continue; }
                try { PoolResults.DecodeIn(m); }   // here, not on the session's pipeline thread
                catch (Exception) { break; }       // out of memory for what it sent: as if it had died (an exception here would end the session)
                if (!Post(events, new PoolEvent(this, m))) return;
            }
            Post(events, new PoolEvent(this, null));
        }

        private static bool Post(BlockingCollection<PoolEvent> events, PoolEvent e)
        {
            try
            {
                events.Add(e);
                return true;
            }
            catch (Exception ex) when (ex is ObjectDisposedException || ex is InvalidOperationException) { return false; }
        }

        /// <summary>
        /// Asks the worker to quit (a call to <see cref="AwaitExit"/> then waits for it), waiting at most WAIT for room
        /// in its pipe; true once asked, or when it is gone. Invariant: never waits beyond WAIT: a busy worker reads its
        /// pipe only after its item, so one whose ring is full behind an item that never ends makes no room, and a
        /// wait for ever never reached AwaitExit's kill. One asked quits cleanly once it reads it (its handles released,
        /// nothing of its runtime left in the temp folder); one not asked, or that does not quit, is killed at the grace's end.
        /// </summary>
        public bool RequestQuit(TimeSpan wait) => Dead || TrySend(new object?[] { "quit" }, wait) || Dead;

        /// <summary>
        /// Waits for the worker to end (killing it after GRACE) and releases its pipe. A second caller (the pool's
        /// removal while a call replaces the worker on another thread) waits for the first to finish: either returns
        /// only once the worker has ended.
        /// </summary>
        public void AwaitExit(TimeSpan grace)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                _released.Wait();
                return;
            }
            try
            {
                try
                {
                    if (!_process.WaitForExit((int)grace.TotalMilliseconds))
                    {
                        Kill();
                        _process.WaitForExit(10000);
                    }
                }
                catch (InvalidOperationException) { /* never started */ }
                _stopReading.Cancel();   // a reader holding its bound of messages ends: its worker is gone
                _pipe.Close();
                _handedOver.Close();
                _progress.Close();
                _process.Dispose();
            }
            finally { _released.Set(); }
        }

        public void Dispose()
        {
            var clock = Stopwatch.StartNew();
            RequestQuit(IpcPool.QuitGrace);
            AwaitExit(IpcPool.Left(clock));
        }
    }
}
