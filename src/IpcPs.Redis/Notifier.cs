using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// Wake-ups through Redis pub/sub. A waiter takes the channel's current <see cref="Signal"/> BEFORE it checks the state
    /// in Redis; a change publishes on the channel after it is applied (inside the same script), and every message
    /// completes the signal the waiter holds — so a change between the check and the wait is never missed, and waits never
    /// poll. A message lost while the subscription connection was down is made up for: when it is restored, every channel
    /// is signalled and its waiters check again. A channel is subscribed on first use (one round trip, before the first
    /// check) and stays subscribed until the backend closes. Its handler is registered with the client once, whatever the
    /// outcome of that round trip: the client subscribes every registered channel whenever the subscription connection is
    /// (re)established, so a first use while it is down goes on (the restore signals the channel) instead of waiting.
    /// </summary>
    internal sealed class Notifier
    {
        private readonly ConnectionMultiplexer _mux;
        private readonly ISubscriber _sub;
        private readonly ConcurrentDictionary<string, Channel> _channels = new ConcurrentDictionary<string, Channel>(StringComparer.Ordinal);
        private readonly object _subscribeGate = new object();

        public Notifier(ConnectionMultiplexer mux)
        {
            _mux = mux;
            _sub = mux.GetSubscriber();
            mux.ConnectionRestored += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) SignalAll(); };
            mux.ConnectionFailed += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) SignalAll(); };
        }

        /// <summary>The signal of CHANNEL as it is now: completed by the next message on it (subscribing first if needed).</summary>
        public Task Signal(string channel)
        {
            var c = _channels.GetOrAdd(channel, n => new Channel());
            if (!c.Subscribed)
            {
                lock (_subscribeGate)
                {
                    if (!c.Subscribed)
                    {
                        try { _sub.Subscribe(RedisChannel.Literal(channel), (_, __) => c.Fire(), CommandFlags.None); }
                        catch (RedisConnectionException e) when (RedisErrors.NotSent(e)) { }   // down: subscribed when it is back
                        finally { c.Subscribed = true; }   // the handler is registered whatever the outcome: never a second one
                    }
                }
            }
            return c.Current;
        }

        private void SignalAll()
        {
            foreach (var c in _channels.Values) c.Fire();
        }

        /// <summary>
        /// Waits for SIGNAL at most MILLISECONDS (-1: no limit). False when the time passed. OperationCanceledException
        /// when CANCEL fires.
        /// </summary>
        public static bool Wait(Task signal, int milliseconds, CancellationToken cancel)
        {
            try { return signal.Wait(milliseconds, cancel); }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException oce) { throw oce; }
        }

        private sealed class Channel
        {
            private TaskCompletionSource<bool> _next = New();
            public volatile bool Subscribed;

            public Task Current => Volatile.Read(ref _next).Task;

            public void Fire() => Interlocked.Exchange(ref _next, New()).TrySetResult(true);

            private static TaskCompletionSource<bool> New() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
