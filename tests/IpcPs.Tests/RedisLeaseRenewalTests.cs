using System;
using System.Collections.Generic;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A lease's renewal never holds a thread-pool thread while it waits for Redis (Lease.Tick, RedisBackend.EvalAsync). On
    /// Linux every Redis reply is read on a pool thread; renewals that waited synchronously on timer (pool) threads took
    /// the few threads a 2-CPU machine's pool starts with, left none to read their replies, and the pool grows slowly:
    /// a process holding 8 locks lost every lease.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisLeaseRenewalTests : IClassFixture<RedisFixture>
    {
        private readonly RedisFixture _f;

        public RedisLeaseRenewalTests(RedisFixture f)
        {
            Assert.SkipUnless(RedisServer.Available, "redis-server is not installed (.ci/run installs Debian's redis-server).");
            _f = f;
        }

        [Fact]
        public void A_process_whose_pool_has_two_threads_keeps_eight_leases_renewed()
        {
            // The pool's minimum of a 2-CPU machine (the test program's own is raised: IpcPs.Tests.csproj), whatever this one has.
            var environment = new Dictionary<string, string> { ["DOTNET_ThreadPool_ForceMinWorkerThreads"] = "2" };
            string name = "t_" + Guid.NewGuid().ToString("N").Substring(0, 12);
            // 8 locks of 1 s leases held for 5 s: each renewed about 15 times, the 8 renewals due together.
            using var worker = new RedisWorkerProcess(environment, "hold-many", _f.Server!.Address, name, "8", "1000", "5000");
            Assert.Equal("held", worker.Next());
            Assert.Equal("lost 0", worker.Next());
            worker.WaitExit();
        }
    }
}
