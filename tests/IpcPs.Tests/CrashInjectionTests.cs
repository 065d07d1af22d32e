using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Crash injection (docs/design.md, "Tests of Core"): for each operation of a queue (puts, gets of every order,
    /// TaskDone) and of a pipe (sends and receives of a frame that fits and of one streamed through the ring), a worker
    /// process first lists the shared writes the operation makes (<see cref="CrashPoints"/>); then, for every N from 1 to
    /// their number, a fresh object in the same state gets the operation from a worker killed right after write N, and
    /// the test process checks what the next user finds (<see cref="CrashScenario.Check"/>): a queue's structure whole,
    /// the message in it exactly when the operation's commit was published; a pipe intact with every whole frame
    /// received once, or broken only when a streamed frame was cut.
    /// </summary>
    public sealed class CrashInjectionTests
    {
        // Each case mostly waits (a process start, a liveness slice before the dead holder's lock is taken over).
        private const int Parallel = 4;
        private static readonly TimeSpan WorkerLimit = TimeSpan.FromSeconds(60);

        // Under Wine a process's TerminateProcess of itself has been seen, once in some thousands, never to end the
        // process ("wine client error: write: Bad file descriptor" from one of its threads, then nothing; a kill from
        // another process ended it at once). A worker that has reported its Nth write, and so is inside the crash
        // point's kill, and is still there after this long is killed from here: the same death at the same point.
        private static readonly TimeSpan SelfKillLimit = TimeSpan.FromSeconds(15);
        private static int _selfKillsFinished;

        public static TheoryData<string> QueueScenarios => new TheoryData<string>(CrashScenarios.Queue.Select(s => s.Id));

        public static TheoryData<string> PipeScenarios => new TheoryData<string>(CrashScenarios.Pipe.Select(s => s.Id));

        [Theory, MemberData(nameof(QueueScenarios))]
        public void QueueOperationKilledAfterEachSharedWrite(string scenario) => RunMatrix(CrashScenarios.Get(scenario));

        [Theory, MemberData(nameof(PipeScenarios))]
        public void PipeOperationKilledAfterEachSharedWrite(string scenario) => RunMatrix(CrashScenarios.Get(scenario));

        private static void RunMatrix(CrashScenario scenario)
        {
            // N = 0: the operation runs to its end, listing its writes; the check of a completed operation follows.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var trace = RunCase(scenario, 0, Array.Empty<string>());
            Assert.True(trace.Count > 0, $"{scenario}: the operation made no shared write.");
            var failures = new ConcurrentBag<string>();
            System.Threading.Tasks.Parallel.For(1, trace.Count + 1, new ParallelOptions { MaxDegreeOfParallelism = Parallel }, n =>
            {
                try { RunCase(scenario, n, trace); }
                catch (Exception e) { failures.Add($"killed after write {n} of {trace.Count} ({trace[n - 1]}): {e.Message}"); }
            });
            Assert.True(failures.IsEmpty, $"{scenario} ({trace.Count} writes: {string.Join(" ", trace)}):\n" + string.Join("\n", failures.OrderBy(f => f, StringComparer.Ordinal)));
            int finished = Interlocked.Exchange(ref _selfKillsFinished, 0);
            Report($"crash {scenario}: killed after each of its {trace.Count} shared writes in {clock.Elapsed.TotalSeconds:n1} s"
                + (finished > 0 ? $" ({finished} self-kill(s) that did not end the process finished from outside)" : ""));
        }

        /// <summary>Appends LINE to the report build.ps1 prints after the C# tests (IPCPS_FUZZ_REPORT, as the fuzz targets do).</summary>
        private static void Report(string line)
        {
            var file = Environment.GetEnvironmentVariable("IPCPS_FUZZ_REPORT");
            if (string.IsNullOrEmpty(file)) return;
            lock (typeof(Fuzzing)) System.IO.File.AppendAllText(file, line + Environment.NewLine);
        }

        /// <summary>One case: returns the writes the worker reported (all of them when N = 0).</summary>
        private static List<string> RunCase(CrashScenario scenario, int n, IReadOnlyList<string> trace)
        {
            string name = "crash_" + Guid.NewGuid().ToString("N").Substring(0, 12);
            var state = scenario.Setup(name);
            try
            {
                var peer = scenario.StartPeer(state);
                List<string> lines;
                using (var worker = WorkerProcess.Start(new[] { "crash", scenario.Id, name, n.ToString(CultureInfo.InvariantCulture) }, crashPoints: true))
                {
                    if (n > 0 && OperatingSystem.IsWindows() && !worker.Process.WaitForExit((int)SelfKillLimit.TotalMilliseconds)
                        && worker.Lines.Count >= n)
                    {
                        worker.Kill();
                        Interlocked.Increment(ref _selfKillsFinished);
                    }
                    int exit = worker.WaitForExit(WorkerLimit);
                    lines = worker.Lines;
                    bool completed = lines.LastOrDefault() == "completed";
                    if (completed) lines.RemoveAt(lines.Count - 1);
                    if (n == 0)
                    {
                        Assert.True(completed && exit == 0, $"The listing run failed (exit {exit}): {worker.Errors}");
                        trace = lines;
                    }
                    else
                    {
                        // Killed exactly after write N, having made the same writes as the listing run up to it.
                        Assert.False(completed, $"The worker completed the operation; it was to be killed after write {n}.");
                        Assert.True(exit != 0, "The worker exited normally.");
                        Assert.Equal(trace.Take(n), lines);
                    }
                }
                scenario.Check(state, peer, trace, n == 0 ? trace.Count + 1 : n);
                return lines;
            }
            finally
            {
                state.Dispose();
                try { using (var left = IpcObjects.Open(name)) left.Unlink(); }
                catch (IpcObjectNotFoundException) { }   // gone with its last holder
            }
        }
    }
}
