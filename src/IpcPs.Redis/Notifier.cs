using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// Wake-ups through Redis pub/sub. A waiter takes the channel's current <see cref="Watcher.Signal"/> BEFORE it checks
    /// the state in Redis; a change publishes on the channel after it is applied (inside the same script), and every
    /// message completes the signal the waiter holds — so a change between the check and the wait is never missed, and
    /// waits never poll. A message lost while the subscription connection was down is made up for: when it is restored,
    /// every watched channel is signalled and its waiters check again, and once more when the server has the
    /// resubscriptions (<see cref="Restored"/>).
    /// <para>
    /// A channel is subscribed while a wait watches it (<see cref="Watch"/>: one round trip before the wait's first check,
    /// unless it is subscribed already) and for <see cref="Linger"/> after its last watcher left, then unsubscribed (sent,
    /// not waited for): the next wait of a loop on one object finds it subscribed, and a process that waits on ever new
    /// objects keeps no channel it no longer waits on; a reconnection resubscribes only the channels kept (the client
    /// resubscribes what is registered with it). Invariant: an entry's watcher count and its registration with the client
    /// change only under the entry's lock; an entry is registered from its first watcher on, and is unregistered only
    /// with no watcher, in the one locked step that also takes it out of the table — it is then retired, never watched
    /// again (a later watcher makes a new entry and subscribes it anew, after the unsubscription was handed to the
    /// client: the subscription connection sends them in that order). So whatever threads do at once, every live
    /// watcher's channel is registered: a waiter never sleeps on a channel unsubscribed under it. A registration is kept
    /// whatever the outcome of its subscribing round trip when the connection is down (the client subscribes it when the
    /// connection is back, and that restore signals it), so a wait goes on then instead of failing.
    /// </para>
    /// </summary>
    internal sealed class Notifier
    {
        /// <summary>How long a channel stays subscribed after its last watcher left (see <see cref="Linger"/>).</summary>
        public static readonly TimeSpan DefaultLinger = TimeSpan.FromSeconds(1);

        private readonly ISubscriber _sub;
        private readonly ConcurrentDictionary<string, Channel> _channels = new ConcurrentDictionary<string, Channel>(StringComparer.Ordinal);
        private readonly Timer _sweeper;
        private int _sweepArmed;   // 1 while a sweep is due: a channel that goes idle meanwhile is seen by it

        public Notifier(ConnectionMultiplexer mux)
        {
            _sub = mux.GetSubscriber();
            _sweeper = new Timer(_ => Sweep(), null, Timeout.Infinite, Timeout.Infinite);
            mux.ConnectionRestored += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) Restored(); };
            mux.ConnectionFailed += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) SignalAll(); };
        }

        /// <summary>
        /// How long a channel no wait watches stays subscribed (and then at most as long again, the sweeps' period): a loop
        /// of waits on one object subscribes once, not once a wait. Tests set 0.
        /// </summary>
        internal TimeSpan Linger { get; set; } = DefaultLinger;

        /// <summary>
        /// Watches CHANNEL until the watcher is disposed: subscribed (by this call, when it is the first watcher) before this
        /// returns. Redis errors of the subscribing round trip, but a connection that is down, are thrown (nothing watched).
        /// </summary>
        public Watcher Watch(string channel)
        {
            while (true)
            {
                var c = _channels.GetOrAdd(channel, n => new Channel(n));
                lock (c)
                {
                    if (c.Retired) continue;   // unsubscribed meanwhile and out of the table: watch its successor
                    if (!c.Registered) Subscribe(c);
                    c.Watchers++;
                    return new Watcher(this, c);
                }
            }
        }

        /// <summary>Registers C's handler with the client and subscribes it (under C's lock, C new: not yet watched).</summary>
        private void Subscribe(Channel c)
        {
            try { RedisBackend.Wait(_sub.SubscribeAsync(RedisChannel.Literal(c.Name), c.Handler, CommandFlags.None)); }   // never the client's sync API (RedisBackend.Call)
            catch (RedisConnectionException e) when (RedisErrors.NotSent(e)) { }   // down: registered, subscribed when it is back
            catch
            {
                Retire(c);   // no watcher holds it: unregistered, as if it had never been watched
                throw;
            }
            c.Registered = true;
        }

        /// <summary>Ends a watcher of C; after the last one, C lingers (a sweep unsubscribes it).</summary>
        private void Leave(Channel c)
        {
            lock (c)
            {
                if (--c.Watchers > 0) return;
                c.IdleSince = Environment.TickCount64;
            }
            ArmSweep();
        }

        private void ArmSweep()
        {
            if (Interlocked.Exchange(ref _sweepArmed, 1) == 0) _sweeper.Change(Linger, Timeout.InfiniteTimeSpan);
        }

        /// <summary>Unsubscribes the channels idle for <see cref="Linger"/>; comes again while some are idle for less.</summary>
        private void Sweep()
        {
            Volatile.Write(ref _sweepArmed, 0);   // before looking: a channel idle from now on arms the next sweep itself
            long now = Environment.TickCount64, linger = (long)Linger.TotalMilliseconds;
            bool lingering = false;
            foreach (var c in _channels.Values)
            {
                lock (c)
                {
                    if (c.Retired || !c.Registered || c.Watchers > 0) continue;
                    if (now - c.IdleSince >= linger) Retire(c);
                    else lingering = true;
                }
            }
            if (lingering) ArmSweep();
        }

        /// <summary>
        /// Unregisters C from the client (at once: the client stops resubscribing it) and sends its UNSUBSCRIBE without
        /// waiting for it, then takes C out of the table (under C's lock, C watched by no one). Never throws: a connection
        /// that is down or closed has no subscription left to end.
        /// </summary>
        private void Retire(Channel c)
        {
            c.Retired = true;
            try
            {
                _sub.UnsubscribeAsync(RedisChannel.Literal(c.Name), c.Handler, CommandFlags.None)
                    .ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
            catch (Exception e) when (e is RedisException || e is ObjectDisposedException) { }
            finally { _channels.TryRemove(new KeyValuePair<string, Channel>(c.Name, c)); }
        }

        /// <summary>
        /// The subscription connection is back. The client tells so once it has SENT its resubscriptions, not when the server
        /// has them: a change published in between reached no one, and a waiter that checked at the first signal slept past
        /// it. So every channel is signalled now (for what was lost while it was down) and again when a PING sent on the
        /// subscription connection after the resubscriptions is answered — in order, so after the server has them: a check
        /// from then on either sees a change or is woken by its publish. Continued, never waited for (a pool thread).
        /// </summary>
        private void Restored()
        {
            SignalAll();
            try
            {
                _sub.PingAsync().ContinueWith(t => { _ = t.Exception; SignalAll(); }, CancellationToken.None,
                                              TaskContinuationOptions.None, TaskScheduler.Default);
            }
            catch (Exception e) when (e is RedisException || e is ObjectDisposedException) { SignalAll(); }
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

        /// <summary>One wait's hold on a channel (<see cref="Watch"/>): disposing it ends the hold, once.</summary>
        internal sealed class Watcher : IDisposable
        {
            private Notifier? _notifier;
            private readonly Channel _channel;

            internal Watcher(Notifier notifier, Channel channel)
            {
                _notifier = notifier;
                _channel = channel;
            }

            /// <summary>The signal of the channel as it is now: completed by the next message on it.</summary>
            public Task Signal => _channel.Current;

            public void Dispose() => Interlocked.Exchange(ref _notifier, null)?.Leave(_channel);
        }

        /// <summary>A channel's entry: its signal, its handler (registered with the client from its first watcher on) and its watchers.</summary>
        internal sealed class Channel
        {
            private TaskCompletionSource<bool> _next = New();

            public Channel(string name)
            {
                Name = name;
                Handler = (_, __) => Fire();
            }

            public string Name { get; }
            public Action<RedisChannel, RedisValue> Handler { get; }

            /// <summary>
            /// Under the entry's lock: the watchers holding it, whether its handler is registered, since when it has had no
            /// watcher (Environment.TickCount64), and whether it is retired (unregistered, out of the table: never watched again).
            /// </summary>
            public int Watchers;
            public bool Registered;
            public long IdleSince;
            public bool Retired;

            public Task Current => Volatile.Read(ref _next).Task;

            public void Fire() => Interlocked.Exchange(ref _next, New()).TrySetResult(true);

            private static TaskCompletionSource<bool> New() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
