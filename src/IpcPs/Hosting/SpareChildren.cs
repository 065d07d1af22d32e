using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Platform;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A child pwsh started ahead of need (a warm spare, like CPython's forkserver): it has imported the module, opened
    /// the runspace a script runs in, said so with one "R" frame on stdout (read by <see cref="FirstLine"/>), and waits
    /// on stdin for its request (docs/design.md, "Warm spares"). Stdin's end means the parent is gone: it exits.
    /// </summary>
    internal sealed class SpareChild
    {
        public SpareChild(Process process, string module, string startupEnvironment, IDictionary<string, string> environment)
        {
            Process = process;
            _environment = environment;
            Pid = process.Id;
            Module = module;
            StartupEnvironment = startupEnvironment;
            // The spare's first line is its "ready" frame; whoever takes the spare reads on from the same reader after it.
            Output = new ChildOutputReader(process.StandardOutput, frames: true);
            FirstLine = Task.Factory.StartNew<string?>(() => Output.Read() == ChildOutputKind.End ? null : Output.Text, CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        private readonly IDictionary<string, string> _environment;

        public Process Process { get; }
        public int Pid { get; }

        /// <summary>
        /// What to change in the spare's environment (given at its launch) to make it this process's now: name → value
        /// for a variable added or changed since, name → null for one removed. Usually empty: a request then carries
        /// no environment at all (encoding the whole of it was most of Start-IpcProcess's own time).
        /// </summary>
        public Hashtable EnvironmentChanges()
        {
            var changes = new Hashtable();
            var now = Environment.GetEnvironmentVariables();
            foreach (DictionaryEntry e in now)
                if (e.Key is string name && e.Value is string value && (!_environment.TryGetValue(name, out var was) || was != value))
                    changes[name] = value;
            foreach (var name in _environment.Keys)
                if (!now.Contains(name)) changes[name] = null;
            return changes;
        }
        public string Module { get; }

        /// <summary>The variables that act while a runtime starts (see <see cref="SpareChildren.StartupEnvironment"/>), at launch.</summary>
        public string StartupEnvironment { get; }

        /// <summary>Its stdout, bounded: <see cref="FirstLine"/> reads from it first, whoever takes the spare reads on.</summary>
        public ChildOutputReader Output { get; }

        /// <summary>The first line of its stdout (its "R" frame once ready; other text if its boot printed something first; null if it died first).</summary>
        public Task<string?> FirstLine { get; }

        /// <summary>Its first line has been read, whatever it was: it has gone as far as it goes before a request (<see cref="SpareChildren.WaitReady"/>).</summary>
        public bool HasFirstLine => FirstLine.IsCompleted;

        /// <summary>
        /// It said it is ready: its first line was its "R" frame, so it is blocked reading its request. Not when its
        /// boot printed something first: that line was read while it still booted, and nobody reads past it until it is
        /// taken.
        /// </summary>
        public bool IsReady => FirstLine.Status == TaskStatus.RanToCompletion && ChildProtocol.IsReadyFrame(FirstLine.Result);

        /// <summary>Its stdout ended before a line (or could not be read): it died, or can tell nobody anything. Serves no start.</summary>
        public bool OutputEnded => FirstLine.IsCompleted && (FirstLine.Status != TaskStatus.RanToCompletion || FirstLine.Result is null);

        public bool HasExited
        {
            get
            {
                try { return Process.HasExited; }
                catch (InvalidOperationException) { return true; }
            }
        }
    }

    /// <summary>
    /// The warm spares of this process: <see cref="Wanted"/> idle child pwsh processes (1 by default; the
    /// IPCPS_SPARES environment variable sets the number, 0 turns spares off), started on the first
    /// Start-IpcProcess and replenished in the background each time one is taken. A spare is used only when it was
    /// started for the same module and with the same start-up environment (runtime, loader and locale variables);
    /// otherwise it is ended and the start is cold. Spares end with this process (their stdin closes) and with the
    /// module's removal. Public for benchmarks and tests: <see cref="Pids"/> and <see cref="WaitReady"/>.
    /// </summary>
    public static class SpareChildren
    {
        /// <summary>The environment variable that sets how many spares are kept (0: none).</summary>
        public const string SettingVariable = "IPCPS_SPARES";

        public const int DefaultCount = 1, MaxCount = 8;

        private static readonly object Gate = new object();
        private static readonly List<SpareChild> Idle = new List<SpareChild>();
        private static int _starting;
        private static bool _exiting;
        private static bool _removed;   // Remove-Module: Fill starts nothing until the next import or Take
        private static int _hooked;
        private static readonly HashSet<Replenish> Pending = new HashSet<Replenish>();   // replacements waiting for a job's end
        private static readonly HashSet<Timer> Reaping = new HashSet<Timer>();   // held: a timer nobody references is collected

        /// <summary>How many spares to keep: IPCPS_SPARES (0 to 8) read now, else 1.</summary>
        public static int Wanted
        {
            get
            {
                string? text = Environment.GetEnvironmentVariable(SettingVariable);
                if (string.IsNullOrWhiteSpace(text)) return DefaultCount;
                return int.TryParse(text.Trim(), out int n) ? Math.Max(0, Math.Min(MaxCount, n)) : DefaultCount;
            }
        }

        /// <summary>The process ids of the idle spares now.</summary>
        public static int[] Pids
        {
            get { lock (Gate) return Idle.Select(s => s.Pid).ToArray(); }
        }

        /// <summary>
        /// Waits until <see cref="Wanted"/> spares are idle and ready (their first line read: the ready frame, or whatever
        /// a spare's boot printed first, after which it is taken only by starts that are not detached); false if TIMEOUT
        /// passed first.
        /// </summary>
        public static bool WaitReady(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                lock (Gate)
                {
                    if (Idle.Count >= Wanted && Idle.All(s => s.HasFirstLine)) return true;
                }
                if (clock.Elapsed >= timeout) return false;
                Thread.Sleep(5);
            }
        }

        /// <summary>
        /// Waits until <see cref="Wanted"/> spares are ready (<see cref="WaitReady"/>) and have settled: their warm-up
        /// over (<see cref="SpareWarmUp"/>), so that their processor time has not grown for twice the warm-up's pause
        /// (a quiet spell shorter than a pause would end before the first round); false if TIMEOUT passed first. For
        /// benchmarks that must not time a spare's background work beside theirs.
        /// </summary>
        public static bool WaitSettled(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            if (!WaitReady(timeout)) return false;
            var last = new Dictionary<int, TimeSpan>();
            var quietSince = clock.Elapsed;
            while (clock.Elapsed < timeout)
            {
                bool moved = false;
                List<SpareChild> idle;
                lock (Gate) idle = Idle.ToList();
                foreach (var s in idle)
                {
                    TimeSpan used;
                    try { s.Process.Refresh(); used = s.Process.TotalProcessorTime; }
                    catch (Exception) { continue; }   // gone: the next WaitReady makes another
                    if (!last.TryGetValue(s.Pid, out var before) || before != used) moved = true;
                    last[s.Pid] = used;
                }
                if (moved) quietSince = clock.Elapsed;
                else if (clock.Elapsed - quietSince >= SettledAfter) return true;
                Thread.Sleep(50);
            }
            return false;
        }

        private static readonly TimeSpan SettledAfter = SpareWarmUp.Pause + SpareWarmUp.Pause;

        /// <summary>
        /// A spare for MODULE, taken out of the idle set (null if there is none that fits, or spares are off), and a
        /// replacement started in the background. Spares that no longer fit are ended.
        /// </summary>
        /// <param name="module">The manifest the child must have loaded.</param>
        /// <param name="readyOnly">Only a spare that said it is ready (<see cref="SpareChild.IsReady"/>; a detached child:
        /// a spare still booting watches its parent's pid, and would end if this process ended before it read its
        /// request).</param>
        /// <param name="replenishWhen">When a spare is taken, its replacement is started once this handle is set (a
        /// job's end) or <see cref="ReplenishDelay"/> has passed, whichever comes first, rather than at once: a new
        /// pwsh's boot takes a whole CPU for most of a second, and on a small machine it would slow the very child
        /// that took the spare. Null: at once.</param>
        /// <param name="folder">The folder the taker runs its work in: the next spares' runspaces are set there ahead
        /// (<see cref="FolderVariable"/>). Null: the last one given.</param>
        internal static SpareChild? Take(string module, bool readyOnly = false, WaitHandle? replenishWhen = null, string? folder = null)
        {
            Hook();
            lock (Gate) _removed = false;   // the module is in use again (another runspace, or imported anew)
            if (folder != null) _folder = folder;
            SpareChild? taken = null;
            var unfit = new List<SpareChild>();
            var booting = new List<SpareChild>();
            int wanted = Wanted;
            string environment = StartupEnvironment();
            lock (Gate)
            {
                while (Idle.Count > 0)
                {
                    var s = Idle[0];
                    Idle.RemoveAt(0);
                    bool fits = wanted > 0 && s.Module == module && s.StartupEnvironment == environment && !s.HasExited && !s.OutputEnded;
                    if (fits && readyOnly && !s.IsReady) booting.Add(s);   // stays a spare
                    else if (fits && taken is null) taken = s;
                    else if (fits) booting.Add(s);
                    else unfit.Add(s);
                }
                Idle.InsertRange(0, booting);
            }
            foreach (var s in unfit) End(s, reap: true);
            if (wanted > 0)
            {
                try
                {
                    if (taken != null && replenishWhen != null) Replenish.Schedule(replenishWhen, module);
                    else ThreadPool.QueueUserWorkItem(_ => Fill(module));
                }
                catch (OutOfMemoryException) { /* no thread for it (no descriptor left): a later start replenishes */ }
            }
            return taken;
        }

        /// <summary>
        /// A replacement that starts once a job has ended or <see cref="ReplenishDelay"/> has passed. Kept in
        /// <see cref="Pending"/> until it fires, so that the module's removal can unregister it (<see cref="Removed"/>).
        /// </summary>
        private sealed class Replenish
        {
            private RegisteredWaitHandle? _wait;

            public static void Schedule(WaitHandle when, string module)
            {
                var r = new Replenish();
                lock (Gate) Pending.Add(r);
                var wait = ThreadPool.RegisterWaitForSingleObject(when, (_, __) => { if (r.Forget()) Fill(module); }, null, ReplenishDelay, executeOnlyOnce: true);
                lock (Gate)
                {
                    if (Pending.Contains(r)) { r._wait = wait; return; }
                }
                wait.Unregister(null);   // fired (or cancelled) before it was kept
            }

            /// <summary>Out of <see cref="Pending"/> and unregistered; false if it was already (fired or cancelled).</summary>
            public bool Forget()
            {
                RegisteredWaitHandle? wait;
                lock (Gate)
                {
                    if (!Pending.Remove(this)) return false;
                    wait = _wait;
                }
                wait?.Unregister(null);
                return true;
            }
        }

        /// <summary>
        /// The environment variable that tells a spare the folder of the last Start-IpcProcess (or pool, or manager) that
        /// took one: the spare sets its runspace's location there while it boots, so that a request from the same
        /// folder does not pay for it (ChildChannel.WarmUp). The spare's process stays in the root folder, and the
        /// spare removes the variable first thing (<see cref="TakeFolderVariable"/>): the user's script never sees it.
        /// </summary>
        public const string FolderVariable = "IPCPS_SPARE_FOLDER";

        private static volatile string? _folder;

        /// <summary>In a child: the folder <see cref="FolderVariable"/> names (null if none), removed from the environment.</summary>
        internal static string? TakeFolderVariable()   // in a spare only: in a cold child the variable is the user's
        {
            string? folder = Environment.GetEnvironmentVariable(FolderVariable);
            if (folder != null) Environment.SetEnvironmentVariable(FolderVariable, null);
            return string.IsNullOrEmpty(folder) ? null : folder;
        }

        /// <summary>The longest a replacement waits for the end of the job that took a spare (see <see cref="Take"/>).</summary>
        public static readonly TimeSpan ReplenishDelay = TimeSpan.FromSeconds(1);

        /// <summary>Ends a spare that was taken but could not be given its request.</summary>
        internal static void Discard(SpareChild spare) => End(spare, reap: true);

        /// <summary>Ends every idle spare (spares turned off, or a test's clean slate). Replacements still start later.</summary>
        public static void EndAll() => EndAll(reap: true);

        private static void EndAll(bool reap)
        {
            List<SpareChild> all;
            lock (Gate)
            {
                all = Idle.ToList();
                Idle.Clear();
            }
            foreach (var s in all) End(s, reap);
        }

        /// <summary>
        /// Remove-Module: no spare is started from now on until the module is imported again or a start takes one
        /// (<see cref="Imported"/>, <see cref="Take"/>): the replacements waiting for a job's end are unregistered, a
        /// launch under way is ended once made (<see cref="Fill"/>), and the idle spares end.
        /// </summary>
        internal static void Removed()
        {
            List<Replenish> pending;
            lock (Gate)
            {
                _removed = true;
                pending = Pending.ToList();
            }
            foreach (var r in pending) r.Forget();
            EndAll();
        }

        /// <summary>The module is imported (again): spares may start.</summary>
        internal static void Imported()
        {
            lock (Gate) _removed = false;
        }

        private static void Hook()
        {
            if (Interlocked.Exchange(ref _hooked, 1) != 0) return;
            AppDomain.CurrentDomain.ProcessExit += (s, e) =>
            {
                lock (Gate) _exiting = true;
                EndAll(reap: false);   // nothing would be left to reap them: they end by themselves (see End)
            };
        }

        /// <summary>Starts spares until WANTED are idle or starting. A launch that fails leaves the next start cold.</summary>
        private static void Fill(string module)
        {
            while (true)
            {
                lock (Gate)
                {
                    if (_exiting || _removed || Idle.Count + _starting >= Wanted) return;
                    _starting++;
                }
                SpareChild? spare = null;
                try { spare = Launch(module); }
                catch (Exception) { /* no spare: starts stay cold */ }
                bool keep;
                lock (Gate)
                {
                    _starting--;
                    keep = spare != null && !_exiting && !_removed;
                    if (keep) Idle.Add(spare!);
                }
                if (spare is null) return;
                if (!keep) End(spare, reap: true);
            }
        }

        /// <summary>
        /// A spare starts in the root folder (a folder deleted later must not hold it up): the request sets the
        /// working directory it runs in.
        /// </summary>
        private static SpareChild Launch(string module)
        {
            string folder = System.IO.Path.GetPathRoot(System.IO.Path.GetTempPath()) ?? "/";
            var info = ChildLauncher.StartInfo(module, folder);
            info.Environment[SpareWatch.ParentVariable] = SpareWatch.ParentValue();
            if (_folder is string prepared) info.Environment[FolderVariable] = prepared;
            var environment = new Dictionary<string, string>(info.Environment.Count, StringComparer.Ordinal);
            foreach (var e in info.Environment)
                if (e.Value != null && e.Key != SpareWatch.ParentVariable && e.Key != FolderVariable) environment[e.Key] = e.Value;   // the spare removes those itself
            var process = ChildLauncher.Start(info, "spare pwsh");
            try { return new SpareChild(process, module, StartupEnvironment(), environment); }
            catch
            {
                ChildLauncher.Abandon(process);   // no thread to read its ready frame (no descriptor left): not kept half-made
                throw;
            }
        }

        /// <summary>
        /// Ends it by closing its stdin: the spare exits by itself (code <see cref="ChildChannel.ParentGoneExitCode"/>,
        /// through Environment.Exit), at once if ready (it reads the end), within 50 ms of its module's import if booting
        /// (<see cref="SpareWatch"/> sees stdin closed). Never killed at once: on Linux a killed runtime leaves its
        /// debugger pipes and diagnostics socket in the temp folder (three files per spare, every session); on Windows a
        /// console program terminated while it connects to its console (Wine: 20-30 ms into its start) leaves that
        /// console's host running for ever, holding every handle the spare inherited, the standard output of whoever
        /// started this process among them (a test's pipe never ended). REAP: one that has not ended
        /// <see cref="SelfEndTimeout"/> later while this process runs is killed, and its Process disposed once it has
        /// exited — through Process.Exited and a timer, no thread waits. Not when this process exits (nothing would
        /// run them): its spares end by themselves, stdin's end and the parent watch tell them.
        /// </summary>
        private static void End(SpareChild s, bool reap)
        {
            if (reap) EndChild(s.Process, s.Pid);
            else try { s.Process.StandardInput.Close(); } catch (Exception) { /* gone already */ }
        }

        /// <summary>
        /// Ends PROCESS (pid PID), a child of this session's that exits when its stdin ends (a spare, a job's child, a
        /// pool worker, a manager), as <see cref="End"/> ends a spare with REAP: its stdin is closed, it is killed if it
        /// has not ended <see cref="SelfEndTimeout"/> later, and its Process disposed once it has exited.
        /// </summary>
        internal static void EndChild(Process process, int pid)
        {
            try { process.StandardInput.Close(); } catch (Exception) { /* gone already */ }
            var timer = new Timer(_ => TryKill(process));   // armed below, once the exit disposes it
            lock (Gate) Reaping.Add(timer);
            int reaped = 0;
            void Reaped()
            {
                if (Interlocked.Exchange(ref reaped, 1) != 0) return;
                lock (Gate) Reaping.Remove(timer);
                timer.Dispose();
                try { process.Dispose(); } catch (Exception) { /* disposed elsewhere */ }
            }
            try
            {
                process.Exited += (_, __) => Reaped();
                process.EnableRaisingEvents = true;
                timer.Change(SelfEndTimeout, Timeout.InfiniteTimeSpan);
                if (HasExited(process)) Reaped();   // ended before the handler was in place
            }
            catch (Exception) { Reaped(); }   // disposed or never started: nothing to wait for
        }

        private static bool HasExited(Process process)
        {
            try { return process.HasExited; }
            catch (InvalidOperationException) { return true; }
        }

        /// <summary>Kills PROCESS through its pin: never a process that took its pid once it was reaped.</summary>
        internal static void TryKill(Process process)
        {
            try
            {
                using var child = Platforms.Current.Processes.Pin(process);
                child.Kill();
            }
            catch (Exception) { /* gone already */ }
        }

        /// <summary>How long a spare whose stdin was closed has to end by itself before it is killed.</summary>
        internal static readonly TimeSpan SelfEndTimeout = TimeSpan.FromSeconds(60);

        /// <summary>
        /// The variables a process reads while it starts (runtime, loader, locale, home, PowerShell's own): a spare
        /// launched under other values is not the child a cold start would make now, so it is not used. Every other
        /// variable is sent with the request and set in the child.
        /// </summary>
        internal static string StartupEnvironment()
        {
            var names = new List<string>();
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            {
                string name = (string)e.Key;
                if (IsStartupVariable(name)) names.Add(name + "=" + e.Value);
            }
            names.Sort(StringComparer.Ordinal);
            return string.Join("\0", names);
        }

        // PSModulePath and XDG_*_HOME too: pwsh makes its module path at start-up from PSModulePath and the user's folders
        // (XDG_DATA_HOME: user modules; XDG_CONFIG_HOME: powershell.config.json; XDG_CACHE_HOME: the module analysis
        // cache); a spare given a new value later would keep the module path its launch made, not a cold child's.
        private static readonly string[] StartupPrefixes = { "DOTNET_", "COMPlus_", "CORECLR_", "COREHOST_", "LD_", "LC_", "POWERSHELL_", "PSModuleAnalysis" };
        private static readonly string[] StartupNames =
            { "LANG", "LANGUAGE", "TZ", "HOME", "TMPDIR", "TERM", "PSModulePath", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME" };

        // Names ignore case: Windows' do, and on Unix a name in another case only makes a spare unfit, never wrong.
        internal static bool IsStartupVariable(string name) =>
            StartupNames.Contains(name, StringComparer.OrdinalIgnoreCase) || StartupPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));
    }
}
