using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The condition's waiter slots (docs/design.md, the Condition row): Notify(n) marks the n oldest waiting slots, so
    /// notifications go in arrival order, never to a later waiter, and never get lost on a waiter that died.
    /// </summary>
    public sealed class ProtocolConditionTests
    {
        private static readonly TimeSpan Answer = TimeSpan.FromSeconds(15);

        private static void Notify(IpcCondition c, int n)
        {
            c.Acquire();
            try { c.Notify(n); }
            finally { c.Release(); }
        }

        [Fact]
        public void NotifyWakesTheWaitersInTheOrderTheyCame()
        {
            using var c = IpcCondition.Create(null);
            var workers = Enumerable.Range(0, 3).Select(_ => WorkerProcess.Start(new[] { "protocol" })).ToArray();
            try
            {
                for (int i = 0; i < workers.Length; i++)
                {
                    workers[i].Send($"cond-wait {c.Name} 60");
                    int expected = i + 1;
                    Eventually.True(() => c.WaiterCount == expected, $"waiter {expected} waits");
                }
                for (int i = 0; i < workers.Length; i++)
                {
                    Notify(c, 1);
                    // Exactly one slot is taken out of waiting per notification, and it is the oldest one's.
                    Assert.Equal(workers.Length - 1 - i, c.WaiterCount);
                    Assert.Equal("ok True", workers[i].Next(Answer));
                }
            }
            finally
            {
                foreach (var w in workers) w.Dispose();
                c.Lock.Unlink();
                c.Unlink();
            }
        }

        [Fact]
        public void ANotificationIsNeverLostOnAWaiterThatDied()
        {
            using var c = IpcCondition.Create(null);
            using var dead = WorkerProcess.Start(new[] { "protocol" });
            using var live = WorkerProcess.Start(new[] { "protocol" });
            try
            {
                dead.Send($"cond-wait {c.Name} 60");
                // Asleep, not just registered: between taking its slot and releasing the lock, a kill would abandon
                // the lock, and the live waiter's Acquire would then report that instead of waiting.
                Eventually.True(() => c.WaiterCount == 1 && !c.Lock.IsLocked, "the first waiter waits, the lock released");
                dead.Kill();
                live.Send($"cond-wait {c.Name} 60");
                Eventually.True(() => c.WaiterCount == 2, "the second waiter waits (the dead one's slot still counts)");
                Notify(c, 1);
                Assert.Equal("ok True", live.Next(Answer));
                Assert.Equal(0, c.WaiterCount);   // the dead waiter's slot was freed, not notified
            }
            finally
            {
                c.Lock.Unlink();
                c.Unlink();
            }
        }

        /// <summary>
        /// Producers and consumers on one condition: every item produced is taken, and no consumer ever waits out its
        /// timeout while an item it was notified of is left (one Notify per item: a lost notification strands an item).
        /// </summary>
        [Fact]
        public void NoNotificationIsLostUnderLoad()
        {
            const int Items = 5_000, Consumers = 4;
            using var c = IpcCondition.Create(null);
            using var shared = SharedMemory.Create(null, 64);
            try
            {
                using var raw = new RawSegment(shared.Name);
                int stranded = 0, taken = 0;
                var consumers = Enumerable.Range(0, Consumers).Select(_ => Eventually.OnThread(() =>
                {
                    int mine = 0;
                    c.Acquire();
                    try
                    {
                        while (true)
                        {
                            while (raw.Int(0) == 0 && raw.Int(4) == 0)
                            {
                                if (!c.Wait(5) && raw.Int(0) > 0) Interlocked.Increment(ref stranded);
                            }
                            if (raw.Int(0) == 0) return mine;   // done and drained
                            raw.Int(0)--;
                            mine++;
                            Interlocked.Increment(ref taken);
                        }
                    }
                    finally { c.Release(); }
                })).ToArray();
                for (int i = 0; i < Items; i++)
                {
                    c.Acquire();
                    raw.Int(0)++;
                    c.Notify(1);
                    c.Release();
                }
                c.Acquire();
                raw.Int(4) = 1;   // done
                c.NotifyAll();
                c.Release();
                int total = consumers.Sum(t => Eventually.Within(t, 60, "a consumer"));
                Assert.Equal(Items, total);
                Assert.Equal(0, stranded);
                Assert.Equal(0, c.WaiterCount);
            }
            finally
            {
                c.Lock.Unlink();
                c.Unlink();
                shared.Unlink();
            }
        }
    }
}
