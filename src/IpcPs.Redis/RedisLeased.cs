using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// What a lock and a semaphore share: acquiring a lease (waiting for a release notification, or for the current lease's
    /// expiry, which Redis told us), its background renewal, the fencing token, and a Release that reports a lost lease.
    /// Each handle has its own owner id (16 random hex digits and the pid); only the handle that took a lease can release it.
    /// </summary>
    public abstract class RedisLeased : RedisObject, ILockable
    {
        private readonly string _acquire, _renew, _release;
        private readonly RedisKey[] _keys;
        private readonly string _releaseChannel;
        private readonly string _ownerId;
        private readonly List<Lease> _held = new List<Lease>();   // oldest first
        private long _lastToken;

        internal RedisLeased(RedisBackend backend, string name, IpcObjectKind kind, MetaReader meta, string holderPart,
                             string acquire, string renew, string release)
            : base(backend, name, kind)
        {
            LeaseTime = TimeSpan.FromMilliseconds(meta.Long("lease", 100, MaxLeaseMs));
            _keys = new[] { Meta, Key(holderPart) };
            _acquire = acquire;
            _renew = renew;
            _release = release;
            _releaseChannel = Channel("rel");
            var id = new byte[8];
            RandomNumberGenerator.Fill(id);
            _ownerId = Convert.ToHexString(id).ToLowerInvariant() + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>The longest lease (a day): the scripts report a holder that expires much later as damage (LockScripts).</summary>
        internal const long MaxLeaseMs = 86_400_000;

        internal static KeyValuePair<string, string> LeaseField(IpcBackendOptions o)
        {
            if (o.LeaseTime < TimeSpan.FromMilliseconds(100) || o.LeaseTime > TimeSpan.FromMilliseconds(MaxLeaseMs))
                throw new ArgumentOutOfRangeException(nameof(o.LeaseTime), "A lease lasts 100 ms to one day.");
            return RedisQueue.Field("lease", (long)o.LeaseTime.TotalMilliseconds);
        }

        /// <summary>How long a lease lasts without renewal (renewed every third of it while held).</summary>
        public TimeSpan LeaseTime { get; }

        /// <summary>
        /// The fencing token of this handle's latest acquisition: strictly larger than every token given before it for this
        /// object, on any machine. Pass it to whatever the lock protects, which refuses a token lower than one it has seen.
        /// </summary>
        public long Token => Interlocked.Read(ref _lastToken);

        /// <summary>Cancelled when the latest lease this handle holds is lost (cancelled already when it holds none).</summary>
        public CancellationToken LeaseLost
        {
            get { lock (_held) return _held.Count > 0 ? _held[_held.Count - 1].Lost : new CancellationToken(true); }
        }

        /// <summary>True while this handle holds a lease that has not run out.</summary>
        public bool IsHeld
        {
            get { lock (_held) return _held.Exists(l => l.IsValid); }
        }

        public bool Acquire() => this.AcquirePython(true, double.PositiveInfinity);
        public bool Acquire(bool block) => this.AcquirePython(block, double.PositiveInfinity);
        public bool Acquire(bool block, double timeoutSeconds) => this.AcquirePython(block, timeoutSeconds);

        /// <summary>
        /// Takes a lease, waiting at most TIMEOUT: woken by a release, or when the current lease runs out. Abandoned: taken
        /// from a holder whose lease ran out without a release (it died, stalled, or was cut off).
        /// </summary>
        public LockAcquisition TryAcquire(TimeSpan timeout, CancellationToken cancel)
        {
            var deadline = Deadline.After(timeout);
            var result = LockAcquisition.TimedOut;
            var args = Args(_ownerId, (long)LeaseTime.TotalMilliseconds);
            WaitUntil(_releaseChannel, deadline, cancel, (out int hint) =>
            {
                long sent = Stopwatch.GetTimestamp();
                var r = ScriptReply.Integers(Eval(_acquire, _keys, args, "Acquire", write: true, deadline, cancel), 2, this, "Acquire");
                long status = r[0], value = r[1];
                // Held: VALUE is when the lease runs out, the longest this step sleeps (never "until a release": LockScripts).
                if (status < 0 || status > 2 || status == 0 && value < 0) throw new IpcObjectCorruptException(Name, Address, "Redis's answer to Acquire is not one it can give");
                if (status == 0)
                {
                    hint = (int)Math.Min(value + 2, int.MaxValue);
                    return false;
                }
                hint = -1;
                if (value <= 0) throw new IpcObjectCorruptException(Name, Address, "Redis gave a fencing token that is not positive");
                var lease = new Lease(this, _renew, _keys, value.ToString(CultureInfo.InvariantCulture) + ":" + _ownerId, value, LeaseTime, sent);
                lock (_held) _held.Add(lease);
                Interlocked.Exchange(ref _lastToken, value);
                result = status == 2 ? LockAcquisition.Abandoned : LockAcquisition.Acquired;
                return true;
            });
            return result;
        }

        /// <summary>
        /// Gives back this handle's oldest lease. LeaseLostException when it was lost meanwhile (another holder may have
        /// had it since): whatever was done under it was not protected to the end. IpcSyncStateException when the handle
        /// holds none, as a local lock not held or a semaphore released too often (Exit-IpcLock: IpcInvalidSyncState).
        /// </summary>
        public void Release()
        {
            Lease lease;
            lock (_held)
            {
                if (_held.Count == 0)
                    throw new IpcSyncStateException(Name, $"Cannot release the {Kind} '{Name}' at {Address}: this handle holds no lease of it (only the handle that acquired a lease can release it).");
                lease = _held[0];
                _held.RemoveAt(0);
            }
            lease.Dispose();
            bool lostBefore = lease.IsLost || !lease.IsValid;
            long ok;
            try { ok = ScriptReply.Integer(Eval(_release, _keys, Args(lease.Member, _releaseChannel), "Release", write: true), this, "Release"); }
            catch (IpcBackendOutcomeUnknownException) when (lostBefore) { ok = 0; }
            if (ok != 1 || lostBefore)
            {
                string why = lease.Why ?? (lostBefore ? "its lease ran out before the release" : "Redis no longer named it the holder: its lease had run out");
                lease.MarkLost(why);
                throw new LeaseLostException(Name, Kind.ToString(), lease.Token, why);
            }
        }

        /// <summary>Closing a handle releases what it holds (errors of lost leases are dropped: nobody is there to hear).</summary>
        protected override void OnClose()
        {
            while (true)
            {
                lock (_held) if (_held.Count == 0) return;
                try { Release(); } catch (IpcException) { }
            }
        }
    }
}
