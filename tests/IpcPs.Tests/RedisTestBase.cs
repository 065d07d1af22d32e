using System;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// What every Redis test class on the shared server (<see cref="RedisFixture"/>, one per derived class) begins with:
    /// its tests skip where redis-server is not installed, and have the fixture's backend, its database and fresh names.
    /// </summary>
    public abstract class RedisTestBase : IClassFixture<RedisFixture>
    {
        private readonly string _prefix;

        /// <summary>PREFIX starts every name <see cref="NewName"/> makes (a class's own tells its keys apart).</summary>
        protected RedisTestBase(RedisFixture fixture, string prefix = "t_")
        {
            SkipUnlessInstalled();
            Fixture = fixture;
            _prefix = prefix;
        }

        /// <summary>Skips the running test (xunit v3's dynamic skip; from a constructor, every test of the class) where
        /// redis-server is not installed.</summary>
        public static void SkipUnlessInstalled() =>
            Assert.SkipUnless(RedisServer.Available, "redis-server is not installed (.ci/run installs Debian's redis-server).");

        protected RedisFixture Fixture { get; }
        protected RedisBackend B => Fixture.Backend!;
        protected IDatabase Db => B.Database;
        protected string Address => Fixture.Server!.Address;

        /// <summary>A fresh object name: the prefix and 12 random hex digits.</summary>
        protected string NewName() => _prefix + Guid.NewGuid().ToString("N").Substring(0, 12);
    }
}
