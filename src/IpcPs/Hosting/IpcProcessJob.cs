using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Text;
using System.Threading;
using IpcPs.Core.Platform;
using IpcPs.Hosting;

namespace IpcPs
{
    /// <summary>
    /// A child pwsh started by Start-IpcProcess, as a PowerShell job: Receive-Job, Wait-Job, Stop-Job and Remove-Job
    /// work on it. State follows the child: Completed when it ends with exit code 0, Failed on a terminating error, a
    /// non-zero exit code or a kill, Stopped after Stop-Job/Stop-IpcProcess.
    /// The job ends on the child's last frame (Z, carrying the exit code, sent once the script, its runspace's close
    /// and the detach of its objects are done), or, for a child that never sends it (killed, crashed), when the process
    /// exits. After a last frame the process is still ending (runtime shutdown): it is reaped in the background, and
    /// killed if it has not ended within <see cref="ExitGracePeriod"/>.
    /// </summary>
    public sealed class IpcProcessJob : Job
    {
        private readonly List<IpcObject> _retained;
        private readonly ManualResetEventSlim _ended = new ManualResetEventSlim(false);
        private readonly ManualResetEventSlim _released = new ManualResetEventSlim(false);   // handles closed, stdin closed
        private readonly TextHead _stderr = new TextHead(16384);   // the start of the child's stderr, for a failed job's reason
        private readonly object _stateGate = new object();   // orders record dispatch against the end of the job
        private Process? _process;
        private Thread? _stderrReader;
        private Thread? _stdoutReader;
        private Exception? _terminating;   // the child's terminating error, as the job's reason
        private Exception? _readFailure;   // a reader thread failed (not one frame: those are InvalidData records)
        private bool _finishedFrame;
        private volatile bool _lastFrame;   // the Z frame with the exit code arrived: the child's part is over
        private bool _final;                // the final state is set (under _stateGate)
        private int _endStarted;
        private Timer? _reaper;             // kills a child that has not ended ExitGracePeriod after its last frame
        private volatile bool _stopRequested;
        private volatile bool _exited;
        private readonly ManualResetEventSlim _processExited = new ManualResetEventSlim(false);   // set with _exited
        private long _start;                  // the child's start time (IProcessTable), 0 when it could not be read
        private JobRepository? _repository;   // the session's job table it was added to (AddTo)
        private int _raisingThread;           // the thread raising the final state change, 0 when none (under _repositoryGate)
        private bool _keptForRaise;           // put back in _repository while it was raised (under _repositoryGate)
        private readonly object _repositoryGate = new object();

        internal IpcProcessJob(string command, string? name, List<IpcObject> retained) : base(command, name)
        {
            _retained = retained;
            PSJobTypeName = "IpcProcessJob";
        }

        /// <summary>Adds the job to REPOSITORY (the session's Get-Job table), which it keeps for <see cref="Dispose(bool)"/>.</summary>
        internal void AddTo(JobRepository repository)
        {
            _repository = repository;
            repository.Add(this);
        }

        /// <summary>Process id of the child pwsh.</summary>
        public int Pid { get; private set; }

        /// <summary>The child's exit code once it has ended (<c>exit n</c> gives n); null while it runs.</summary>
        public int? ExitCode { get; private set; }

        /// <summary>
        /// True while the child runs: until its last frame has arrived (its script, and its runspace's close, are over;
        /// the process itself may take some milliseconds more to end) or, without one, until the process has exited.
        /// </summary>
        public bool IsAlive => _process != null && !_exited && !_lastFrame;

        /// <summary>
        /// How long the child's process may take to end after its last frame (runtime shutdown, exit handlers) before
        /// it is killed (SIGKILL). Default 10 s. The job has ended by then; this only bounds a process that hangs.
        /// </summary>
        public TimeSpan ExitGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0
            || Progress.Count > 0;

        public override string Location => "localhost";

        public override string StatusMessage => ExitCode is int code ? $"exit code {code}" : IsAlive ? $"pid {Pid}" : "";

        /// <summary>Waits until the job has ended: the child's last frame has arrived (or, without one, it has exited). False on timeout or cancellation.</summary>
        public bool WaitForExit(TimeSpan timeout, CancellationToken cancel)
        {
            try { return _ended.Wait(timeout, cancel); }
            catch (OperationCanceledException) { return false; }
        }

