using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Process trees through the platform layer (<see cref="IProcessTable.KillTree"/>, <see cref="IProcessTable.FindDescendants"/>,
    /// <see cref="IProcessTable.LeaveParentTree"/>), on both platforms: a worker that started a worker that started one
    /// (<see cref="ProcessTreeWorker"/>), and a worker of the test's own beside them that no walk may touch.
    /// </summary>
    public sealed class ProcessTreeTests
    {
        private static IProcessTable Table => Platforms.Current.Processes;
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(60);

        /// <summary>A tree of DEPTH + 1 levels (LEAVE: the level that leaves its parent's tree), started, and its processes, the root first.</summary>
        private static (PlatformTesting.Worker Root, List<ProcessIdentity> Levels) StartTree(int depth, int leave = -1)
        {
            var root = PlatformTesting.Start("tree", depth.ToString(CultureInfo.InvariantCulture), leave.ToString(CultureInfo.InvariantCulture));
            var levels = new List<ProcessIdentity>();
            try
            {
                string line;
                while ((line = root.ReadLine(Line)) != "ready")
                {
                    Assert.StartsWith("pid ", line);
                    int pid = int.Parse(line.Substring(4), CultureInfo.InvariantCulture);
                    levels.Add(Table.Find(pid) ?? throw new InvalidOperationException($"The level {pid} is not running."));
                }
                Assert.Equal(depth + 1, levels.Count);
                Assert.Equal(root.Pid, levels[0].Pid);
                return (root, levels);
            }
            catch
            {
                Cleanup(root, levels);
                throw;
            }
        }

        private static bool Runs(ProcessIdentity p) => Table.Check(p.Pid, p.Start, -1) != ProcessState.Gone;

        private static void WaitGone(IEnumerable<ProcessIdentity> processes, string what) =>
            PlatformTesting.WaitUntil(() => !processes.Any(Runs), Line, what);

        /// <summary>Ends what a test left running: each level still running, by its identity.</summary>
        private static void Cleanup(PlatformTesting.Worker root, List<ProcessIdentity> levels)
        {
            foreach (var p in levels) if (Runs(p)) Table.KillTree(p.Pid, p.Start);
            root.Dispose();
        }

        [Fact]
        public void KillTreeEndsTheProcessAndEveryDescendantAndNothingElse()
        {
            var bystander = PlatformTesting.Start("live");
            var (root, levels) = StartTree(2);
            try
            {
                Assert.Equal("ready", bystander.ReadLine(Line));
                var other = Table.Find(bystander.Pid)!.Value;
                Table.KillTree(levels[0].Pid, levels[0].Start);
                WaitGone(levels, "the tree to end");
                Assert.True(Runs(other), "a process outside the tree is left running");
            }
            finally
            {
                Cleanup(root, levels);
                bystander.Dispose();
            }
        }

        [Fact]
        public void APinnedChildsKillTreeEndsItAndEveryDescendantAndNothingElse()
        {
            var bystander = PlatformTesting.Start("live");
            var (root, levels) = StartTree(2);
            try
            {
                Assert.Equal("ready", bystander.ReadLine(Line));
                var other = Table.Find(bystander.Pid)!.Value;
                using (var child = Table.Pin(root.Process))
                {
                    using (var found = child.FindDescendants()) Assert.Equal(levels.Skip(1).Select(p => p.Pid).OrderBy(p => p), found.Pids.OrderBy(p => p));
                    child.KillTree();
                }
                WaitGone(levels, "the tree to end");
                Assert.True(Runs(other), "a process outside the tree is left running");
            }
            finally
            {
                Cleanup(root, levels);
                bystander.Dispose();
            }
        }

        [Fact]
        public void DescendantsFoundBeforeTheirParentEndedAreKilledAfterIt()
        {
            var (root, levels) = StartTree(2);
            try
            {
                using (var descendants = Table.FindDescendants(levels[0].Pid, levels[0].Start))
                {
                    Assert.Equal(levels.Skip(1).Select(p => p.Pid).OrderBy(p => p), descendants.Pids.OrderBy(p => p));
                    Table.Kill(levels[0].Pid);
                    Assert.True(root.Process.WaitForExit(30_000));
                    // Linux re-parents them; Windows keeps the ended parent's id: either way no walk from it finds them now.
                    Assert.True(levels.Skip(1).All(Runs), "the descendants outlive their parent");
                    descendants.Kill();
                }
                WaitGone(levels, "the descendants to end");
            }
            finally { Cleanup(root, levels); }
        }

        [Fact]
        public void AStartTimeThatIsNotTheProcesssKillsNothing()
        {
            var (root, levels) = StartTree(1);
            try
            {
                Table.KillTree(levels[0].Pid, levels[0].Start + 1);
                using (var none = Table.FindDescendants(levels[0].Pid, levels[0].Start + 1)) Assert.Empty(none.Pids);
                Assert.True(levels.All(Runs), "a pid whose start differs names another process: nothing is killed");
            }
            finally { Cleanup(root, levels); }
        }

        [Fact]
        public void AProcessThatLeftItsParentsTreeOutlivesTheKillWithWhatItStarted()
        {
            // Levels: 0 (the root), 1 (leaves the tree), 2 (started by 1).
            var (root, levels) = StartTree(2, leave: 1);
            try
            {
                Assert.True(Table.HasLeftTree(levels[1].Pid, levels[1].Start));
                Assert.False(Table.HasLeftTree(levels[0].Pid, levels[0].Start));
                Assert.False(Table.HasLeftTree(levels[2].Pid, levels[2].Start));
                using (var descendants = Table.FindDescendants(levels[0].Pid, levels[0].Start)) Assert.Empty(descendants.Pids);
                Table.KillTree(levels[0].Pid, levels[0].Start);
                WaitGone(levels.Take(1), "the root to end");
                Assert.True(levels.Skip(1).All(Runs), "a process out of the tree, and its own descendants, are left running");
                // Its own tree is still its own: a kill from it ends both.
                Table.KillTree(levels[1].Pid, levels[1].Start);
                WaitGone(levels, "the tree that left to end");
            }
            finally { Cleanup(root, levels); }
        }

        [Fact]
        public void AStarterPutsAProcessOutOfItsTreeOnWindowsOnly()
        {
            var (root, levels) = StartTree(1);
            try
            {
                // Windows: the marker, made here and handed to the process. Linux: only a process can leave its session.
                bool put = Table.PutOutOfTree(levels[1].Pid, levels[1].Start);
                Assert.Equal(PlatformTesting.IsWindows, put);
                Assert.Equal(put, Table.HasLeftTree(levels[1].Pid, levels[1].Start));
                Table.KillTree(levels[0].Pid, levels[0].Start);
                if (put)
                {
                    WaitGone(levels.Take(1), "the root to end");
                    Assert.True(Runs(levels[1]), "the process put out of the tree is left running");
                }
                else WaitGone(levels, "the tree to end");
            }
            finally { Cleanup(root, levels); }
        }
    }
}
