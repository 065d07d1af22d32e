using System;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The client's reconnection tries: however long the server has been away, the next try comes within half the smaller
    /// timeout, so a command that waits for the connection (at most the operation timeout) sees a restarted server.
    /// </summary>
    public sealed class RedisReconnectPolicyTests
    {
        [Theory]
        [InlineData(5, 5)]
        [InlineData(20, 5)]
        [InlineData(1, 5)]
        public void After_any_number_of_tries_the_next_comes_within_half_the_smaller_timeout(int connectSeconds, int operationSeconds)
        {
            var options = RedisAddress.Parse("redis://127.0.0.1:6379").Options(TimeSpan.FromSeconds(connectSeconds), TimeSpan.FromSeconds(operationSeconds), null);
            int half = (int)(Math.Min(connectSeconds, operationSeconds) * 1000 / 2);
            foreach (long tries in new long[] { 0, 1, 10, 30, 100, 1000 })
                for (int sample = 0; sample < 200; sample++)   // the policy draws its interval at random
                    Assert.True(options.ReconnectRetryPolicy!.ShouldRetry(tries, half), $"after {tries} tries, {half} ms since the last was not enough for the next");
        }

        [Fact]
        public void The_tries_are_not_made_back_to_back()
        {
            var options = RedisAddress.Parse("redis://127.0.0.1:6379").Options(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), null);
            Assert.False(options.ReconnectRetryPolicy!.ShouldRetry(0, 500));   // a fifth of 5 s is 1 s
        }
    }
}