        /// <summary>True once the child has ended and its last record has arrived (what <see cref="WaitForExit"/> waits for).</summary>
        internal bool HasEnded => _ended.IsSet;

        /// <summary>Raised once, after the job has ended (<see cref="HasEnded"/> is true by then): Wait-IpcProcess -Any.</summary>
        internal event Action? Ended;

        /// <summary>How long Stop-Job waits after the polite stop (SIGTERM) before it kills the child. Default 5 s.</summary>
        public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

        public override void StopJob() => Stop(force: false, StopGracePeriod);

        /// <summary>
        /// Stops the child and what it started: SIGTERM, then SIGKILL once GRACE has passed (at once with FORCE). Returns
        /// when the job has ended. The programs the child started (its process tree) end with it: with the kill, or, when
        /// the child ends on the polite request, as soon as it has ended (docs/design.md, "Stopping ends the process tree").
        /// </summary>
        public void Stop(bool force, TimeSpan grace) => Stop(force, grace, CancellationToken.None);

        /// <summary>As <see cref="Stop(bool, TimeSpan)"/>; CANCEL (Ctrl+C) during the grace period kills the child at once.</summary>
        public void Stop(bool force, TimeSpan grace, CancellationToken cancel)
        {
            if (_process is null) return;
            lock (_stateGate)
            {
                // A job that has ended (its last frame came, or the process exited) is left as it is.
                if (_final || _ended.IsSet) return;
                _stopRequested = true;
                SetJobState(JobState.Stopping);
            }
            // Every signal goes through the pinned child: once it has been reaped its pid may name another process, and
            // then the signal reaches nobody (a check of _exited first would leave the moment between reap and flag).
            // The tree walks hold each process they signal, so a pid reused meanwhile is not signalled either.
            using (var child = Platforms.Current.Processes.Pin(_process, _start))
            {
                if (!force)
                {
                    // What the child has started, found before the request: once the child has ended, its children are no
                    // longer linked to it. They are ended after it, and with what they have started since.
                    using var started = _exited ? null : child.FindDescendants();
                    if (!_exited && !child.RequestStop()) RequestStopThroughChannel();
                    bool exited = false;
                    try { exited = _processExited.Wait(grace, cancel); }
                    catch (OperationCanceledException) { /* Ctrl+C: no more waiting, kill it */ }
                    if (!exited && !_exited) child.KillTree();
                    started?.Kill();
                }
                else if (!_exited) child.KillTree();
            }
            _ended.Wait();
        }

