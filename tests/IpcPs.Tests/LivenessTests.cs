using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using CsCheck;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Linux;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Liveness of recorded processes (docs/design.md, "The robust word"): the /proc parsing, the holder id encoding
    /// of lock words and slots, and what the real process table answers for this process, a thread, an ended process,
    /// a zombie and a reused pid.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // /proc, gettid, sleep and python3: PlatformLivenessTests covers Windows
    public sealed unsafe class LivenessTests
    {
        private static IProcessTable Table => Platforms.Current.Processes;

        [DllImport("libc")] private static extern int gettid();

        /// <summary>A /proc/PID/stat line with COMM, STATE, NUM_THREADS (field 20) and START (field 22).</summary>
        private static string StatLine(string comm, char state, int threads, long start)
        {
            var f = new string[50];
            for (int i = 0; i < f.Length; i++) f[i] = (i + 4).ToString(System.Globalization.CultureInfo.InvariantCulture);
            f[0] = state.ToString();
            f[17] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
            f[19] = start.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return $"4711 ({comm}) {string.Join(" ", f)}\n";
        }

        [Fact]
        public void StatFieldsAreCountedFromTheLastParenthesis()
        {
            Assert.True(ProcStat.TryParse(StatLine("evil) Z 1 2 3 (x", 'S', 7, 123456789012), out char state, out int threads, out long start));
            Assert.Equal('S', state);
            Assert.Equal(7, threads);
            Assert.Equal(123456789012, start);
            Assert.False(ProcStat.TryParse("4711 (short) S 1 2", out _, out _, out _));
            Assert.False(ProcStat.TryParse("no parenthesis at all", out _, out _, out _));
            Assert.False(ProcStat.TryParse("1 (x)", out _, out _, out _));
        }

        [Fact]
        public void TgidComesFromItsOwnLine()
        {
            Assert.True(ProcStat.TryParseTgid("Name:\tTgid: 1\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4711\nNgid:\t0\nPid:\t4712\n", out int tgid));
            Assert.Equal(4711, tgid);
            Assert.False(ProcStat.TryParseTgid("Name:\tx\nPid:\t5\n", out _));
        }

        [Fact]
        public void ParsingAnyTextNeverThrows() =>
            Gen.String.Sample(text =>
            {
                ProcStat.TryParse(text, out _, out _, out _);
                ProcStat.TryParseTgid(text, out _);
            });

        [Fact]
        public void HolderIdsKeepPidAndStartApartFromTheFlagBits() =>
            Gen.Select(Gen.Int[1, (int)HolderId.PidMask], Gen.Long[0, long.MaxValue]).Sample((pid, start) =>
            {
                long id = HolderId.Of(pid, start);
                Assert.Equal(pid, HolderId.Pid(id));
                Assert.Equal((uint)start, HolderId.Start(id));
                Assert.Equal(0, id & HolderId.FlagBits);
                Assert.Equal(id, HolderId.Identity(id | RobustLock.WaitersBit));
                Assert.Equal(pid, HolderId.Pid(id | HolderId.FlagBits));
            });

        [Fact]
        public void ThisProcessRunsWithItsOwnStartTimeOnly()
        {
            var me = Table.Current;
            Assert.Equal(Process.GetCurrentProcess().Id, me.Pid);
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, me.Start, -1));
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, me.Start | (1L << 40), 0xFFFFFFFFL));
            Assert.Equal(ProcessState.Gone, Table.Check(me.Pid, me.Start + 1, -1));
            Assert.Equal(ProcessState.Running, Table.Check(me.Pid, 0, 0));
            Assert.NotEqual(0u, Table.PidNamespace);
        }

        [Fact]
        public void AThreadIdIsNotAProcessEvenWithItsOwnStartTime()
        {
            int tid = 0;
            using var started = new ManualResetEventSlim();
            using var stop = new ManualResetEventSlim();
            var thread = new Thread(() => { tid = gettid(); started.Set(); stop.WaitHandle.WaitOne(); }) { IsBackground = true };
            thread.Start();
            try
            {
                started.WaitHandle.WaitOne();
                Assert.NotEqual(Process.GetCurrentProcess().Id, tid);
                Assert.True(ProcStat.TryParse(File.ReadAllText($"/proc/self/task/{tid}/stat"), out _, out _, out long start));
                Assert.True(File.Exists($"/proc/{tid}/stat"), "/proc/TID exists for a thread too");
                Assert.Equal(ProcessState.Gone, Table.Check(tid, start, -1));
                Assert.True(Liveness.IsGone(HolderId.Of(tid, start)));
            }
            finally
            {
                stop.Set();
                thread.Join();
            }
        }

        [Fact]
        public void AnEndedProcessIsGone()
        {
            using var p = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
            var id = Table.Find(p.Id) ?? throw new InvalidOperationException("sleep is not running");
            Assert.Equal(ProcessState.Running, Table.Check(id.Pid, id.Start, -1));
            Assert.False(Liveness.IsGone(HolderId.Of(id)));
            p.Kill();
            p.WaitForExit();
            Assert.Equal(ProcessState.Gone, Table.Check(id.Pid, id.Start, -1));   // also if the pid was reused at once
            Assert.True(Liveness.IsGone(HolderId.Of(id)));
        }

        [Fact]
        public void AZombieIsGone()
        {
            // python3 forks a child that exits at once and never reaps it: a zombie until python ends (stdin closed).
            var psi = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import os, sys\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\nsys.stdin.read()");
            using var p = Process.Start(psi)!;
            try
            {
                int zombie = int.Parse(p.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
                long start = 0;
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    Assert.True(ProcStat.TryParse(File.ReadAllText($"/proc/{zombie}/stat"), out char state, out _, out start));
                    if (state == 'Z') break;
                    Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the child never became a zombie");
                    Thread.Sleep(10);
                }
                Assert.Equal(ProcessState.Gone, Table.Check(zombie, start, -1));
            }
            finally
            {
                p.StandardInput.Close();
                if (!p.WaitForExit(10_000)) p.Kill();
                p.WaitForExit();
            }
        }

        [Fact]
        public void ARobustWordIsTakenOverOnlyFromAHolderKnownToBeGone()
        {
            long* word = (long*)NativeMemory.AlignedAlloc(64, 64);
            try
            {
                using var p = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
                var holder = Table.Find(p.Id) ?? throw new InvalidOperationException("sleep is not running");
                *word = HolderId.Of(holder) | RobustLock.WaitersBit;
                Assert.Equal(AcquireResult.TimedOut, RobustLock.TryAcquire(word));
                Assert.Equal(AcquireResult.TimedOut, RobustLock.Acquire(word, Deadline.After(TimeSpan.FromMilliseconds(300)), CancellationToken.None));
                Assert.Equal(HolderId.Of(holder) | RobustLock.WaitersBit, *word);

                // The same pid with another start time: a later process that reused the pid.
                *word = HolderId.Of(holder.Pid, holder.Start + 1);
                Assert.Equal(AcquireResult.Abandoned, RobustLock.TryAcquire(word));
                Assert.Equal(RobustLock.Me, *word);
                Assert.True(RobustLock.Release(word));

                *word = HolderId.Of(holder) | RobustLock.WaitersBit;
                p.Kill();
                p.WaitForExit();
                Assert.Equal(AcquireResult.Abandoned, RobustLock.Acquire(word, Deadline.After(TimeSpan.FromSeconds(5)), CancellationToken.None));
                Assert.Equal(RobustLock.Me | RobustLock.WaitersBit, *word);   // the waiters bit stays: a sleeper may remain
                Assert.True(RobustLock.Release(word));
                Assert.Equal(0, *word);
                Assert.False(RobustLock.Release(word));
            }
            finally { NativeMemory.AlignedFree(word); }
        }
    }
}
