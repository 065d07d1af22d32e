using System;
using System.Collections.Generic;
using System.Diagnostics;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A lease's renewal never holds a thread-pool thread while it waits for Redis (Lease.Tick, RedisBackend.EvalAsync). On
    /// Linux every Redis reply is read on a pool thread; renewals that waited synchronously on timer (pool) threads took
    /// the few threads a 2-CPU machine's pool starts with, left none to read their replies, and the pool grows slowly:
    /// a process holding 8 locks lost most or all of them (8 of 8 with 300 ms leases; 7, 1 and 7 of 8 with 2 s leases).
    /// And a renewal left unanswered no longer delays the loss past the lease's end (Lease.Tick).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisLeaseRenewalTests : RedisTestBase
    {
        public RedisLeaseRenewalTests(RedisFixture f) : base(f) { }

        [Fact]
        public void A_process_whose_pool_has_two_threads_keeps_eight_leases_renewed()
        {
            // The pool's minimum of a 2-CPU machine (the test program's own is raised: IpcPs.Tests.csproj), whatever this one has.
            var environment = new Dictionary<string, string> { ["DOTNET_ThreadPool_ForceMinWorkerThreads"] = "2" };
            string name = NewName();
            // 8 locks of 2 s leases held for 6 s: each renewed about 9 times, the 8 renewals due together.
            using var worker = new RedisWorkerProcess(environment, "hold-many", Address, name, "8", "2000", "6000");
            Assert.Equal("held", worker.Next());
            Assert.Equal("lost 0", worker.Next());
            worker.WaitExit();
        }

        [Fact]
        public void A_lease_whose_renewal_gets_no_answer_is_lost_when_it_runs_out_not_when_the_client_gives_up()
        {
            using var server = new RedisServer();
            using var b = RedisBackend.ConnectPrivate(server.Uri, TimeSpan.FromSeconds(2));
            using var l = (RedisLock)b.Create(IpcObjectKind.Lock, NewName(),
                                              new IpcBackendOptions { LeaseTime = TimeSpan.FromMilliseconds(300) });
            Assert.True(l.Acquire());
            var paused = Stopwatch.StartNew();
            RedisServer.Signal(server.Pid, RedisServer.SIGSTOP);   // the connection stays up; nothing answers (a pause, a partition)
            try
            {
                // The renewal due 100 ms after the acquisition gets no answer; the lease ends 300 ms after it at the latest.
                // Before, it was lost only once the client gave the renewal up, after its 5 s operation timeout.
                Assert.True(l.LeaseLost.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the lease was never lost");
                Assert.True(paused.Elapsed < TimeSpan.FromSeconds(3), $"the 300 ms lease was lost {paused.Elapsed} after the server stopped answering");
                Assert.False(l.IsHeld);
            }
            finally { RedisServer.Signal(server.Pid, RedisServer.SIGCONT); }
            var e = Assert.Throws<LeaseLostException>(() => l.Release());
            Assert.Contains("not renewed within its lease time", e.Message);
        }
    }
}
