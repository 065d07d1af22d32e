using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A queue in memory of the process's own (<see cref="IpcQueue.CreateUnnamed"/>, what a spare's warm-up puts its
    /// objects through): the same code as a named queue's, nothing named anywhere (so a process killed while it holds
    /// one leaves nothing behind), and its waits and wake-ups work on that memory (Windows: the unnamed mapping's
    /// sleepers table).
    /// </summary>
    public sealed class UnnamedQueueTests
    {
        [Fact]
        public void PutsAndGetsAsANamedQueueWithNothingNamedAnywhere()
        {
            var q = IpcQueue.CreateUnnamed(64 << 10);
            try
            {
                Assert.False(Platforms.Current.SharedMemory.Exists(q.Name));
                Assert.Null(Platforms.Current.Registry.Read(q.Name));
                Assert.DoesNotContain(q.Name, Platforms.Current.SharedMemory.List());
                Assert.DoesNotContain(IpcObjects.List(_ => true, includeForeign: true), o => o.Name == q.Name);
                var payload = new byte[1000];
                for (int i = 0; i < 3000; i++)   // more than the 64 KiB hold at once, in all: blocks are reused
                {
                    payload[i % payload.Length] = (byte)i;
                    q.Put(payload);
                    q.Put("item " + i);
                    Assert.Equal(payload, Assert.IsType<byte[]>(q.Get()));
                    Assert.Equal("item " + i, q.Get());
                }
                Assert.Equal(0, q.Count);
                Assert.Throws<IpcObjectNotFoundException>(() => IpcObjects.Open(q.Name));
            }
            finally { q.Close(); }
            Assert.True(q.IsClosed);
            Assert.Throws<ObjectDisposedException>(() => q.Put(1));
            Assert.False(Platforms.Current.SharedMemory.Exists(q.Name));
        }

        [Fact]
        public void AGetWaitingOnItIsWokenByAPutAndAnEmptyOneTimesOut()
        {
            var q = IpcQueue.CreateUnnamed(64 << 10);
            try
            {
                var sw = Stopwatch.StartNew();
                Assert.Throws<QueueEmptyException>(() => q.Get(true, 0.2));
                Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(150), $"an empty get returned after {sw.Elapsed.TotalMilliseconds} ms");
                object? got = null;
                var getter = new Thread(() => got = q.Get(true, 30)) { IsBackground = true };
                getter.Start();
                // The put comes only once the getter sleeps on the queue's word (not spinning), so the wake-up is what is tested.
                var deadline = Stopwatch.StartNew();
                while (q.WaiterCount == 0)
                {
                    Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "the getter never slept on the queue");
                    Thread.Sleep(1);
                }
                q.Put("wake");
                Assert.True(getter.Join(TimeSpan.FromSeconds(20)), "the sleeping getter was not woken by the put");
                Assert.Equal("wake", got);
            }
            finally { q.Close(); }
        }
    }
}
