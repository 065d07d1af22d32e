// These tests exercise blocking APIs from threads, each wait bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>Redis locks, semaphores, events, barriers, values and the manager's stores, across processes.</summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // they start Debian's redis-server, a Linux program
    public sealed class RedisSyncTests : RedisTestBase
    {
        public RedisSyncTests(RedisFixture f) : base(f) { }

        [Fact]
        public void Three_processes_times_300_increments_under_a_lock_stay_exact_with_strictly_increasing_tokens()
        {
            using var value = B.Value(NewName(), new IpcBackendOptions { DataType = IpcDataType.Parse("q") });
            using var l = B.Lock(NewName());
            var workers = Enumerable.Range(0, 3).Select(_ => new RedisWorkerProcess("increment", Address, value.Name, l.Name, "300")).ToList();
            try
            {
                var all = new List<long>();
                foreach (var w in workers)
                {
                    string line = w.Next(120);
                    Assert.StartsWith("tokens ", line);   // each worker checked its own tokens increase
                    all.AddRange(line.Substring(7).Split(',').Select(long.Parse));
                    w.WaitExit();
                }
                Assert.Equal(900L, Convert.ToInt64(value.Value));
                Assert.Equal(900, all.Distinct().Count());   // no token given twice, across processes
                Assert.Equal(900L, l.LastToken);
            }
            finally { foreach (var w in workers) w.Dispose(); value.Unlink(); l.Unlink(); }
        }

        [Fact]
        public void A_holder_stopped_past_its_lease_loses_the_lock_to_a_higher_token_and_its_Release_reports_it()
        {
            using var l = B.Lock(NewName(), new IpcBackendOptions { LeaseTime = TimeSpan.FromSeconds(1) });
            using var holder = new RedisWorkerProcess("hold", Address, l.Name);
            string held = holder.Next();
            Assert.StartsWith("held ", held);
            long first = long.Parse(held.Substring(5));
            RedisServer.Signal(holder.Pid, RedisServer.SIGSTOP);
            try
            {
                var sw = Stopwatch.StartNew();
                var r = l.TryAcquire(TimeSpan.FromSeconds(10), CancellationToken.None);
                Assert.Equal(LockAcquisition.Abandoned, r);   // its lease ran out without a release
                Assert.True(l.Token > first, $"token {l.Token} after {first}");
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"took {sw.Elapsed} (the lease is 1 s; the wait's own limit 10 s)");
            }
            finally { RedisServer.Signal(holder.Pid, RedisServer.SIGCONT); }
            holder.Send("release");
            Assert.Equal($"lost {first} cancelled", holder.Next());
            holder.WaitExit();
            Assert.True(l.IsHeld);
            l.Release();
            Assert.Throws<IpcSyncStateException>(() => l.Release());   // as a local lock not held (Exit-IpcLock: IpcInvalidSyncState)
            l.Unlink();
        }

        [Fact]
        public void A_lease_is_renewed_while_held_and_a_removed_lock_cancels_its_token()
        {
            using var l = B.Lock(NewName(), new IpcBackendOptions { LeaseTime = TimeSpan.FromMilliseconds(300) });
            using var other = (RedisLock)B.Open(l.Name, IpcObjectKind.Lock);
            Assert.Equal(LockAcquisition.Acquired, l.TryAcquire(TimeSpan.Zero, CancellationToken.None));
            // Held for several lease times: renewals keep it, so the other handle cannot take it.
            Assert.Equal(LockAcquisition.TimedOut, other.TryAcquire(TimeSpan.FromSeconds(1.2), CancellationToken.None));
            Assert.True(l.IsHeld);
            var lost = l.LeaseLost;
            Assert.False(lost.IsCancellationRequested);
            B.Database.KeyDelete(RedisBackend.Key(l.Name, "h"));   // as if it had expired and been taken
            Assert.True(lost.WaitHandle.WaitOne(2000), "the lost lease was not noticed");
            Assert.Throws<LeaseLostException>(() => l.Release());
            l.Unlink();
        }

        [Fact]
        public void A_semaphore_of_2_never_admits_a_third_holder()
        {
            using var s = B.Semaphore(NewName(), new IpcBackendOptions { InitialCount = 2 });
            using var inside = B.Value(NewName(), new IpcBackendOptions { DataType = IpcDataType.Parse("i") });
            var workers = Enumerable.Range(0, 3).Select(_ => new RedisWorkerProcess("semaphore", Address, s.Name, inside.Name, "60")).ToList();
            try
            {
                foreach (var w in workers)
                {
                    string line = w.Next(120);
                    Assert.StartsWith("most ", line);
                    Assert.InRange(long.Parse(line.Substring(5)), 1, 2);
                    w.WaitExit();
                }
                Assert.Equal(2, s.CurrentValue);
                Assert.Equal(0, Convert.ToInt32(inside.Value));
            }
            finally { foreach (var w in workers) w.Dispose(); s.Unlink(); inside.Unlink(); }
        }

        [Fact]
        public void An_event_set_wakes_a_waiter_in_another_process_within_a_second()
        {
            using var ev = B.Event(NewName());
            using var waiter = new RedisWorkerProcess("wait-event", Address, ev.Name);
            Assert.Equal("waiting", waiter.Next());
            long setAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            ev.Set();
            var parts = waiter.Next(5).Split(' ');
            Assert.Equal("woke", parts[0]);
            Assert.Equal("True", parts[1]);
            Assert.InRange(long.Parse(parts[2]) - setAt, -50, 1000);
            waiter.WaitExit();
            Assert.True(ev.IsSet());
            ev.Clear();
            Assert.False(ev.Wait(TimeSpan.FromMilliseconds(100), CancellationToken.None));
            ev.Unlink();
        }

        [Fact]
        public void A_barrier_of_3_processes_releases_them_together()
        {
            using var b = B.Barrier(NewName(), new IpcBackendOptions { Parties = 3 });
            var workers = Enumerable.Range(0, 3).Select(_ => new RedisWorkerProcess("barrier", Address, b.Name)).ToList();
            try
            {
                var indexes = new List<int>();
                var times = new List<long>();
                foreach (var w in workers) Assert.Equal("arriving", w.Next());
                foreach (var w in workers)
                {
                    var parts = w.Next(30).Split(' ');
                    Assert.Equal("released", parts[0]);
                    indexes.Add(int.Parse(parts[1]));
                    times.Add(long.Parse(parts[2]));
                    w.WaitExit();
                }
                Assert.Equal(new[] { 0, 1, 2 }, indexes.OrderBy(i => i));
                Assert.True(times.Max() - times.Min() < 1000, $"released {times.Max() - times.Min()} ms apart");
            }
            finally { foreach (var w in workers) w.Dispose(); }
            // A timeout breaks it, for everyone, until Reset.
            Assert.True(Assert.Throws<BrokenBarrierException>(() => b.Wait(0.2)).TimedOut);   // Wait-IpcBarrier: IpcTimeout, as locally
            Assert.True(b.Broken);
            b.Reset();
            Assert.False(b.Broken);
            b.Unlink();
        }

        [Fact]
        public void Values_add_and_compare_and_set_atomically_within_their_type()
        {
            using var v = B.Value(NewName(), new IpcBackendOptions { DataType = IpcDataType.Parse("h"), InitialValue = 32760 });
            Assert.Equal((short)32765, v.Add(5));
            Assert.Throws<OverflowException>(() => v.Add(5));
            Assert.Equal((short)32765, v.Value);
            Assert.False(v.CompareAndSet(1, 2));
            Assert.True(v.CompareAndSet(32765, -7));
            Assert.Equal((short)-7, v.Get());
            using var d = B.Value(NewName(), new IpcBackendOptions { DataType = IpcDataType.Parse("d"), InitialValue = 0.5 });
            Assert.Equal(1.75, d.Add(1.25));
            Assert.Throws<IpcObjectKindException>(() => B.Open(v.Name, IpcObjectKind.Queue));
            Assert.Throws<IpcObjectExistsException>(() => B.Value(v.Name, new IpcBackendOptions()));
            Assert.Contains(B.List("t_*"), o => o.Name == v.Name && o.Kind == IpcObjectKind.Value);
            v.Unlink(); d.Unlink();
            Assert.Throws<IpcObjectNotFoundException>(() => v.Get());
        }

        [Fact]
        public void A_dict_and_a_list_of_the_manager_are_shared_by_4_processes()
        {
            string name = NewName();
            var workers = Enumerable.Range(0, 4).Select(i => new RedisWorkerProcess("share", Address, name, $"w{i}", "25")).ToList();
            try
            {
                foreach (var w in workers) { Assert.Equal("done", w.Next(60)); w.WaitExit(); }
                var m = B.Manager();
                var d = m.Dict(name);
                var l = m.List(name + "-list");
                Assert.Equal(100, d.Count);
                Assert.Equal(3, d["W2-3"]);   // keys ignore case, as in @{}
                Assert.Equal(100, l.Count);
                Assert.Equal(Enumerable.Range(0, 4).SelectMany(i => Enumerable.Range(0, 25).Select(j => $"w{i}-{j}")).OrderBy(s => s),
                             l.ToArray().Cast<string>().OrderBy(s => s));
                l.Insert(0, "first");
                Assert.Equal("first", l[0]);
                Assert.Equal("first", l.Pop(0));
                Assert.Equal(7, d.SetDefault("new", 7));
                Assert.Equal(7, d.Pop("new"));
                dynamic ns = m.Namespace(name + "-ns");
                ns.Answer = 42;
                Assert.Equal(42, (int)ns.answer);
                d.Unlink(); l.Unlink(); B.Remove(name + "-ns");
            }
            finally { foreach (var w in workers) w.Dispose(); }
        }

        [Fact]
        public void A_second_process_re_attaches_by_descriptor_with_the_password_it_inherited()
        {
            using var q = B.Queue(NewName());
            var descriptor = q.Descriptor;
            Assert.DoesNotContain(RedisServer.Password, descriptor.Address);
            Assert.Equal(Address, descriptor.Address);
            using var child = new RedisWorkerProcess("attach", descriptor.Address, descriptor.Name, descriptor.Kind.ToString());
            Assert.Equal("ok", child.Next());
            child.WaitExit();
            Assert.Equal($"attached from {child.Pid}", q.Get(true, 5));
            q.Unlink();
        }
    }
}
