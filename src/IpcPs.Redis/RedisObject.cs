using System;
using System.Threading;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// Base of every Redis object handle: name, kind, backend, descriptor, and the one wait loop all blocking calls share.
    /// A handle holds nothing in Redis by being open (no reference counting: an object lives until Remove-IpcObject or
    /// <see cref="Unlink"/>); closing a handle releases what it holds (a lease) and ends its background renewals.
    /// </summary>
    public abstract class RedisObject : IIpcBackendObject
    {
        private volatile bool _closed;

        internal RedisObject(RedisBackend backend, string name, IpcObjectKind kind)
        {
            Backend = backend;
            Name = name;
            Kind = kind;
            Meta = RedisBackend.MetaKey(name);
        }

        public string Name { get; }
        public IpcObjectKind Kind { get; }
        public RedisBackend Backend { get; }

        IIpcBackend IIpcBackendObject.Backend => Backend;

        /// <summary>The backend's address without its password.</summary>
        public string Address => Backend.Address;

        public IpcBackendDescriptor Descriptor => new IpcBackendDescriptor(Backend.Address, Kind, Name);

        public bool IsClosed => _closed;

        internal RedisKey Meta { get; }

        internal RedisKey Key(string part) => RedisBackend.Key(Name, part);

        internal string Channel(string what) => Backend.Channel(Name, what);

        /// <summary>Runs a script on this object; WITHIN: the deadline of the call it is part of (RedisBackend.Eval).</summary>
        internal RedisResult Eval(string script, RedisKey[] keys, RedisValue[] args, string operation, bool write,
                                  Deadline? within = null, CancellationToken cancel = default, bool abandon = false)
        {
            ThrowIfClosed();
            return Backend.Eval(script, keys, args, operation, Name, write, within, cancel, PartTypes, abandon);
        }

        /// <summary>The Redis types the key of PART may hold ("": the meta hash), named when one holds another (KeyTypes).</summary>
        internal virtual string[] PartTypes(string part) => KeyTypes.Of(part);

        internal void ThrowIfClosed()
        {
            if (_closed) throw new ObjectDisposedException($"{Kind} '{Name}'");
        }

        /// <summary>How near its deadline a wait that slept without a wake-up counts as at it (a timer tick; see WaitUntil).</summary>
        private const int TimerSlackMs = 20;

        /// <summary>A step of a wait: True when done; else HINTMS, the longest to sleep before trying again without a wake-up (-1: until one).</summary>
        internal delegate bool WaitStep(out int hintMs);

        /// <summary>
        /// Runs STEP until it succeeds or DEADLINE passes, sleeping between tries until CHANNEL is published on (or the
        /// step's hint, for a state that changes by itself at a known time: a lease's or a delivery's expiry). A call that
        /// must not wait (a deadline already passed) makes one step and no subscription. Otherwise the wait watches CHANNEL
        /// from before its first step to its end (Notifier.Watch: subscribed while watched) and goes on as
        /// <see cref="WaitUntil(Notifier.Watcher, Deadline, CancellationToken, WaitStep)"/>.
        /// </summary>
        internal bool WaitUntil(string channel, Deadline deadline, CancellationToken cancel, WaitStep step)
        {
            if (deadline.HasPassed) return step(out _);
            using var watcher = Backend.Watch(channel, Name);
            return WaitUntil(watcher, deadline, cancel, step);
        }

        /// <summary>
        /// Runs STEP until it succeeds or DEADLINE passes, sleeping on WATCHER's channel between tries (at most the step's
        /// hint). The signal is taken before each step, so a wake-up between the step and the sleep is never missed. A
        /// step's commands are bounded by DEADLINE (they pass it to Eval): they wait for a lost connection no longer than
        /// the wait itself may last. A wait that sleeps to its deadline without a wake-up ends there, with no last step. So
        /// a wait ends by its deadline, or — when the server stops answering a step sent before it — within the operation
        /// timeout of that step's sending.
        /// </summary>
        internal bool WaitUntil(Notifier.Watcher watcher, Deadline deadline, CancellationToken cancel, WaitStep step)
        {
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                var signal = watcher.Signal;
                if (step(out int hint)) return true;
                if (deadline.HasPassed) return false;
                int ms = deadline.RemainingMilliseconds(-1);
                bool untilDeadline = hint < 0 || (ms >= 0 && ms <= hint);
                if (hint >= 0) ms = ms < 0 ? hint : Math.Min(ms, hint);
                bool woke = Notifier.Wait(signal, ms, cancel);
                ThrowIfClosed();
                // Slept to the deadline with no wake-up: nothing was published since the last step (its signal was taken
                // before it), so nothing changed that it did not see; no last step (a server that stopped answering would
                // hold it for the whole operation timeout past the deadline). Within a timer tick of it counts: a timed
                // wait of the runtime can end before the deadline (CI: 1,990 ms slept, the deadline 1 ms later, and the
                // last step then waited 5 s on a paused server; Windows' tick is ~15.6 ms). A sleep capped short of a
                // far deadline (int.MaxValue ms) goes on.
                if (!woke && untilDeadline && deadline.RemainingMilliseconds() <= TimerSlackMs) return false;
            }
        }

        /// <summary>Destroys the object in Redis (Remove-IpcObject): every handle on it, everywhere, finds it gone.</summary>
        public void Unlink() => Backend.Remove(Name);

        public void Dispose()
        {
            if (_closed) return;
            try { OnClose(); }
            finally { _closed = true; }
        }

        /// <summary>As Dispose: closes this handle, as a local object's Close() (Close-IpcObject); the object stays in Redis.</summary>
        public void Close() => Dispose();

        /// <summary>Releases what the handle holds (before it is marked closed).</summary>
        protected virtual void OnClose() { }

        /// <summary>
        /// What a method's blocking wait ($q.Get(), $e.Wait()…) waits with: the caller's pipeline interrupt (Ctrl+C ends the
        /// wait), read only when the call may block.
        /// </summary>
        internal static CancellationToken Interrupt(bool mayBlock) => mayBlock ? Core.IpcHost.CallerInterrupt : CancellationToken.None;

        internal static RedisValue[] Args(params RedisValue[] values) => values;

        internal static RedisKey[] Keys(params RedisKey[] keys) => keys;
    }
}