        /// <summary>
        /// A -Detached child: returns once it is out of this process's tree (<see cref="IProcessTable.HasLeftTree"/>), so
        /// that no stop of an ancestor's job ends it (docs/design.md, "Stopping ends the process tree"). Windows marks it
        /// from here at once; on Linux it leaves by itself: from its start when it was started through setsid(1), else
        /// as it reads its request (a ready spare: milliseconds). Waited for at most 10 s (a cold child without setsid(1)
        /// boots first); never for a child that has ended.
        /// </summary>
        internal void WaitOutOfTree()
        {
            var processes = Platforms.Current.Processes;
            if (processes.PutOutOfTree(Pid, _start)) return;
            var limit = Stopwatch.StartNew();
            while (!_exited && !processes.HasLeftTree(Pid, _start) && limit.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(1);
        }

        /// <summary>Where there is no SIGTERM (Windows): asks the child to stop through its stdin (ChildProtocol.StopRequest).</summary>
        private void RequestStopThroughChannel()
        {
            try
            {
                lock (_stdinGate)
                {
                    _process?.StandardInput.BaseStream.WriteByte(Hosting.ChildProtocol.StopRequest);
                    _process?.StandardInput.BaseStream.Flush();
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException || e is InvalidOperationException) { /* it has ended */ }
        }

        private readonly object _stdinGate = new object();

        /// <summary>Starts a new child pwsh (a cold start) and sends it REQUEST; OUTLIVES: a -Detached one (<see cref="ChildLauncher.Start"/>).</summary>
        internal void Start(ProcessStartInfo startInfo, string request, bool outlives = false) =>
            Start(ChildLauncher.Start(startInfo, "child pwsh", outlives), request, null, null);

        /// <summary>
        /// Hands REQUEST to PROCESS, a child already started: a cold one, or a warm spare whose first stdout line
        /// (FIRSTLINE, its ready frame) was being read by <see cref="Hosting.SpareChildren"/> from OUTPUT, which reads
        /// on after it. A spare that is ready
        /// reads its request at once and writes nothing before it has all of it: the request goes first and the
        /// reader threads start while the child works (starting three threads took 0.5–7 ms of a warm start on 2
        /// CPUs). Any other child may write before it reads (a cold one boots first; a large request may not fit in
        /// the pipe): its readers start first. A start that fails half-way (no descriptor left for a thread) ends the
        /// child: it may have its request already, and nobody would read it or wait for it.
        /// </summary>
        internal void Start(Process process, string request, ChildOutputReader? output, System.Threading.Tasks.Task<string?>? firstLine)
        {
            try { Begin(process, request, output, firstLine); }
            catch
            {
                ChildLauncher.Abandon(process);
                throw;
            }
        }

        private void Begin(Process process, string request, ChildOutputReader? output, System.Threading.Tasks.Task<string?>? firstLine)
        {
            var records = output ?? new ChildOutputReader(process.StandardOutput, frames: true);
            _process = process;
            Pid = process.Id;
            _start = Platforms.Current.Processes.Find(Pid)?.Start ?? 0;   // for the process-tree walks of a stop
            SetJobState(JobState.Running);
            bool readsAtOnce = firstLine != null && firstLine.Status == System.Threading.Tasks.TaskStatus.RanToCompletion
                && Hosting.ChildProtocol.IsReadyFrame(firstLine.Result);
            if (readsAtOnce) Send(process, request);
            var errors = new ChildOutputReader(process.StandardError, frames: false);
            _stderrReader = new Thread(() => ReadGuarded(errors, () => ReadErrors(errors))) { IsBackground = true, Name = $"IpcPs child {Pid} stderr" };
            Core.Platform.PlatformErrors.StartThread(_stderrReader);
            _stdoutReader = new Thread(() => ReadGuarded(records, () => ReadRecords(records, firstLine))) { IsBackground = true, Name = $"IpcPs child {Pid} records" };
            Core.Platform.PlatformErrors.StartThread(_stdoutReader);
            Core.Platform.PlatformErrors.StartThread(new Thread(() => Guard(() => WatchExit(process))) { IsBackground = true, Name = $"IpcPs child {Pid} exit" });
            if (!readsAtOnce) Send(process, request);
        }

        /// <summary>Writes the request line; stdin stays open: the child exits when it closes.</summary>
        private static void Send(Process process, string request)
        {
            try
            {
                process.StandardInput.Write(request + "\n");
                process.StandardInput.Flush();
            }
            catch (System.IO.IOException) { /* the child died at once; the reader reports how */ }
        }

        private void ReadRecords(ChildOutputReader output, System.Threading.Tasks.Task<string?>? firstLine)
        {
            if (firstLine != null)
            {
                // The spare's reader read its first line; the rest follow on the same reader, after it.
                if (!(firstLine.GetAwaiter().GetResult() is string line)) return;
                lock (_stateGate) DispatchLine(line.ToCharArray(), 0, line.Length);
            }
            ChildOutputKind what;
            while ((what = output.Read()) != ChildOutputKind.End)
                if (!_ended.IsSet && Dispatch(output, what) is int exitCode)
                {
                    // The last frame: the job ends now; the process's end is watched by WatchExit.
                    _reaper = new Timer(_ => KillIfNotExited(), null, ExitGracePeriod, Timeout.InfiniteTimeSpan);
                    End(exitCode);
                }
        }

        /// <summary>
        /// Kills a child that sent its last frame but has not ended in time; never one already reaped (its pid may be
        /// another's: the kill goes through the pinned child). The child alone, not its tree: its script is over and
        /// nobody asked to stop it, so what it left running (a Start-Process without -Wait) stays, as when the child
        /// ends in time.
        /// </summary>
        private void KillIfNotExited()
        {
            try
            {
                if (_exited || !(_process is Process process)) return;
                using var child = Platforms.Current.Processes.Pin(process, _start);
                child.Kill();
            }
            catch (Exception) { /* it ended meanwhile */ }
        }

        /// <summary>
        /// Ends the job when the child exits — not when its stdout closes, which a grandchild that inherited the pipe
        /// may keep open for long after. Records already in the pipe get a moment to drain.
        /// </summary>
        private void WatchExit(Process process)
        {
            process.WaitForExit(int.MaxValue);
            int exitCode = process.ExitCode;
            _exited = true;
            _processExited.Set();
            _reaper?.Dispose();
            if (_lastFrame)
            {
                // The job ended on the last frame: release the process's pipes and its object now it is reaped.
                try { process.StandardInput.Close(); } catch (Exception) { /* closed already */ }
                _stdoutReader?.Join(TimeSpan.FromSeconds(2));
                _stderrReader?.Join(TimeSpan.FromSeconds(1));
                if (!_stdoutReader!.IsAlive && !_stderrReader!.IsAlive) process.Dispose();   // else a grandchild holds a pipe: Dispose of the job closes it
                return;
            }
            // The script's last records may still be in the pipe: drain them. A child that ended its script (Z/X)
            // gets 2 s; otherwise more, so a terminating error is not mistaken for a bare exit code.
            _stdoutReader?.Join(TimeSpan.FromSeconds(_finishedFrame || _terminating != null ? 2 : 10));
            _stderrReader?.Join(TimeSpan.FromSeconds(1));
            End(exitCode);
        }

        /// <summary>A background thread must never take the host process down.</summary>
        private void Guard(Action body)
        {
            try { body(); }
            catch (Exception e) when (!(e is ThreadAbortException))
            {
                try { Error.Add(new ErrorRecord(e, Hosting.ErrorRecords.ChildProcessFailed, ErrorCategory.NotSpecified, Pid)); }
                catch (Exception) { /* the job was disposed */ }
            }
        }

        /// <summary>
        /// Runs READ, a reader thread's loop. If it fails (the stream, or a bug: never one bad frame, which is an
        /// InvalidData record), the job must still end, and never hang: the rest of the stream is drained so the child
        /// never blocks on a full pipe (or, if even that fails, the child is killed), and the job ends Failed with
        /// this as its reason when the child exits (<see cref="WatchExit"/>).
        /// </summary>
        private void ReadGuarded(ChildOutputReader reader, Action read)
        {
            try { read(); }
            catch (Exception e) when (!(e is ThreadAbortException))
            {
                Interlocked.CompareExchange(ref _readFailure, e, null);
                try { while (reader.Read() != ChildOutputKind.End) { } }
                catch (Exception) { KillIfNotExited(); }
            }
        }

        /// <summary>Keeps the start of the child's stderr (16 Ki characters) for a failed job's reason; drops the rest.</summary>
        private void ReadErrors(ChildOutputReader errors)
        {
            ChildOutputKind what;
            while ((what = errors.Read()) != ChildOutputKind.End)
                _stderr.Append(errors.Buffer, errors.Start, errors.Length, lineEnd: what == ChildOutputKind.Line);
        }

        /// <summary>Adds what the reader found to its stream; the exit code if it was the last frame.</summary>
        private int? Dispatch(ChildOutputReader output, ChildOutputKind what)
        {
            lock (_stateGate)
            {
                switch (what)
                {
                    case ChildOutputKind.Piece: AddText(output.Buffer, output.Start, output.Length); return null;
                    case ChildOutputKind.TooLong:
                        Error.Add(InvalidFrame(new MessageFormatException(
                            $"The child process {Pid} wrote a frame longer than {ChildProtocol.MaxFrameLength:N0} characters ({output.Skipped:N0} or more); it was skipped: a child writes none."), null));
                        return null;
                    default: return DispatchLine(output.Buffer, output.Start, output.Length);
                }
            }
        }

        /// <summary>A line: text, or a frame, or text written without a line end and then a frame (<see cref="ChildProtocol.FrameStart"/>).</summary>
        private int? DispatchLine(char[] buffer, int start, int length)
        {
            int frame = ChildProtocol.FrameStart(buffer, start, length);
            if (frame < 0) { AddText(buffer, start, length); return null; }
            if (frame > start) AddText(buffer, start, frame - start);
            return DispatchFrame(buffer, frame, start + length - frame);
        }

        /// <summary>Console text, as output: in pieces of at most <see cref="ChildOutputReader.MaxTextLength"/> characters.</summary>
        private void AddText(char[] buffer, int start, int length)
        {
            do
            {
                int n = Math.Min(length, ChildOutputReader.MaxTextLength);
                if (n < length && char.IsHighSurrogate(buffer[start + n - 1])) n--;
                Output.Add(new PSObject(new string(buffer, start, n)));
                start += n;
                length -= n;
            }
            while (length > 0);
        }

        private int? DispatchFrame(char[] buffer, int start, int length)
        {
            char kind;
            object? payload, record;
            try
            {
                // Decoding and rebuilding the record both read what the child wrote: any failure is this frame's alone.
                ChildProtocol.Decode(buffer, start, length, out kind, out payload);
                record = kind switch
                {
                    'O' => PSObject.AsPSObject(payload ?? new object()),
                    'E' => ChildProtocol.RebuildError(payload, Pid),
                    'W' => new WarningRecord(payload?.ToString() ?? ""),
                    'V' => new VerboseRecord(payload?.ToString() ?? ""),
                    'D' => new DebugRecord(payload?.ToString() ?? ""),
                    'I' => ChildProtocol.RebuildInformation(payload),
                    'P' => ChildProtocol.RebuildProgress(payload),
                    'X' => ChildProtocol.RebuildReason(payload ?? "Unknown error."),
                    _ => payload,
                };
            }
            catch (Exception e) when (!(e is ThreadAbortException))
            {
                var invalid = e as MessageFormatException
                    ?? new MessageFormatException($"A record from the child process {Pid} cannot be read: {e.Message}", e);
                Error.Add(InvalidFrame(invalid, new string(buffer, start, Math.Min(length, 80))));
                return null;
            }
            switch (kind)
            {
                case 'O': Output.Add((PSObject)record!); break;
                case 'E': Error.Add((ErrorRecord)record!); break;
                case 'W': Warning.Add((WarningRecord)record!); break;
                case 'V': Verbose.Add((VerboseRecord)record!); break;
                case 'D': Debug.Add((DebugRecord)record!); break;
                case 'I': Information.Add((InformationRecord)record!); break;
                case 'P': Progress.Add((ProgressRecord)record!); break;
                case 'X': _terminating = (Exception)record!; break;
                case 'Z':
                    _finishedFrame = true;
                    // The last frame carries the exit code (an int; anything else: wait for the process's end).
                    if (payload is int code)
                    {
                        _lastFrame = true;
                        return code;
                    }
                    break;
                case 'R': break;   // the child is ready for its request (see ChildChannel.Connect)
            }
            return null;
        }

        /// <summary>The error record of a frame that is not one (InvalidData); TARGET: the start of it, never all of it.</summary>
        private static ErrorRecord InvalidFrame(Exception e, object? target) =>
            new ErrorRecord(e, Hosting.ErrorRecords.ChildProcessFailed, ErrorCategory.InvalidData, target);

        /// <summary>The job's end, once: on the last frame (the process still ending) or at the process's exit.</summary>
        private void End(int exitCode)
        {
            if (Interlocked.Exchange(ref _endStarted, 1) != 0) return;
            try
            {
                lock (_stateGate)
                {
                    ExitCode = exitCode;
                    // Stdin stays open until the process has exited (WatchExit closes it then): its end would tell a
                    // child still running its exit handlers that the parent has gone.
                    if (!_lastFrame) { try { _process?.StandardInput.Close(); } catch (Exception) { /* gone with the child */ } }
                    foreach (var handle in _retained)
                    {
                        try { handle.Close(); }
                        catch (Exception) { /* one handle failing to close must not keep the job from ending */ }
                    }
                    // Before the final state: Receive-Job -AutoRemoveJob disposes the job from the state change,
                    // and Dispose waits for this, not for _ended, which is set only once the state change returns.
                    _released.Set();
                    _final = true;
                    lock (_repositoryGate) _raisingThread = Environment.CurrentManagedThreadId;
                    try { SetFinalState(exitCode); }
                    catch (ObjectDisposedException) { /* Remove-Job -Force disposed the job while the child was ending */ }
                    finally { EndRaise(); }
                }
            }
            finally
            {
                _released.Set();
                _ended.Set();   // last: whoever waits sees the final state
                try { Ended?.Invoke(); } catch (Exception) { /* a waiter's handler must not end the reader thread */ }
            }
        }

        /// <summary>
        /// After the final state change has been raised (its handlers ran on this thread): a job kept in the session's
        /// table while it was raised (see <see cref="Dispose(bool)"/>) and not removed by a handler leaves it now.
        /// </summary>
        private void EndRaise()
        {
            lock (_repositoryGate)
            {
                _raisingThread = 0;
                if (!_keptForRaise) return;
                _keptForRaise = false;
                try { if (_repository!.GetJob(InstanceId) == this) _repository.Remove(this); }
                catch (ArgumentException) { /* removed meanwhile */ }
            }
        }

        /// <summary>
        /// Receive-Job -Wait -AutoRemoveJob removes a job twice when it ends between Receive-Job's subscription to its
        /// state changes and the write of the output it already had (PowerShell 7.6, every job type): once on the
        /// pipeline thread, which sees the final state, and again from the state-change handler, which waited for that
        /// write; the second removal fails ("cannot remove the job: it does not exist"). That handler runs inside this
        /// job's final state change (<see cref="End"/>). A job removed and disposed by another thread while that change
        /// is raised is put back in the table until the change returns, so a handler's removal finds it;
        /// <see cref="EndRaise"/> takes it out again if no handler did. A removal by a handler itself (on the raising
        /// thread: Receive-Job's usual one) is final.
        /// </summary>
        private void KeepForRaise()
        {
            lock (_repositoryGate)
            {
                if (_raisingThread == 0 || _raisingThread == Environment.CurrentManagedThreadId || _repository == null) return;
                try
                {
                    if (_repository.GetJob(InstanceId) != null) return;
                    _repository.Add(this);
                    _keptForRaise = true;
                }
                catch (ArgumentException) { /* added meanwhile */ }
            }
        }

        private void SetFinalState(int exitCode)
        {
            if (_stopRequested) { SetJobState(JobState.Stopped); return; }
            if (_terminating != null)
            {
                // The reason only (Receive-Job writes it, once): not also an error record, or it showed twice.
                Fail(_terminating);
                return;
            }
            if (_readFailure != null)
            {
                Fail(new RemoteException($"Reading the output of the child process {Pid} failed (what it wrote after that was dropped): {_readFailure.Message}", _readFailure));
                return;
            }
            if (exitCode == 0) { SetJobState(JobState.Completed); return; }
            string reason = exitCode > 128 && exitCode < 160 && !_finishedFrame && !Platforms.Current.IsWindows
                ? $"The child process {Pid} was ended by signal {exitCode - 128}{(exitCode == 137 ? " (SIGKILL)" : exitCode == 143 ? " (SIGTERM)" : "")}."
                : exitCode == -1 && Platforms.Current.IsWindows
                ? $"The child process {Pid} was terminated (TerminateProcess: Stop-Process -Force, taskkill /F; exit code -1)."
                : $"The child process {Pid} exited with code {exitCode}.";
            string stderr = _stderr.ToString().Trim();
            if (stderr.Length > 0) reason += " Its error output: " + stderr;
            Fail(new RemoteException(reason));   // written once, by Receive-Job, as the job's reason
        }

        /// <summary>
        /// Failed, with the reason in JobStateInfo.Reason. The (JobState, Exception) overload is internal in the
        /// PowerShell Standard reference, but public in every engine that loads us; reach it by reflection.
        /// </summary>
        private void Fail(Exception reason)
        {
            var withReason = typeof(Job).GetMethod("SetJobState", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public,
                null, new[] { typeof(JobState), typeof(Exception) }, null);
            if (withReason != null) withReason.Invoke(this, new object[] { JobState.Failed, reason });
            else SetJobState(JobState.Failed);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                KeepForRaise();
                // Remove-Job -Force on a running child: a short polite stop first, so it detaches what it holds;
                // and in any case the job's own end (handles closed) before the process object goes.
                if (IsAlive) Stop(force: false, TimeSpan.FromSeconds(2));
                if (_process != null) _released.Wait(TimeSpan.FromSeconds(15));
                // A process still ending after its last frame is disposed by WatchExit once reaped.
                if (!_lastFrame || _exited) _process?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
