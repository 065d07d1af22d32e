using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Who may be in the handshake, and for how long (docs/design.md, "Managers", "Slots and throttling"). Each
    /// connection in the handshake holds a thread, so their number is capped; the accept loop never waits for a slot
    /// (a client with the key must not queue behind a flood in the listen backlog):
    /// <list type="bullet">
    /// <item>128 main slots, 10 s for the whole handshake;</item>
    /// <item>when they are full, 16 reserve slots with 2 s (a client with the key needs one round trip); when those are
    /// full too, the oldest connection in the reserve is dropped for the new one. Silent connections can therefore
    /// hold the main slots, but never keep a newcomer out: it gets a reserve slot, and loses it only if 16 more
    /// connections arrive before it answers.</item>
    /// </list>
    /// Failed handshakes (a well-formed answer with a wrong proof: a guess of the key) are throttled per remote
    /// address: after <see cref="FreeFailures"/> of them, a new connection from that address waits before its hello,
    /// 250 ms doubling per further failure up to 8 s, counted from the last failure; a failure record is forgotten
    /// after 10 minutes without failures. At most 4 connections per address and 32 in all may wait; more are closed
    /// at once. Other addresses are never held up. Unix-socket peers are not throttled: only this user (or root) can
    /// reach the socket. Thread-safe.
    /// </summary>
    internal sealed class HandshakeGate
    {
        public const int MainSlots = 128;
        public const int ReserveSlots = 16;
        public static readonly TimeSpan MainDeadline = TimeSpan.FromSeconds(10);
        public static readonly TimeSpan ReserveDeadline = TimeSpan.FromSeconds(2);

        public const int FreeFailures = 3;
        private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
        private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(8);
        private static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(10);
        private const int MaxWaitingPerAddress = 4;
        private const int MaxWaiting = 32;
        private const int MaxRecords = 4096;

        private readonly object _gate = new object();
        private readonly LinkedList<Slot> _reserve = new LinkedList<Slot>();   // oldest first
        private int _main;
        private int _waiting;
        private readonly Dictionary<string, Record> _records = new Dictionary<string, Record>(StringComparer.Ordinal);

        private sealed class Record
        {
            public int Failures;
            public long LastFailure;   // Stopwatch ticks
            public int Waiting;
        }

        /// <summary>A connection's place in the handshake; <see cref="Leave"/> gives it back (once).</summary>
        public sealed class Slot
        {
            internal Slot(Action evict, bool reserve) { Evict = evict; IsReserve = reserve; }
            internal Action Evict { get; }
            internal LinkedListNode<Slot>? Node { get; set; }
            internal bool Left { get; set; }
            public bool IsReserve { get; }
            public TimeSpan Deadline => IsReserve ? ReserveDeadline : MainDeadline;
        }

        /// <summary>How many connections are in the handshake (main, reserve), for tests and diagnostics.</summary>
        public (int Main, int Reserve) InHandshake { get { lock (_gate) return (_main, _reserve.Count); } }

        /// <summary>
        /// A slot for a new connection; EVICT closes it if a newer one takes its reserve slot. Never refuses: with
        /// every slot taken, the oldest reserve holder is evicted (outside the lock).
        /// </summary>
        public Slot Admit(Action evict)
        {
            Slot? victim = null;
            Slot slot;
            lock (_gate)
            {
                if (_main < MainSlots)
                {
                    _main++;
                    return new Slot(evict, reserve: false);
                }
                if (_reserve.Count >= ReserveSlots)
                {
                    victim = _reserve.First!.Value;
                    _reserve.RemoveFirst();
                    victim.Node = null;
                    victim.Left = true;
                }
                slot = new Slot(evict, reserve: true);
                slot.Node = _reserve.AddLast(slot);
            }
            if (victim != null) try { victim.Evict(); } catch (Exception) { /* the socket was closed already */ }
            return slot;
        }

        public void Leave(Slot slot)
        {
            lock (_gate)
            {
                if (slot.Left) return;
                slot.Left = true;
                if (slot.IsReserve) { if (slot.Node != null) _reserve.Remove(slot.Node); slot.Node = null; }
                else _main--;
            }
        }

        /// <summary>
        /// How long a new connection from ADDRESS must wait before its handshake (zero: at once), or null when it
        /// must be closed at once (too many waiting). A non-null, non-zero answer reserves a waiting place: the
        /// caller gives it back with <see cref="DoneWaiting"/>.
        /// </summary>
        public TimeSpan? WaitFor(string? address)
        {
            if (address is null) return TimeSpan.Zero;
            lock (_gate)
            {
                if (!_records.TryGetValue(address, out var r) || r.Failures < FreeFailures) return TimeSpan.Zero;
                long now = Stopwatch.GetTimestamp();
                if (Elapsed(r.LastFailure, now) > ForgetAfter) { _records.Remove(address); return TimeSpan.Zero; }
                var wait = Delay(r.Failures) - Elapsed(r.LastFailure, now);
                if (wait <= TimeSpan.Zero) return TimeSpan.Zero;
                if (r.Waiting >= MaxWaitingPerAddress || _waiting >= MaxWaiting) return null;
                r.Waiting++;
                _waiting++;
                return wait;
            }
        }

        public void DoneWaiting(string address)
        {
            lock (_gate)
            {
                _waiting--;
                if (_records.TryGetValue(address, out var r)) r.Waiting--;
            }
        }

        /// <summary>The failures held against ADDRESS now (tests).</summary>
        internal int FailuresOf(string address)
        {
            lock (_gate) return _records.TryGetValue(address, out var r) ? r.Failures : 0;
        }

        /// <summary>A wrong key from ADDRESS (null: a Unix-socket peer, not counted).</summary>
        public void Failed(string? address)
        {
            if (address is null) return;
            lock (_gate)
            {
                long now = Stopwatch.GetTimestamp();
                if (!_records.TryGetValue(address, out var r))
                {
                    if (_records.Count >= MaxRecords) Prune(now);
                    _records[address] = r = new Record();
                }
                else if (Elapsed(r.LastFailure, now) > ForgetAfter) r.Failures = 0;
                r.Failures++;
                r.LastFailure = now;
            }
        }

        /// <summary>The wait after N failures: none below <see cref="FreeFailures"/>, then 250 ms doubling per failure, at most 8 s.</summary>
        public static TimeSpan Delay(int failures)
        {
            if (failures < FreeFailures) return TimeSpan.Zero;
            int doublings = Math.Min(failures - FreeFailures, 10);
            var d = TimeSpan.FromTicks(FirstDelay.Ticks << doublings);
            return d > MaxDelay ? MaxDelay : d;
        }

        // The table is bounded: forgotten records go first, then the one whose last failure is oldest (addresses
        // sprayed to fill the table cost their sender its own records first).
        private void Prune(long now)
        {
            var stale = new List<string>();
            foreach (var e in _records) if (Elapsed(e.Value.LastFailure, now) > ForgetAfter && e.Value.Waiting == 0) stale.Add(e.Key);
            foreach (var k in stale) _records.Remove(k);
            if (_records.Count < MaxRecords) return;
            string? oldest = null;
            long oldestTicks = long.MaxValue;
            foreach (var e in _records)
                if (e.Value.Waiting == 0 && e.Value.LastFailure < oldestTicks) { oldest = e.Key; oldestTicks = e.Value.LastFailure; }
            if (oldest != null) _records.Remove(oldest);
        }

        private static TimeSpan Elapsed(long from, long to) =>
            TimeSpan.FromTicks((long)((to - from) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
    }
}
