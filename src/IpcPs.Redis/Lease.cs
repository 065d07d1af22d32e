using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// One held lease (a lock, or one semaphore permit) and its renewal. The lease is valid until LeaseTime after the last
    /// renewal that Redis confirmed, counted from when that renewal was SENT (monotonic clock), so this process never
    /// believes it holds a lease Redis has already expired (clock rates aside). A timer renews it every third of the lease;
    /// when a renewal is refused (the key is gone or names another holder) or the lease runs out without a confirmed
    /// renewal (the server unreachable, this process paused), the lease is lost: <see cref="Lost"/> is cancelled, and the
    /// owner's Release reports it (LeaseLostException). Never silently.
    /// </summary>
    internal sealed class Lease : IDisposable
    {
        private readonly RedisObject _owner;
        private readonly string _renewScript;
        private readonly RedisKey[] _keys;
        private readonly long _leaseTicks;
        private readonly CancellationTokenSource _lost = new CancellationTokenSource();
        private readonly Timer _timer;
        private readonly object _gate = new object();
        private long _validUntil, _lastSent;
        private bool _done;
        private bool _renewing;   // a renewal is sent and not answered: the next tick is the lease's end, not another renewal
        private string? _why;

        public Lease(RedisObject owner, string renewScript, RedisKey[] keys, string member, long token, TimeSpan leaseTime, long sentAt)
        {
            _owner = owner;
            _renewScript = renewScript;
            _keys = keys;
            Member = member;
            Token = token;
            LeaseTime = leaseTime;
            _leaseTicks = (long)(leaseTime.TotalSeconds * Stopwatch.Frequency);
            _lastSent = sentAt;
            _validUntil = sentAt + _leaseTicks;
            _timer = new Timer(_ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
            Schedule();
        }

        /// <summary>What Redis stores for this holder: "token:owner".</summary>
        public string Member { get; }
        public long Token { get; }
        public TimeSpan LeaseTime { get; }

        /// <summary>Cancelled when the lease is lost.</summary>
        public CancellationToken Lost => _lost.Token;

        public bool IsLost => _lost.IsCancellationRequested;

        /// <summary>Why it was lost (null while held).</summary>
        public string? Why { get { lock (_gate) return _why; } }

        public bool IsValid => !IsLost && Stopwatch.GetTimestamp() < Volatile.Read(ref _validUntil);

        private void Schedule()
        {
            lock (_gate)
            {
                if (_done) return;
                long now = Stopwatch.GetTimestamp();
                long next = _renewing ? _validUntil : Math.Min(_lastSent + _leaseTicks / 3, _validUntil);
                long ms = Math.Max(1, (next - now) * 1000 / Stopwatch.Frequency);
                _timer.Change(ms, Timeout.Infinite);
            }
        }

        /// <summary>
        /// The timer's tick: the lease has run out (lost), or a renewal is due and is sent without waiting for it
        /// (<see cref="RedisBackend.EvalAsync"/>: a tick never holds a pool thread, whose threads read Redis's replies);
        /// <see cref="Renewed"/> takes the answer and arms the next tick. One renewal at a time: while one is unanswered the
        /// timer is armed for the lease's end, so a lease whose renewal gets no answer (a server paused, a network cut) is
        /// lost when it runs out, not when the client gives the renewal up (the operation timeout, 5 s, may be far longer).
        /// </summary>
        private void Tick()
        {
            if (_done || IsLost) return;
            long now = Stopwatch.GetTimestamp();
            if (now >= Volatile.Read(ref _validUntil))
            {
                MarkLost("it was not renewed within its lease time (the server could not be reached in time, or this process was paused)");
                return;
            }
            bool due;
            lock (_gate)
            {
                due = !_renewing && now >= _lastSent + _leaseTicks / 3;   // else the lease's end, or the renewal, is not yet due
                if (due) _renewing = true;
            }
            Schedule();   // while the renewal is unanswered: at the lease's end
            if (!due) return;
            long sent = Stopwatch.GetTimestamp();
            Task<RedisResult> renewal;
            try
            {
                renewal = _owner.Backend.EvalAsync(_renewScript, _keys, new RedisValue[] { Member, (long)LeaseTime.TotalMilliseconds }, "Renew",
                                                   _owner.Name, write: true, types: _owner.PartTypes);
            }
            catch (Exception e) { renewal = Task.FromException<RedisResult>(e); }   // the connection closed
            // Not run inline (TaskScheduler.Default, no ExecuteSynchronously): a loss cancels Lost, whose callbacks are the
            // caller's, never on the client's reading thread.
            renewal.ContinueWith(t => Renewed(t, sent), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        /// <summary>Takes a renewal's outcome (sent at SENT) and arms the next tick.</summary>
        private void Renewed(Task<RedisResult> renewal, long sent)
        {
            lock (_gate) _renewing = false;
            if (_done || IsLost) return;
            RedisResult? reply = null;
            if (renewal.IsCompletedSuccessfully) reply = renewal.Result;
            else if (renewal.Exception?.InnerException is IpcObjectCorruptException e)   // a key of the object replaced by one of another type (WRONGTYPE)
            {
                MarkLost($"its renewal found the object damaged ({e.Message})");
                return;
            }
            if (reply is null)
            {
                // No answer (the server out of reach, or the client's: RedisBackend.Answered): the lease stays valid
                // until its time runs out; the next tick tries again, after a tenth of the lease.
                lock (_gate) _lastSent = sent - _leaseTicks / 3 + _leaseTicks / 10;
            }
            else
            {
                // The answer is untrusted (ScriptReply): 1 renewed, 0 not the holder; anything else is IpcObjectCorrupt,
                // and the lease is lost at once with that reason: Redis did not confirm it, and it is not a server out
                // of reach, to be tried again until the lease runs out (an InvalidCastException was taken for that).
                long ok = -1;
                IpcObjectCorruptException? damaged = null;
                try { ok = ScriptReply.Integer(reply, _owner, "Renew"); } catch (IpcObjectCorruptException e) { damaged = e; }
                if (damaged is null && ok != 0 && ok != 1)
                    damaged = new IpcObjectCorruptException(_owner.Name, _owner.Address, $"Redis's answer to Renew ({ok}) is not one it can give");
                if (damaged != null)
                {
                    MarkLost($"its renewal found the object damaged ({damaged.Message})");
                    return;
                }
                if (ok == 0)
                {
                    MarkLost("Redis no longer names it the holder (it expired, or the object was removed)");
                    return;
                }
                lock (_gate) { _lastSent = sent; Volatile.Write(ref _validUntil, sent + _leaseTicks); }
            }
            Schedule();
        }

        public void MarkLost(string why)
        {
            lock (_gate)
            {
                if (_why != null) return;
                _why = why;
                if (!_done) _timer.Change(Timeout.Infinite, Timeout.Infinite);   // done: stopped already, perhaps disposed (a renewal answered after the release)
                _done = true;
            }
            try { _lost.Cancel(); } catch (AggregateException) { }   // a watcher's callback that throws must not end the timer thread
        }

        /// <summary>Stops renewing (released).</summary>
        public void Dispose()
        {
            lock (_gate)
            {
                _done = true;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
            _timer.Dispose();
        }
    }
}
