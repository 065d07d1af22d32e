using System;
using System.Linq;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The registry's protocol (<see cref="IObjectRegistry"/>: flock on Linux, LockFileEx on Windows): a record is
    /// changed only under its lock (no increment of any process lost), a waiter of a record deleted meanwhile starts
    /// again on the new one, a lock dies with its holder, and a reader never sees a rewrite half done.
    /// </summary>
    public sealed class PlatformRegistryTests
    {
        private static IObjectRegistry Registry => Platforms.Current.Registry;
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(60);
        private static CancellationToken Cancel => TestContext.Current.CancellationToken;

        private static RegistryRecord Counter(long count) =>
            new RegistryRecord(IpcObjectKind.SharedMemory, new ProcessIdentity(1, count), DateTime.UtcNow);

        [Fact]
        public void IncrementsFromManyProcessesAreAllKept()
        {
            const int processes = 3, increments = 200;
            string name = PlatformTesting.NewName("pr_count");
            var workers = new PlatformTesting.Worker[processes];
            try
            {
                for (int i = 0; i < processes; i++) workers[i] = PlatformTesting.Start("registry-count", name, increments.ToString(System.Globalization.CultureInfo.InvariantCulture));
                // This process counts too, at the same time.
                for (int i = 0; i < increments; i++)
                    Registry.Update(name, create: true, current => (Counter((current?.Creator.Start ?? 0) + 1), 0));
                foreach (var w in workers) Assert.Equal("done", w.ReadLine(TimeSpan.FromMinutes(5)));
                foreach (var w in workers) w.AssertSucceeds(Line);
                Assert.Equal((processes + 1) * increments, Registry.Read(name)!.Creator.Start);
            }
            finally
            {
                foreach (var w in workers) w?.Dispose();
                Registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0));
            }
            Assert.Null(Registry.Read(name));
            Assert.DoesNotContain(name, Registry.Names());
        }

        [Fact]
        public void AWaiterOfADeletedRecordStartsAgainOnTheNewOne()
        {
            string name = PlatformTesting.NewName("pr_deleted");
            Registry.Update(name, create: true, _ => (Counter(7), 0));
            using var deleterInside = new ManualResetEventSlim();
            using var deleterGo = new ManualResetEventSlim();
            using var waiterOpened = new ManualResetEventSlim();
            RegistryRecord? waiterSaw = Counter(-1);
            int waiterBodies = 0;
            var waiterThread = new Thread(() => { });
            try
            {
                // The deleter holds the lock; the waiter opens the same file, then waits for the lock; the deleter
                // deletes the record and lets go: the waiter must not write into the deleted file.
                var deleter = new Thread(() => Registry.Update(name, create: false, current =>
                {
                    deleterInside.Set();
                    deleterGo.Wait(Line);
                    return ((RegistryRecord?)null, 0);
                }));
                deleter.Start();
                Assert.True(deleterInside.Wait(Line, Cancel));
                RegistryTestHooks.BeforeLock = n => { if (n == name && Thread.CurrentThread == waiterThread) waiterOpened.Set(); };
                waiterThread = new Thread(() => Registry.Update(name, create: true, current =>
                {
                    Interlocked.Increment(ref waiterBodies);
                    waiterSaw = current;
                    return (Counter(8), 0);
                }));
                waiterThread.Start();
                Assert.True(waiterOpened.Wait(Line, Cancel), "The waiter never reached the lock.");
                deleterGo.Set();
                Assert.True(deleter.Join(Line));
                Assert.True(waiterThread.Join(Line));
                Assert.Equal(1, waiterBodies);
                Assert.Null(waiterSaw);   // the record it waited for was deleted: it made a new one
                Assert.Equal(8, Registry.Read(name)!.Creator.Start);
            }
            finally
            {
                RegistryTestHooks.BeforeLock = null;
                deleterGo.Set();
                Registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0));
            }
        }

        [Fact]
        public void ALockDiesWithItsHolder()
        {
            string name = PlatformTesting.NewName("pr_holder");
            Registry.Update(name, create: true, _ => (Counter(41), 0));
            try
            {
                using (var holder = PlatformTesting.Start("registry-hold", name))
                {
                    Assert.Equal("locked", holder.ReadLine(Line));
                    long before = 0;
                    var blocked = new Thread(() => before = Registry.Update(name, create: false, current => (Counter(current!.Creator.Start + 1), current.Creator.Start)));
                    blocked.Start();
                    // Not synchronisation: a check that the change is held up while the holder lives.
                    Assert.False(blocked.Join(TimeSpan.FromMilliseconds(200)), "The record was changed while another process held its lock.");
                    Platforms.Current.Processes.Kill(holder.Pid);   // SIGKILL; TerminateProcess
                    Assert.True(blocked.Join(TimeSpan.FromSeconds(30)), "The lock of a killed holder was not released.");
                    Assert.Equal(41, before);
                }
                Assert.Equal(42, Registry.Read(name)!.Creator.Start);
            }
            finally { Registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0)); }
        }

        [Fact]
        public void ReadersNeverSeeARewriteHalfDone()
        {
            string name = PlatformTesting.NewName("pr_torn");
            // Two shapes of very different lengths: a torn read would parse to neither.
            RegistryRecord Shape(int holders)
            {
                var r = Counter(holders);
                for (int i = 0; i < holders; i++) r.Attached.Add(new ProcessIdentity(1000 + i, holders));
                return r;
            }
            Registry.Update(name, create: true, _ => (Shape(1), 0));
            try
            {
                using var stop = new CancellationTokenSource();
                string? torn = null;
                var readers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var r = Registry.Read(name);
                        if (r is null) { torn = "a reader saw no record"; return; }
                        long n = r.Creator.Start;
                        if ((n != 1 && n != 300) || r.Attached.Count != n || r.Attached.Any(p => p.Start != n)) { torn = $"a reader saw {r.Attached.Count} holders of a record of {n}"; return; }
                    }
                })).ToArray();
                foreach (var r in readers) r.Start();
                for (int i = 0; i < 400 && torn is null; i++)
                    Registry.Update(name, create: false, _ => (Shape(i % 2 == 0 ? 300 : 1), 0));
                stop.Cancel();
                foreach (var r in readers) Assert.True(r.Join(Line));
                Assert.Null(torn);
            }
            finally { Registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0)); }
        }
    }
}
