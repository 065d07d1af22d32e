using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The child's end of <see cref="ChildProtocol"/>: reads the request, re-attaches the handles in it, runs the
    /// script in a runspace of its own (<see cref="ChildRunspace"/>), sends every record of every stream as it is
    /// written, and exits the process when the parent's end of stdin closes (unless the child is detached).
    /// Used by the bootstrap script that Start-IpcProcess runs (see <see cref="ChildLauncher"/>).
    /// </summary>
    public sealed class ChildChannel
    {
        private readonly Stream _out;
        private readonly object _writeGate = new object();
        private static readonly bool IsWindows = System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows);
        private readonly int _depth;
        private readonly ChildRunspace? _runspace;
        private readonly Exception? _openError;
        private volatile bool _parentGone;

        private ChildChannel(Hashtable request, Stream output, ChildRunspace? runspace, Exception? openError)
        {
            _out = output;
            _runspace = runspace;
            _openError = openError;
            ManagerKeys.Adopt(request["ManagerKeys"]);   // first: a backend handle among the arguments re-attaches with them
            _depth = request["Depth"] is int d ? d : 2;
            Script = (string)request["Script"]!;
            WorkingDirectory = request["WorkingDirectory"] as string;
            // First: a warm spare was started earlier, under the environment and folder of that moment.
            ApplyEnvironmentChanges(request);
            if (!string.IsNullOrEmpty(WorkingDirectory))
            {
                try { Environment.CurrentDirectory = WorkingDirectory; }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException) { /* the runspace's SetLocation reports it */ }
            }
            HasInput = request["HasInput"] is bool b && b;
            Arguments = ToArray(IpcObjectConverter.Rehydrate(request["Arguments"]));
            Input = ToArray(IpcObjectConverter.Rehydrate(request["Input"]));
            InitializationScript = request["InitializationScript"] as string;
            Using = (IpcObjectConverter.Rehydrate(request["Using"]) is PSObject u ? u.BaseObject : request["Using"]) as Hashtable;
            Detached = request["Detached"] is bool detached && detached;
        }

        public string Script { get; }
        public string? WorkingDirectory { get; }
        public object?[] Arguments { get; }
        public object?[] Input { get; }
        public bool HasInput { get; }
        public string? InitializationScript { get; }
        public Hashtable? Using { get; }

        /// <summary>A detached child outlives its parent: it does not watch stdin, and records nobody reads are dropped.</summary>
        public bool Detached { get; }

        /// <summary>The child's whole life (<see cref="ChildLauncher.JobEntry"/>): <see cref="Connect"/>, then <see cref="Run"/>; the exit code.</summary>
        public static int Serve() => Connect().Run();

        /// <summary>
        /// Opens the script's runspace, says "ready" (an R frame), then reads the request from stdin and starts watching
        /// stdin for the parent's end. Everything before the request is what a warm spare does ahead of need; a spare
        /// whose stdin ends before a request came exits (code 129): its parent has gone.
        /// </summary>
        public static ChildChannel Connect()
        {
            ChildRunspace? runspace = null;
            Exception? openError = null;
            string? folder = SpareWatch.IsSpare ? SpareChildren.TakeFolderVariable() : null;   // a cold child's environment is the user's
            try
            {
                runspace = ChildRunspace.Open();
                SpareWatch.ExitIfEnded();   // a spare ended while it opened its runspace does not go into the readied folder
                WarmUp(runspace, folder);
                if (SpareWarmUp.Wanted)
                {
                    SpareWarmUp.Prepare(runspace);
                    SpareWarmUp.Start(runspace);   // its thread waits a pause first: the request may come before
                }
            }
            catch (Exception e) { openError = e; }
            var stdout = Console.OpenStandardOutput();
            // Windows: the parent's output pipes no longer inheritable, programs the script starts write through a relay.
            if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows)) Core.Platform.Windows.OutputRelay.Start();
            var watcher = new StandbyThread("IpcPs parent watcher");   // started now: a thread's start took 0.4-2.6 ms of a warm start
            SpareWatch.Connected();   // from here on, stdin's end says the parent has gone
            byte[] ready = Encoding.UTF8.GetBytes(ChildProtocol.Frame('R', null, 1) + "\n");
            stdout.Write(ready, 0, ready.Length);
            stdout.Flush();
            var stdin = Console.OpenStandardInput();
            string? line = ReadLine(stdin, out byte[] after);
            SpareWarmUp.Stop();   // the runspace is the request's from here on
            if (line is null) Environment.Exit(ParentGoneExitCode);   // a spare nobody took: its parent has gone
            var request = ChildProtocol.DecodeRequest(line!);
            // From here to the script, no other thread of ours runs (the warm-up joined, the watches idle): the one
            // place where libc's environment may change (ProcessEnvironment). The launch's own variables go first; they
            // left .NET's copy as the spare booted, not libc's.
            if (SpareWatch.IsSpare)
            {
                Core.Platform.ProcessEnvironment.Set(SpareWatch.ParentVariable, null);
                Core.Platform.ProcessEnvironment.Set(SpareChildren.FolderVariable, null);
            }
            // A spare taken by a pool becomes a pool worker (IpcPool): it never returns from here. It watches stdin its own way.
            if (request["PoolPipe"] is string poolPipe)
            {
                watcher.Release();
                Environment.Exit(RunPoolWorker(request, poolPipe, runspace, openError, Core.Platform.StandardInput.Detach(stdin)));
            }
            // A spare taken by Start-IpcManager becomes the manager: it serves until shut down, then exits.
            if ((request["Manager"] is PSObject m ? m.BaseObject : request["Manager"]) is Hashtable manager)
            {
                watcher.Release();
                Environment.Exit(RunManager(request, manager, runspace, openError));
            }
            // The script and what it starts read end-of-input from standard input; the parent's pipe is the watcher's.
            stdin = Core.Platform.StandardInput.Detach(stdin);
            var channel = new ChildChannel(request, stdout, runspace, openError);
            if (!channel.Detached) watcher.Run(() => WatchParent(stdin, after));   // AFTER: a stop request sent right behind the request
            else
            {
                watcher.Release();
                // Meant to outlive its parent: a stop of an ancestor's job leaves it and what it starts alone.
                Core.Platform.Platforms.Current.Processes.LeaveParentTree();
            }
            return channel;
        }

        /// <summary>
        /// The dry run's script: the shapes most scripts are made of (constants, arithmetic, a comparison, an if and a
        /// foreach, a type's static method, a hashtable, an array, an expandable string, a cmdlet in a pipeline, the
        /// other streams), so that compiling a real script finds their parts of PowerShell's compiler already compiled
        /// by .NET: a first script of { 1 } took 2.5 ms to start in a spare whose dry run had none of them.
        /// </summary>
        private const string WarmUpScript = @"param($a)
