using System;
using System.Diagnostics;
using IpcPs.Redis;
using StackExchange.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A lease's renewal reads Redis's answer as untrusted (ScriptReply): an answer no renewal script gives is the object
    /// damaged, and the lease is lost at once for that reason; it was read with a cast whose InvalidCastException the
    /// renewal took for a server out of reach (tried again until the lease ran out, then "not renewed within its lease
    /// time"), and an integer other than 0 and 1 for "no longer the holder".
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisLeaseReplyTests : RedisTestBase
    {
        public RedisLeaseReplyTests(RedisFixture f) : base(f) { }

        [Theory]
        [InlineData("return 'x'")]
        [InlineData("return nil")]
        [InlineData("return {1}")]
        [InlineData("return 7")]
        public void A_renewal_answer_no_renew_script_gives_loses_the_lease_at_once_as_the_object_damaged(string renewScript)
        {
            using var owner = B.Lock(NewName());
            try
            {
                // A lease of 3 s is renewed after 1 s: that renewal gets the answer.
                using var lease = new Lease(owner, renewScript, new RedisKey[] { owner.Meta, owner.Key("h") }, "1:test", 1, TimeSpan.FromSeconds(3), Stopwatch.GetTimestamp());
                Assert.True(lease.Lost.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the lease was never lost");
                string why = lease.Why ?? "";
                Assert.Contains("its renewal found the object damaged", why);
                Assert.Contains($"The object '{owner.Name}' at {owner.Address} is damaged: Redis's answer to Renew", why);
            }
            finally { owner.Unlink(); }
        }
    }
}
