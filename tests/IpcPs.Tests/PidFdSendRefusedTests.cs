using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Linux;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Where pidfd_open works but pidfd_send_signal is refused (a seccomp profile or sandbox: ENOSYS, EPERM), every
    /// signal to a child must still be sent, by pid after the check that the pid is still the child's, as where there
    /// are no pidfds at all. <see cref="SignalSeam.PidFdSendErrno"/> makes every send fail with ENOSYS. The children
    /// ignore SIGTERM, so only the kill ends them. Each wait is bounded: a lost kill left Stop-Job waiting for ever.
    /// In the pid-reuse collection: the seam is one for the whole process, and no other test may run under it.
    /// </summary>
    [Collection("pid reuse")]
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class PidFdSendRefusedTests : IDisposable
    {
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
        private readonly List<Process> _started = new List<Process>();

        /// <summary>Every pidfd_send_signal from now on (until <see cref="End"/> or the cleanup) fails with ENOSYS.</summary>
        private static void RefuseSends()
        {
            Assert.SkipWhen(WhyNot != null, WhyNot ?? "");
            SignalSeam.PidFdSendErrno = Errno.ENOSYS;
        }

        /// <summary>Why these tests cannot run here, or null: Linux, with pidfd_open working (else the pidfd path is never taken).</summary>
        private static string? WhyNot
        {
            get
            {
                if (!OperatingSystem.IsLinux()) return "Linux only: pidfds";
                int fd = (int)LibC.syscall(LibC.SYS_pidfd_open, Environment.ProcessId, 0, 0, 0);
                if (fd < 0) return "pidfd_open fails here: signals go by pid already (the path these tests fall back to)";
                Posix.Close(fd);
                return null;
            }
        }

        /// <summary>A child that ignores SIGTERM (SIG_IGN survives exec), prints TEXT and sleeps.</summary>
        private Process StartChild(string text = "")
        {
            var info = new ProcessStartInfo("/bin/sh", new[] { "-c", "trap '' TERM; printf '%s' \"$IPCPS_TEXT\"; exec sleep 600" })
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.Environment["IPCPS_TEXT"] = text;
            var p = Process.Start(info)!;
            _started.Add(p);
            return p;
        }

        [Fact]
        public void StopJobKillsAChildThatIgnoresSigterm()
        {
            RefuseSends();
            var child = StartChild();
            using var job = new IpcProcessJob("pidfd send refused", null, new List<IpcObject>());
            job.Start(child, "request", null, null);
            var stop = new Thread(() => job.Stop(force: false, TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken)) { IsBackground = true };
            stop.Start();
            bool stopped = stop.Join(Bound);
            bool exited = child.HasExited;
            End();   // lets a hung stop return
            Assert.True(stop.Join(Bound), "Stop-Job returned once the child was killed by the test");
            Assert.True(stopped, "Stop-Job returned: its kill reached the child");
            Assert.True(exited, "the child was killed");
        }

        [Fact]
        public void TheKillAfterExitGracePeriodEndsAChildThatSentItsLastFrame()
        {
            // A child that sends its last frame (exit code 0) and then does not end: killed ExitGracePeriod later.
            RefuseSends();
            var child = StartChild(ChildProtocol.Frame('Z', 0, 1) + "\n");
            using var job = new IpcProcessJob("pidfd send refused", null, new List<IpcObject>()) { ExitGracePeriod = TimeSpan.FromMilliseconds(100) };
            job.Start(child, "request", null, null);
            Assert.True(child.WaitForExit(Bound), "the child still running after its last frame was killed");
            Assert.Equal(0, job.ExitCode);
        }

        [Fact]
        public void TheKillOfASpareEndsIt()
        {
            RefuseSends();
            var child = StartChild();
            SpareChildren.TryKill(child);
            Assert.True(child.WaitForExit(Bound), "the spare was killed");
        }

        [Fact]
        public void APinnedChildsKillTreeEndsItAndItsDescendants()
        {
            var (root, levels) = StartTree();
            RefuseSends();
            try
            {
                using (var child = Platforms.Current.Processes.Pin(root.Process)) child.KillTree();
                PlatformTesting.WaitUntil(() => !levels.Any(Runs), Bound, "the tree to end");
            }
            finally { Cleanup(root, levels); }
        }

        [Fact]
        public void DescendantsFoundThroughAPinAreKilledAfterTheirParent()
        {
            var (root, levels) = StartTree();
            RefuseSends();
            try
            {
                using (var child = Platforms.Current.Processes.Pin(root.Process))
                using (var descendants = child.FindDescendants())
                {
                    Assert.Equal(levels.Skip(1).Select(p => p.Pid).OrderBy(p => p), descendants.Pids.OrderBy(p => p));
                    child.Kill();
                    Assert.True(root.Process.WaitForExit(Bound), "the pinned child was killed");
                    descendants.Kill();
                }
                PlatformTesting.WaitUntil(() => !levels.Any(Runs), Bound, "the descendants to end");
            }
            finally { Cleanup(root, levels); }
        }

        private static bool Runs(ProcessIdentity p) => Platforms.Current.Processes.Check(p.Pid, p.Start, -1) != ProcessState.Gone;

        /// <summary>A worker that started a worker that started one (<see cref="ProcessTreeWorker"/>), and its processes, the root first.</summary>
        private static (PlatformTesting.Worker Root, List<ProcessIdentity> Levels) StartTree()
        {
            var root = PlatformTesting.Start("tree", "2", "-1");
            var levels = new List<ProcessIdentity>();
            try
            {
                string line;
                while ((line = root.ReadLine(TimeSpan.FromSeconds(60))) != "ready")
                {
                    int pid = int.Parse(line.Substring(4), CultureInfo.InvariantCulture);   // "pid N"
                    levels.Add(Platforms.Current.Processes.Find(pid) ?? throw new InvalidOperationException($"The level {pid} is not running."));
                }
                Assert.Equal(3, levels.Count);
                return (root, levels);
            }
            catch
            {
                Cleanup(root, levels);
                throw;
            }
        }

        /// <summary>Ends what a test left running, without the seam: each level still running, by its identity.</summary>
        private static void Cleanup(PlatformTesting.Worker root, List<ProcessIdentity> levels)
        {
            SignalSeam.PidFdSendErrno = 0;
            foreach (var p in levels) if (Runs(p)) Platforms.Current.Processes.KillTree(p.Pid, p.Start);
            root.Dispose();
        }

        /// <summary>Clears the seam and kills what is left (Process.Kill: kill(2) of a child not yet reaped).</summary>
        private void End()
        {
            SignalSeam.PidFdSendErrno = 0;
            foreach (var p in _started)
            {
                try { if (!p.HasExited) p.Kill(); p.WaitForExit(); }
                catch (InvalidOperationException) { /* ended */ }
            }
        }

        public void Dispose()
        {
            End();
            foreach (var p in _started) p.Dispose();
        }
    }
}
