using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// When the client's interactive connection (the one that carries every command) comes back. The client fails a command
    /// at once while it is down (BacklogPolicy.FailFast: it queues nothing, so a command whose caller stopped waiting is
    /// never sent later behind its back); <see cref="RedisBackend"/> waits here for the connection, at most until the
    /// caller's deadline, and then sends the command again. A caller takes <see cref="Next"/> BEFORE it tries, so a
    /// connection restored between the failure and the wait is not missed.
    /// </summary>
    internal sealed class Reconnection
    {
        private TaskCompletionSource<bool> _next = New();

        public Reconnection(ConnectionMultiplexer mux) =>
            mux.ConnectionRestored += (_, e) => { if (e.ConnectionType == ConnectionType.Interactive) Interlocked.Exchange(ref _next, New()).TrySetResult(true); };

        /// <summary>Completed when the interactive connection is next (re)established.</summary>
        public Task Next => Volatile.Read(ref _next).Task;

        private static TaskCompletionSource<bool> New() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
