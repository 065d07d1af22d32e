using System;
using System.Threading;
using IpcPs.Core.Sync;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A lease, event or barrier whose keys were damaged by hand (or by another program) is reported, never waited on: an
    /// acquire or wait with no timeout fails with IpcObjectCorrupt naming the key or field, where it waited forever (a lock's
    /// holder key of another type, not in the holder's form, or without expiry; a semaphore's permits 0; an event's
    /// generation that its Set refuses; a barrier's parties raised). Each operation runs on a task, bounded at 30 s, and is
    /// cancelled if it is still waiting then. A lock's Release never makes the meta hash again: one deleted by hand left a
    /// hash holding only 'last', which no later New-* of the name could replace. Every key of the object, read with raw
    /// commands (value and expiry), is compared before and after.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisLockDamageTests : RedisTestBase
    {
        private const string Holder = "1:0123456789abcdef-4242";   // "token:owner", as RedisLeased writes it

        public RedisLockDamageTests(RedisFixture f) : base(f, "ld_") { }

        [Theory]
        [InlineData("hash", "is a hash, not the string IpcPs keeps there")]   // no expiry: it answered "held, until a release"
        [InlineData("hash, expiring", "is a hash, not the string IpcPs keeps there")]   // its type, whatever its expiry
        [InlineData("text, expiring", "does not hold a holder in the form IpcPs writes (token:owner)")]   // no holder renews or releases it
        [InlineData("holder without expiry", "has no expiry, which every lease IpcPs grants has")]   // PERSIST, or a copy without its TTL
        [InlineData("holder for 10 days", "expires more than two days from now")]   // past any lease IpcPs grants (a day)
        public void A_lock_whose_holder_key_is_damaged_is_reported_by_Acquire_and_IsLocked_not_waited_on(string damage, string message)
        {
            using var l = B.Lock(NewName());
            var h = RedisBackend.Key(l.Name, "h");
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(l.Name), "fence", "1", "last", "held");   // as after a grant of token 1
                switch (damage)
                {
                    case "hash": RedisRaw.Command(Db, "HSET", h, "a", "b"); break;
                    case "hash, expiring": RedisRaw.Command(Db, "HSET", h, "a", "b"); RedisRaw.Command(Db, "PEXPIRE", h, "3600000"); break;
                    case "text, expiring": RedisRaw.Command(Db, "SET", h, "x", "PX", "3600000"); break;
                    case "holder without expiry": RedisRaw.Command(Db, "SET", h, Holder); break;
                    case "holder for 10 days": RedisRaw.Command(Db, "SET", h, Holder, "PX", "864000000"); break;
                }
                string what = $"its key '{h}' in Redis {message}";
                RedisRaw.AssertCorruptAndUnchanged(Db, l.Name, stop => l.TryAcquire(Timeout.InfiniteTimeSpan, stop), what);
                RedisRaw.AssertCorruptAndUnchanged(Db, l.Name, stop => l.TryAcquire(TimeSpan.FromSeconds(5), stop), what);   // not TimedOut
                RedisRaw.AssertCorruptAndUnchanged(Db, l.Name, _ => GC.KeepAlive(l.IsLocked), what);
                Assert.False(l.IsHeld);
            }
            finally { B.Remove(l.Name); }
        }

        [Fact]
        public void A_lock_Release_whose_meta_key_was_deleted_writes_nothing_and_reports_the_object_gone()
        {
            string name = NewName();
            var options = new IpcBackendOptions { LeaseTime = TimeSpan.FromDays(1) };   // no renewal between the snapshots
            using var l = B.Lock(name, options);
            try
            {
                Assert.Equal(LockAcquisition.Acquired, l.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                RedisRaw.Command(Db, "DEL", RedisBackend.MetaKey(name));   // the object removed behind IpcPs's back; its holder key left
                string before = RedisRaw.Snapshot(Db, name);
                Assert.Throws<IpcObjectNotFoundException>(() => l.Release());
                Assert.Equal(before, RedisRaw.Snapshot(Db, name));
                // No meta hash of a Release's making stands in the way: the name makes a new, free lock.
                using var again = B.Lock(name, options);
                Assert.Equal(LockAcquisition.Acquired, again.TryAcquire(TimeSpan.Zero, CancellationToken.None));
                again.Release();
            }
            finally { B.Remove(name); }
        }

        [Theory]
        [InlineData("0")]    // ZCARD >= 0 with no permit to wait for: it answered "unknown expiry" and waited forever
        [InlineData("-1")]
        public void A_semaphore_whose_permits_field_is_out_of_range_is_reported_by_Acquire(string permits)
        {
            using var s = B.Semaphore(NewName(), new IpcBackendOptions { InitialCount = 2 });
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(s.Name), "permits", permits);
                RedisRaw.AssertCorruptAndUnchanged(Db, s.Name, stop => s.TryAcquire(Timeout.InfiniteTimeSpan, stop),
                                                   "its field 'permits' in Redis is out of range (1 to 1000000)");
            }
            finally { B.Remove(s.Name); }
        }

        [Fact]
        public void A_semaphore_permit_that_expires_past_any_lease_is_reported_by_Acquire()
        {
            using var s = B.Semaphore(NewName(), new IpcBackendOptions { InitialCount = 1 });
            var key = RedisBackend.Key(s.Name, "s");
            try
            {
                // A permit whose expiry (its score, server milliseconds) is some 30,000 years ahead: it waited for it.
                RedisRaw.Command(Db, "ZADD", key, "1000000000000000", Holder);
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(s.Name), "fence", "1");
                RedisRaw.AssertCorruptAndUnchanged(Db, s.Name, stop => s.TryAcquire(Timeout.InfiniteTimeSpan, stop),
                                                   $"its key '{key}' in Redis holds a permit that expires more than two days from now");
            }
            finally { B.Remove(s.Name); }
        }

        [Theory]
        [InlineData("gen", "1.5", "is missing or not a number")]   // a number to Lua, so a waiter waited, for a Set that HINCRBY refuses
        [InlineData("set", "2", "is out of range (0 to 1)")]       // neither set nor clear: a waiter waited for a change no Set makes
        public void An_event_whose_field_is_damaged_is_reported_by_Wait(string field, string value, string message)
        {
            using var ev = B.Event(NewName());
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(ev.Name), field, value);
                RedisRaw.AssertCorruptAndUnchanged(Db, ev.Name, stop => ev.Wait(Timeout.InfiniteTimeSpan, stop), $"its field '{field}' in Redis {message}");
            }
            finally { B.Remove(ev.Name); }
        }

        [Theory]
        [InlineData(1, "parties", "2", "is not the 1 it had when this handle opened it")]   // a party of one waited for a second one
        [InlineData(1, "parties", "nan", "is missing or not a number")]             // Lua reads 'nan' as a number no count reaches
        [InlineData(2, "arrived", "7", "is out of range (0 to 1)")]                 // the round was released, then the arrival refused
        public void A_barrier_whose_count_is_damaged_is_reported_by_Wait_and_changes_nothing(int parties, string field, string value, string message)
        {
            using var b = B.Barrier(NewName(), new IpcBackendOptions { Parties = parties });
            try
            {
                RedisRaw.Command(Db, "HSET", RedisBackend.MetaKey(b.Name), field, value);
                RedisRaw.AssertCorruptAndUnchanged(Db, b.Name, stop => b.Wait(null, stop), $"its field '{field}' in Redis {message}");
            }
            finally { B.Remove(b.Name); }
        }
    }
}
