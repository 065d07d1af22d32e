using System;
using System.Diagnostics;
using System.Text.Json;
using System.Threading;
using IpcPs.Redis;

namespace IpcPs.Bench
{
    /// <summary>
    /// The Redis backend (bench/redis.bench.ps1): messages per second through a Redis queue, one producer and two
    /// consumers, each with a connection of its own — batched (PutMany/GetMany of 100) and one message per call — and
    /// lock Acquire/Release pairs per second. Usage: IpcPs.Bench redis URI [--quick]. Prints JSON.
    /// </summary>
    internal static class RedisBench
    {
        public static int Run(string[] args)
        {
            string uri = args[1];
            bool quick = Array.IndexOf(args, "--quick") >= 0;
            int batched = quick ? 20_000 : 200_000, single = quick ? 4_000 : 30_000, pairs = quick ? 2_000 : 10_000;
            var result = new
            {
                QueueBatchedPerSecond = Best(() => Queue(uri, batched, 100)),
                QueueSinglePerSecond = Best(() => Queue(uri, single, 1)),
                LockPairsPerSecond = Best(() => Lock(uri, pairs)),
            };
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }

        private static double Best(Func<double> run)
        {
            run();   // warm-up
            double best = 0;
            for (int i = 0; i < 3; i++) best = Math.Max(best, run());
            return best;
        }

        private static double Queue(string uri, int total, int batch)
        {
            using var producerBackend = RedisBackend.ConnectPrivate(uri, TimeSpan.FromSeconds(5));
            string name = "bench_" + Guid.NewGuid().ToString("N").Substring(0, 12);
            var q = producerBackend.Queue(name);
            int consumed = 0;
            var consumers = new Thread[2];
            var sw = Stopwatch.StartNew();
            for (int c = 0; c < consumers.Length; c++)
            {
                consumers[c] = new Thread(() =>
                {
                    using var b = RedisBackend.ConnectPrivate(uri, TimeSpan.FromSeconds(5));
                    var mine = (RedisQueue)b.Open(name, IpcObjectKind.Queue);
                    while (Volatile.Read(ref consumed) < total)
                    {
                        int n = batch == 1
                            ? (((IMessageChannel)mine).TryReceive(TimeSpan.FromMilliseconds(200), CancellationToken.None, out _) ? 1 : 0)
                            : mine.GetMany(batch, 0.2).Length;
                        Interlocked.Add(ref consumed, n);
                    }
                });
                consumers[c].Start();
            }
            var items = new object?[batch];
            for (int i = 0; i < total; i += batch)
            {
                for (int j = 0; j < batch; j++) items[j] = i + j;
                if (batch == 1) q.Put(i); else q.PutMany(items);
            }
            foreach (var t in consumers) t.Join();
            sw.Stop();
            q.Unlink();
            return total / sw.Elapsed.TotalSeconds;
        }

        private static double Lock(string uri, int pairs)
        {
            using var b = RedisBackend.ConnectPrivate(uri, TimeSpan.FromSeconds(5));
            var l = b.Lock("bench_" + Guid.NewGuid().ToString("N").Substring(0, 12));
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < pairs; i++)
            {
                l.TryAcquire(TimeSpan.FromSeconds(5), CancellationToken.None);
                l.Release();
            }
            sw.Stop();
            l.Unlink();
            return pairs / sw.Elapsed.TotalSeconds;
        }
    }
}