$a; $input; 1; 'text'
$x = 2 + 3 * $a
if ($x -gt 1) { $x } else { $null }
foreach ($i in 1..2) { $i }
[Math]::Max(1, 2)
@{ k = 1 }.k; @(1, 2).Count; ""a$($a)b""
1, 2 | ForEach-Object { $_ } | Where-Object { $_ -gt 1 }
Write-Verbose v; Write-Information i";

        /// <summary>
        /// A whole run of a small request, records sent nowhere, so that the real one finds the decoder, the
        /// runspace's pipeline and the record encoder compiled (a warm spare's first script ran ~3x faster after).
        /// It runs in FOLDER, a spare's guess at its request's folder (<see cref="SpareChildren.FolderVariable"/>),
        /// and leaves the runspace there: a request from that folder then skips the runspace's SetLocation, ~3 ms of
        /// a warm start (PowerShell reads /proc/self/mountinfo and lists every parent folder to find the path's case).
        /// The process itself stays where it started (the root folder) until a request comes.
        /// </summary>
        private static void WarmUp(ChildRunspace runspace, string? folder)
        {
            var request = new Hashtable
            {
                ["Script"] = WarmUpScript,
                ["Arguments"] = IpcObjectConverter.Dehydrate(new object?[] { 1 }),
                ["Input"] = IpcObjectConverter.Dehydrate(new List<object?> { "x" }),
                ["HasInput"] = true,
                ["Depth"] = 2,
                ["Using"] = IpcObjectConverter.Dehydrate(new Hashtable()),
            };
            var dry = new ChildChannel(ChildProtocol.DecodeRequest(ChildProtocol.EncodeRequest(request, 2)), Stream.Null, runspace, null);
            // With a folder, as every request has one: the location's first set cost ~5 ms on the job's path. The
            // guessed folder may be gone by now (or refused): then the spare's own, as before the guess.
            string home = Environment.CurrentDirectory;
            try { runspace.Configure(folder != null && Directory.Exists(folder) ? folder : home, dry.Using); }
            catch (Exception) when (folder != null) { runspace.Configure(home, dry.Using); }
            dry.RunIn(runspace);
            // The process goes back to its own folder if PowerShell's SetLocation moved it (Windows: a process's current
            // folder cannot be deleted, and a spare must not hold the user's folder); the runspace stays there.
            if (!string.Equals(Environment.CurrentDirectory, home, StringComparison.Ordinal)) Environment.CurrentDirectory = home;
            runspace.Host.ExitCode = null;
            // The real run ends by closing its runspace before the last frame: close a small one now, so that path is
            // compiled too (its first close took ~20 ms, on the job's critical path).
            using (var small = RunspaceFactory.CreateRunspace(new ChildHost(), InitialSessionState.CreateDefault2()))
            {
                small.ThreadOptions = PSThreadOptions.UseCurrentThread;
                small.Open();
            }
            // And what Run does after the script (~1.5 ms the first time): the detach (nothing is held yet), the
            // console writers' flush, the frame of the exit code.
            Core.Lifecycle.ObjectLifecycle.DetachAll();
            Console.Out.Flush();
            Console.Error.Flush();
            ChildProtocol.Frame('Z', 0, 2);
        }

        /// <summary>A pool worker in this spare: the pool's folder and environment of the moment, then <see cref="PoolWorker"/>.</summary>
        private static int RunPoolWorker(Hashtable request, string pipe, ChildRunspace? runspace, Exception? openError, Stream stdin)
        {
            if (openError != null) throw openError;
            if ((request["Environment"] is PSObject env ? env.BaseObject : request["Environment"]) is Hashtable environment)
                AdoptEnvironment(environment);
            if (request["WorkingDirectory"] is string folder && folder.Length > 0)
            {
                Environment.CurrentDirectory = folder;
                runspace!.Configure(folder, null);
            }
            return PoolWorker.Run(pipe, runspace, stdin);
        }

        /// <summary>
        /// A manager in this spare: the starter's folder and environment of the moment, then the manager's serve script
        /// (ManagerLauncher.Serve) in the spare's runspace, with SETTINGS as $__ipcSettings. An error before it serves
        /// (an unknown registered type, an initialization script that throws) goes to stderr with exit code 1, as a
        /// cold manager's bootstrap reports it; the starter shows it.
        /// </summary>
        private static int RunManager(Hashtable request, Hashtable settings, ChildRunspace? runspace, Exception? openError)
        {
            try
            {
                if (openError != null) throw openError;
                ApplyEnvironmentChanges(request);
                if (request["WorkingDirectory"] is string folder && folder.Length > 0 && Directory.Exists(folder))
                {
                    Environment.CurrentDirectory = folder;
                    runspace!.Configure(folder, null);
                }
                runspace!.Runspace.SessionStateProxy.SetVariable("__ipcSettings", settings);
                using (var ps = runspace.Shell())
                {
                    ps.AddScript(ManagerLauncher.Serve, false);
                    ps.Invoke();
                }
                return 0;
            }
            catch (Exception e)
            {
                var error = Console.Error;
                error.WriteLine(e is RuntimeException r && r.ErrorRecord != null ? r.ErrorRecord.ToString() : e.Message);
                error.Flush();
                return 1;
            }
        }

        /// <summary>
        /// A spare's request (Start-IpcProcess, managers): EnvironmentChanges, what changed in the parent's environment
        /// since the spare was launched (<see cref="SpareChild.EnvironmentChanges"/>): a string sets a variable, null
        /// removes it. Variables the parent did not change stay as this process has them, as in a cold child. Set for
        /// native code too (<see cref="Core.Platform.ProcessEnvironment"/>): only where no other thread of ours runs.
        /// </summary>
        private static void ApplyEnvironmentChanges(Hashtable request)
        {
            if (!((request["EnvironmentChanges"] is PSObject env ? env.BaseObject : request["EnvironmentChanges"]) is Hashtable changes)) return;
            foreach (DictionaryEntry e in changes)
                if (e.Key is string name && name.Length > 0 && name.IndexOf('=') < 0)
                    Core.Platform.ProcessEnvironment.Set(name, e.Value is PSObject p ? p.BaseObject as string : e.Value as string);
        }

        /// <summary>
        /// The parent's environment at the call (a pool worker's request): variables it lacks are removed, the others set
        /// to its values, for native code too (every one: libc's copy may differ where .NET's does not). All but the
        /// start-up variables (<see cref="SpareChildren.IsStartupVariable"/>), which stay as this process has them, as
        /// in a cold worker: the spare was taken because they were the parent's values when it was launched, and pwsh
        /// made its own of some as it started (PSModulePath with $PSHOME's, the user's and this module's folders; the
        /// parent's raw value lacked them).
        /// </summary>
        private static void AdoptEnvironment(Hashtable environment)
        {
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
                if (!environment.ContainsKey(e.Key) && !SpareChildren.IsStartupVariable((string)e.Key)) Core.Platform.ProcessEnvironment.Set((string)e.Key, null);
            foreach (DictionaryEntry e in environment)
                if (e.Key is string name && name.Length > 0 && name.IndexOf('=') < 0 && e.Value is string value && !SpareChildren.IsStartupVariable(name))
                    Core.Platform.ProcessEnvironment.Set(name, value);
        }

        /// <summary>
        /// Runs the initialization script (dot-sourced, so its functions stay) and then the script, sending every
        /// record as it is written; returns the process's exit code: the script's <c>exit n</c>, 1 after a
        /// terminating error (sent first), else 0. Then, before the process ends, the child's part is over: its
        /// runspace is closed (PowerShell.Exiting handlers run), it detaches from every object it holds, and the last
        /// frame (Z, with the exit code) is sent — the parent's job ends on that frame, not on the process's end,
        /// which takes a .NET process tens of milliseconds more (docs/design.md, "Child processes").
        /// </summary>
        public int Run()
        {
            int exitCode = RunScript();
            try { Core.Lifecycle.ObjectLifecycle.DetachAll(); }
            catch (Exception) { /* what cannot be detached now is detached at exit, or pruned by liveness */ }
            try
            {
                Console.Out.Flush();
                Console.Error.Flush();
            }
            catch (IOException) { /* nobody reads any more */ }
            // Windows: what the script's programs wrote through the relay goes out before the last frame.
            if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                Core.Platform.Windows.OutputRelay.Drain(TimeSpan.FromSeconds(2));
            Write('Z', exitCode);
            return exitCode;
        }

        private int RunScript()
        {
            ChildRunspace runspace;
            try
            {
                if (_openError != null) throw _openError;
                runspace = _runspace!;
                runspace.Configure(WorkingDirectory, Using);
            }
            catch (Exception e)
            {
                SendTerminating(new ErrorRecord(e, ErrorRecords.ChildProcessFailed, ErrorCategory.OpenError, WorkingDirectory));
                return 1;
            }
            using (runspace) return RunIn(runspace);
        }

        /// <summary>The script's run in RUNSPACE (configured), records sent as written; the exit code.</summary>
        private int RunIn(ChildRunspace runspace)
        {
            using (var ps = runspace.Shell())
            {
                Forward(ps.Streams);
                var output = new PSDataCollection<PSObject>();
                output.DataAdded += (s, e) => Send(output[e.Index]);
                try
                {
                    if (!string.IsNullOrEmpty(InitializationScript))
                    {
                        ps.AddScript(InitializationScript, false);
                        ps.Invoke(null, output);
                        if (runspace.Host.ExitCode is int early) return early;
                        ps.Commands.Clear();
                    }
                    ps.AddScript(Script, true);
                    foreach (var a in Arguments) ps.AddArgument(a);
                    PSDataCollection<object?>? input = null;
                    if (HasInput)
                    {
                        input = new PSDataCollection<object?>(Input);
                        input.Complete();
                    }
                    ps.Invoke(input, output);
                }
                catch (RuntimeException e)
                {
                    SendTerminating(e.ErrorRecord);
                    return 1;
                }
                return runspace.Host.ExitCode ?? 0;
            }
        }

        /// <summary>Every stream but output, sent as each record is added (on the pipeline thread, so in order).</summary>
        private void Forward(PSDataStreams streams)
        {
            streams.Error.DataAdded += (s, e) => Send(streams.Error[e.Index]);
            streams.Warning.DataAdded += (s, e) => Send(streams.Warning[e.Index]);
            streams.Verbose.DataAdded += (s, e) => Send(streams.Verbose[e.Index]);
            streams.Debug.DataAdded += (s, e) => Send(streams.Debug[e.Index]);
            streams.Information.DataAdded += (s, e) => Send(streams.Information[e.Index]);
            streams.Progress.DataAdded += (s, e) => Send(streams.Progress[e.Index]);
        }

        /// <summary>Sends one record of the script's merged streams (*>&amp;1) to the parent, on the right stream.</summary>
        public void Send(object? item)
        {
            object? value = item is PSObject pso ? pso.BaseObject : item;
            switch (value)
            {
                case ErrorRecord e: Write('E', ChildProtocol.DescribeError(e)); break;
                case WarningRecord w: Write('W', w.Message); break;
                case VerboseRecord v: Write('V', v.Message); break;
                case DebugRecord d: Write('D', d.Message); break;
                case InformationRecord i: Write('I', ChildProtocol.DescribeInformation(i)); break;
                case ProgressRecord p: Write('P', ChildProtocol.DescribeProgress(p)); break;
                default: Write('O', item); break;
            }
        }

        /// <summary>Reports the error that ended the script.</summary>
        public void SendTerminating(ErrorRecord error) => Write('X', ChildProtocol.DescribeError(error));

        private void Write(char kind, object? payload)
        {
            if (_parentGone) return;
            byte[] bytes = Encoding.UTF8.GetBytes(ChildProtocol.Frame(kind, payload, _depth) + "\n");
            lock (_writeGate)
            {
                try
                {
                    // Windows: text written before this record through the output relay goes out first (at most 2 s).
                    if (IsWindows && Core.Platform.Windows.OutputRelay.OutputPending()) Core.Platform.Windows.OutputRelay.DrainOutput(TimeSpan.FromSeconds(2));
                    _out.Write(bytes, 0, bytes.Length);
                    _out.Flush();
                }
                catch (IOException) when (Detached) { _parentGone = true; }   // nobody reads any more: go on without
            }
        }

        /// <summary>
        /// Exits this process (code 129) once the parent's end of stdin closes: the parent has gone. A stop request on
        /// stdin (<see cref="ChildProtocol.StopRequest"/>, Windows' polite stop) detaches what this process holds and
        /// exits with <see cref="ChildProtocol.StoppedExitCode"/>. AFTER: bytes read past the request line.
        /// </summary>
        internal static void WatchParentInBackground(Stream stdin, byte[]? after = null) =>
            new Thread(() => WatchParent(stdin, after ?? Array.Empty<byte>())) { IsBackground = true, Name = "IpcPs parent watcher" }.Start();

        /// <summary>
        /// Reads the parent's pipe until it ends (the parent has gone) or carries a stop request. A read that fails in
        /// any way ends the same, as the parent gone: IOException is the usual one, but a read can also throw
        /// UnauthorizedAccessException (EBADF, EACCES), OperationCanceledException (Windows, an aborted read) or
        /// ObjectDisposedException (the stream closed); unhandled on this thread, it would crash the child instead
        /// (no detach of its objects, no end of its descendants), and a child that stayed could no longer see its
        /// parent go.
        /// </summary>
        private static void WatchParent(Stream stdin, byte[] after)
        {
            if (Array.IndexOf(after, ChildProtocol.StopRequest) >= 0) StopOnRequest();
            var buffer = new byte[256];
            while (true)
            {
                int n;
                try { n = stdin.Read(buffer, 0, buffer.Length); }
                catch (Exception) { break; }
                if (n <= 0) break;
                if (Array.IndexOf(buffer, ChildProtocol.StopRequest, 0, n) >= 0) StopOnRequest();
            }
            EndDescendants();
            Environment.Exit(ParentGoneExitCode);   // runs ProcessExit handlers: held objects are detached
        }

        /// <summary>
        /// The parent is gone: what this process started ends too (its native programs, a shell and what that started,
        /// a Start-Process without -Wait), killed as a stop of the job would kill them (docs/design.md, "Stopping ends
        /// the process tree"): nobody is left to stop them, and they would run on (on Linux re-parented to init).
        /// Passed over, with all under them: this process's own IpcPs children (jobs, spares, pool workers, managers),
        /// which end by themselves once it has exited, as it does now, releasing their objects (killed, a child holding
        /// a queue left it orphaned); what left the tree (a -Detached child, a daemon that called setsid); and on
        /// Windows every console host (conhost.exe: this process's own is its child, and serves it until its exit; a
        /// program's own ends with its program).
        /// </summary>
        private static void EndDescendants()
        {
            try
            {
                var passOver = ChildLauncher.RunningChildren();
                if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                    foreach (var host in System.Diagnostics.Process.GetProcessesByName("conhost"))
                        using (host) passOver.Add(host.Id);
                using var tree = Core.Platform.Platforms.Current.Processes.FindDescendants(
                    System.Diagnostics.Process.GetCurrentProcess().Id, 0, passOver);
                tree.Kill();   // never this process: the root of a tree found this way is not signalled
            }
            catch (Exception) { /* best effort: the exit below must happen whatever the walk met */ }
        }

        /// <summary>The polite stop: what SIGTERM's handler does on Linux (detach everything), then exit 143.</summary>
        private static void StopOnRequest()
        {
            Core.Platform.TerminationSignal.RunActions();
            Environment.Exit(ChildProtocol.StoppedExitCode);
        }

        /// <summary>The exit code of a child whose parent went away.</summary>
        public const int ParentGoneExitCode = 129;

        /// <summary>The request line; read in blocks, since the parent writes nothing after it.</summary>
        private static string? ReadLine(Stream s, out byte[] after)
        {
            after = Array.Empty<byte>();
            var bytes = new MemoryStream();
            var buffer = new byte[65536];
            while (true)
            {
                int n = s.Read(buffer, 0, buffer.Length);
                if (n <= 0) return bytes.Length == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
                int nl = Array.IndexOf(buffer, (byte)'\n', 0, n);
                bytes.Write(buffer, 0, nl < 0 ? n : nl);
                if (nl >= 0)
                {
                    after = new byte[n - nl - 1];   // what the parent sent after the request (a stop request)
                    Array.Copy(buffer, nl + 1, after, 0, after.Length);
                    return Encoding.ASCII.GetString(bytes.ToArray());
                }
            }
        }

        private static object?[] ToArray(object? value) => value switch
        {
            null => Array.Empty<object?>(),
            PSObject pso when !(pso.BaseObject is PSCustomObject) => ToArray(pso.BaseObject),
            object?[] a => a,
            IList list => ToList(list),
            _ => new[] { value },
        };

        private static object?[] ToList(IList list)
        {
            var a = new object?[list.Count];
            list.CopyTo(a, 0);
            return a;
        }
    }
}
