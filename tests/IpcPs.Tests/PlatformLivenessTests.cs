using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Process liveness through the platform layer (<see cref="IProcessTable"/>), on both platforms: this process, a
    /// live worker, one that was killed (while a handle on it is still open, and after), an id no process has, a pid
    /// reused by a later process, a thread's id (Windows), stop and kill requests. Fails closed: only Gone is gone.
    /// </summary>
    public sealed class PlatformLivenessTests
    {
        private static IProcessTable Table => Platforms.Current.Processes;
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(60);

        [Fact]
        public void ThisProcessRunsWithItsOwnStartOnly()
        {
            var me = Table.Current;
            Assert.Equal(Environment.ProcessId, me.Pid);
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, me.Start, -1));
            Assert.Equal(ProcessState.Gone, Table.Check(me.Pid, me.Start + 1, -1));
            // Shared words keep the low 32 bits of the start.
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, me.Start & 0xFFFFFFFFL, 0xFFFFFFFFL));
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, HolderId.Start(HolderId.Of(me)), 0xFFFFFFFFL));
            Assert.False(Liveness.IsGone(HolderId.Of(me)));
            Assert.Equal(me, Table.Find(me.Pid));
            if (PlatformTesting.IsWindows)
            {
                // The start is the creation time in milliseconds since 1601: this process began minutes ago at most.
                long now = DateTime.UtcNow.ToFileTimeUtc() / 10_000;
                Assert.InRange(me.Start, now - 3_600_000, now);
                Assert.Equal(0u, Table.PidNamespace);
            }
            else Assert.NotEqual(0u, Table.PidNamespace);
        }

        [Fact]
        public void AKilledWorkerIsGoneWithAndWithoutAHandleOnIt()
        {
            var worker = PlatformTesting.Start("live");
            ProcessIdentity id;
            try
            {
                Assert.Equal("ready", worker.ReadLine(Line));
                id = Table.Find(worker.Pid) ?? throw new InvalidOperationException("The worker is not running.");
                Assert.Equal(ProcessState.Running, Table.Check(id.Pid, id.Start, -1));
                Assert.False(Liveness.IsGone(HolderId.Of(id)));
                Table.Kill(id.Pid);
                Assert.True(worker.Process.WaitForExit(30_000));
                // Our Process object still holds a handle: Windows keeps the process object (and its pid) meanwhile.
                Assert.Equal(ProcessState.Gone, Table.Check(id.Pid, id.Start, -1));
                Assert.Null(Table.Find(id.Pid));
                Table.Kill(id.Pid);   // an ended process: no error
            }
            finally { worker.Dispose(); }
            Assert.Equal(ProcessState.Gone, Table.Check(id.Pid, id.Start, -1));
            Assert.True(Liveness.IsGone(HolderId.Of(id)));
        }

        [Fact]
        public void AnIdNoProcessHasIsGone()
        {
            const int nobody = 0x3FFFFFFC;   // above Linux's pid_max and beyond any Windows pid in use
            Assert.Equal(ProcessState.Gone, Table.Check(nobody, 1, -1));
            Assert.Null(Table.Find(nobody));
            Assert.Equal(ProcessState.Gone, Table.Check(0, 0, 0));
            Assert.Equal(ProcessState.Gone, Table.Check(-4, 0, 0));
        }

        /// <summary>
        /// Real reuse, steered with ns_last_pid. Windows gives no such control, and Wine hands out new ids for a long
        /// while before reusing one: there the mechanism is checked by <see cref="APidWithAnotherStartIsAnotherProcess"/>.
        /// </summary>
        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
        public void AReusedPidIsGoneForItsFormerProcess()
        {
            // A dead worker's identity; then later workers until one gets its pid.
            var dead = new List<ProcessIdentity>();
            for (int attempt = 0; attempt < 40; attempt++)
            {
                using var worker = StartLive(dead.Count > 0 ? dead[0].Pid : 0);
                var id = Table.Find(worker.Pid) ?? throw new InvalidOperationException("The worker is not running.");
                var former = dead.Find(d => d.Pid == id.Pid);
                if (former.Pid != 0)
                {
                    Assert.NotEqual(former.Start, id.Start);
                    Assert.Equal(ProcessState.Gone, Table.Check(former.Pid, former.Start, -1));
                    Assert.Equal(ProcessState.Running, Table.Check(id.Pid, id.Start, -1));
                    Assert.True(Liveness.IsGone(HolderId.Of(former)));
                    Assert.False(Liveness.IsGone(HolderId.Of(id)));
                    return;
                }
                dead.Add(id);
                Table.Kill(id.Pid);
                worker.Process.WaitForExit();
            }
            Assert.Fail($"No pid was reused in 40 processes ({string.Join(", ", dead.ConvertAll(d => d.Pid))}).");
        }

        [Fact]
        public void APidWithAnotherStartIsAnotherProcess()
        {
            using var worker = StartLive(0);
            var id = Table.Find(worker.Pid) ?? throw new InvalidOperationException("The worker is not running.");
            Assert.Equal(ProcessState.Running, Table.Check(id.Pid, id.Start, -1));
            // What a holder recorded before the pid was reused looks like: the same pid, an earlier start.
            Assert.Equal(ProcessState.Gone, Table.Check(id.Pid, id.Start - 1, -1));
            Assert.True(Liveness.IsGone(HolderId.Of(id.Pid, id.Start - 1)));
            Assert.Equal(ProcessState.Gone, Table.Check(id.Pid, id.Start + 1, 0xFFFFFFFFL));
            // A start that is not recorded (0, mask 0) judges by the pid alone.
            Assert.Equal(ProcessState.Running, Table.Check(id.Pid, 0, 0));
        }

        /// <summary>A "live" worker, on Linux given PID when possible (ns_last_pid = PID − 1; other processes may take it first).</summary>
        private static PlatformTesting.Worker StartLive(int pid)
        {
            if (pid > 1 && !PlatformTesting.IsWindows)
                File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - 1).ToString(CultureInfo.InvariantCulture));
            var worker = PlatformTesting.Start("live");
            Assert.Equal("ready", worker.ReadLine(Line));
            return worker;
        }

        [DllImport("kernel32")] private static extern uint GetCurrentThreadId();

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void AWindowsThreadIdIsNotAProcess()
        {
            uint tid = GetCurrentThreadId();
            Assert.NotEqual((uint)Environment.ProcessId, tid);
            Assert.Equal(ProcessState.Gone, Table.Check((int)tid, 0, 0));
            Assert.Null(Table.Find((int)tid));
        }

        [Fact]
        public void StopIsRequestedOnlyWhereThereIsSigterm()
        {
            using var worker = PlatformTesting.Start("live");
            Assert.Equal("ready", worker.ReadLine(Line));
            using var child = Table.Pin(worker.Process);
            if (PlatformTesting.IsWindows)
            {
                Assert.False(child.RequestStop());   // the caller then asks through the child's channel
                Assert.False(worker.Process.HasExited);
            }
            else
            {
                Assert.True(child.RequestStop());    // SIGTERM: .NET ends the worker
                Assert.True(worker.Process.WaitForExit(30_000));
            }
        }
    }
}
