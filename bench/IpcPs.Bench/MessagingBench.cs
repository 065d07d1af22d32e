using System;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace IpcPs.Bench
{
    /// <summary>
    /// Messaging benchmarks (docs/performance.md): small integers from a producer process to this one through an
    /// IpcQueue (every value checked, in order; best of 3 runs), and 1 MiB byte[] messages through a pipe.
    /// Usage: IpcPs.Bench msg [--json] [--count N] [--payloads N]; IpcPs.Bench msg-local [--count N]: one thread, a
    /// queue's Put and Get and a pipe's Send and Recv, uncontended (what a change on those paths costs), and where a
    /// batch's time goes; IpcPs.Bench msg-batch [--count N] [--capacity BYTES]: the two-process batch row alone; msg-single [--count N]: the
    /// one-by-one row, one run.
    /// </summary>
    internal static class MessagingBench
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

        public static int Run(string[] args)
        {
            switch (args[0])
            {
                case "msg-queue-producer": return QueueProducer(args[1], args[2], long.Parse(args[3], CultureInfo.InvariantCulture));
                case "msg-queue-batch-producer": return QueueBatchProducer(args[1], args[2], long.Parse(args[3], CultureInfo.InvariantCulture));
                case "msg-pipe-producer": return PipeProducer(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
            }
            if (args[0] == "msg-local") return Local(Option(args, "--count", 1_000_000));
            if (args[0] == "msg-single")
            {
                // The two-process one-by-one row alone, one run (alternate it with another build's to compare).
                Console.WriteLine($"  Put/Get one by one, 1 -> 1: {QueueSmallInts(Option(args, "--count", 1_000_000)) / 1e6:F2} M msgs/s");
                return 0;
            }
            if (args[0] == "msg-batch")
            {
                // The two-process batch row alone (best of 3), with CPU time per message on this (the consuming) side.
                long n = Option(args, "--count", 4_000_000);
                var me = Process.GetCurrentProcess();
                var cpu = me.TotalProcessorTime;
                long capacity = Option(args, "--capacity", IpcQueue.DefaultCapacity);
                double best = Math.Max(QueueBatches(n, capacity), Math.Max(QueueBatches(n, capacity), QueueBatches(n, capacity)));
                me.Refresh();
                Console.WriteLine($"  PutMany/GetMany of {BatchSize}, 1 -> 1: {best / 1e6:F2} M msgs/s; consumer CPU {(me.TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / (3 * n):F1} ns/msg");
                return 0;
            }
            bool json = Array.IndexOf(args, "--json") >= 0;
            long count = Option(args, "--count", 5_000_000);
            int payloads = (int)Option(args, "--payloads", 2000);
            // Best of 3 (like the lock benchmark's best of 5): one process pair on a shared VM is noisy.
            double queueRate = Math.Max(QueueSmallInts(count), Math.Max(QueueSmallInts(count), QueueSmallInts(count)));
            double batchRate = Math.Max(QueueBatches(count * 4), Math.Max(QueueBatches(count * 4), QueueBatches(count * 4)));
            double pipeBytes = PipePayloads(payloads, 1 << 20, into: false);
            double pipeInto = PipePayloads(payloads, 1 << 20, into: true);
            if (json)
            {
                using var w = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                w.WriteStartObject();
                w.WriteNumber("queue_small_ints_per_s", queueRate);
                w.WriteNumber("queue_count", count);
                w.WriteNumber("queue_batch_small_ints_per_s", batchRate);
                w.WriteNumber("queue_batch_size", BatchSize);
                w.WriteNumber("pipe_1mib_bytes_per_s", pipeBytes);
                w.WriteNumber("pipe_1mib_into_bytes_per_s", pipeInto);
                w.WriteNumber("pipe_payloads", payloads);
                w.WriteEndObject();
            }
            else
            {
                Console.WriteLine($"  IpcQueue small ints, 1 producer process -> 1 consumer   {queueRate / 1e6,8:F2} M msgs/s ({count} messages)");
                Console.WriteLine($"  IpcQueue small ints, PutMany/GetMany of {BatchSize}, 1 -> 1 {batchRate / 1e6,8:F2} M msgs/s ({count * 4} messages)");
                Console.WriteLine($"  Pipe 1 MiB byte[] messages, Recv() (new array each)     {pipeBytes / 1e9,8:F2} GB/s ({payloads} messages)");
                Console.WriteLine($"  Pipe 1 MiB byte[] messages, RecvBytesInto(buffer)       {pipeInto / 1e9,8:F2} GB/s");
            }
            return 0;
        }

        /// <summary>One thread, no other process: the uncontended cost of a Put and a Get.</summary>
        private static int Local(long count)
        {
            using var q = IpcQueue.Create($"bench_{Environment.ProcessId}_local", capacity: 256L << 20);
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (long i = 0; i < count; i++) q.Put((int)i);
                double put = count / sw.Elapsed.TotalSeconds;
                sw.Restart();
                for (long i = 0; i < count; i++) q.Get();
                double get = count / sw.Elapsed.TotalSeconds;
                Console.WriteLine($"  local Put {put / 1e6:F2} M/s, Get {get / 1e6:F2} M/s");
            }
            // Batches of BatchSize in one thread: PutMany then GetMany.
            var items = new object[BatchSize];
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (long i = 0; i < count; i += BatchSize)
                {
                    for (int j = 0; j < items.Length; j++) items[j] = (int)(i + j);
                    q.PutMany(items);
                }
                double put = count / sw.Elapsed.TotalSeconds;
                sw.Restart();
                for (long i = 0; i < count; i += BatchSize) q.GetMany(BatchSize);
                double get = count / sw.Elapsed.TotalSeconds;
                Console.WriteLine($"  local PutMany {put / 1e6:F2} M/s, GetMany {get / 1e6:F2} M/s (batches of {BatchSize})");
            }
            // Where a batch's time goes (best of 10, ns per message): encoding alone, the whole PutMany, decoding alone,
            // the whole GetMany. PutMany - encode is the queue's own work on the put side; GetMany - decode on the get side.
            Split(q, items, count);
            // A pipe in one thread: a small message sent and received in turn (the ring's uncontended path).
            var ends = IpcConnection.CreatePipe($"bench_{Environment.ProcessId}_localpipe", duplex: true);
            try
            {
                for (int round = 0; round < 3; round++)
                {
                    var sw = Stopwatch.StartNew();
                    for (long i = 0; i < count; i++)
                    {
                        ends[0].Send((int)i);
                        ends[1].Recv();
                    }
                    Console.WriteLine($"  local pipe Send+Recv {count / sw.Elapsed.TotalSeconds / 1e6:F2} M/s");
                }
            }
            finally
            {
                ends[0].Close();
                ends[1].Close();
            }
            return 0;
        }

        private static void Split(IpcQueue q, object[] items, long count)
        {
            double encode = double.MaxValue, put = double.MaxValue, decode = double.MaxValue, get = double.MaxValue;
            var encoded = Core.Messaging.MessageBatch.Encode(items, 2);
            var bytes = (byte[])encoded.Buffer.Clone();
            var ends = new int[encoded.Count];
            for (int j = 0; j < ends.Length; j++) ends[j] = encoded.End(j);
            Core.Messaging.MessageBatch.Recycle(encoded);
            var into = new object?[items.Length];
            for (int round = 0; round < 10; round++)
            {
                var sw = Stopwatch.StartNew();
                for (long i = 0; i < count; i += BatchSize) Core.Messaging.MessageBatch.Recycle(Core.Messaging.MessageBatch.Encode(items, 2));
                encode = Math.Min(encode, sw.Elapsed.TotalMilliseconds * 1e6 / count);
                sw.Restart();
                for (long i = 0; i < count; i += BatchSize) q.PutMany(items);
                put = Math.Min(put, sw.Elapsed.TotalMilliseconds * 1e6 / count);
                sw.Restart();
                for (long i = 0; i < count; i += BatchSize)
                    for (int j = 0, start = 0; j < ends.Length; start = ends[j++]) into[j] = Core.Messaging.MessageBatch.Decode(bytes, start, ends[j] - start);
                decode = Math.Min(decode, sw.Elapsed.TotalMilliseconds * 1e6 / count);
                sw.Restart();
                for (long i = 0; i < count; i += BatchSize) q.GetMany(BatchSize);
                get = Math.Min(get, sw.Elapsed.TotalMilliseconds * 1e6 / count);
            }
            Console.WriteLine($"  split (ns/msg, best of 10): encode {encode:F1}, PutMany {put:F1}; decode {decode:F1}, GetMany {get:F1}");
        }

        private static long Option(string[] args, string name, long fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        // ---- queue ----------------------------------------------------------------------------------------------

        private static double QueueSmallInts(long count)
        {
            string tag = $"bench_{Environment.ProcessId}";
            using var q = IpcQueue.Create($"{tag}_q");
            using var go = IpcEvent.Create($"{tag}_go");
            using var child = Program.StartSelf("msg-queue-producer", q.Name, go.Name, count.ToString(CultureInfo.InvariantCulture));
            // The producer attaches, then waits for go: the clock measures messages only, not a process start.
            if (!Wait(() => q.HolderPids.Length > 1)) throw new InvalidOperationException("The producer did not start.");
            var sw = Stopwatch.StartNew();
            go.Set();
            for (long i = 0; i < count; i++)
            {
                object? v = q.Get();
                if (!(v is int n) || n != (int)i) throw new InvalidOperationException($"Message {i} was {v ?? "null"}.");
            }
            sw.Stop();
            child.WaitForExit();
            return count / sw.Elapsed.TotalSeconds;
        }

        private static int QueueProducer(string queue, string go, long count)
        {
            using var q = (IpcQueue)IpcObjects.Open(queue, IpcObjectKind.Queue);
            using var ev = (IpcEvent)IpcObjects.Open(go, IpcObjectKind.Event);
            if (!ev.Wait(Limit.TotalSeconds)) return 2;
            for (long i = 0; i < count; i++) q.Put((int)i);
            return 0;
        }

        private const int BatchSize = 1000;

        /// <summary>1 producer process PutMany → this process GetMany, batches of BatchSize small ints (each checked).</summary>
        private static double QueueBatches(long count, long capacity = IpcQueue.DefaultCapacity)
        {
            string tag = $"bench_{Environment.ProcessId}";
            using var q = IpcQueue.Create($"{tag}_qb", capacity: capacity);
            using var go = IpcEvent.Create($"{tag}_gob");
            using var child = Program.StartSelf("msg-queue-batch-producer", q.Name, go.Name, count.ToString(CultureInfo.InvariantCulture));
            if (!Wait(() => q.HolderPids.Length > 1)) throw new InvalidOperationException("The producer did not start.");
            var sw = Stopwatch.StartNew();
            go.Set();
            for (long i = 0; i < count;)
            {
                foreach (var v in q.GetMany(BatchSize))
                {
                    if (!(v is int n) || n != (int)i) throw new InvalidOperationException($"Message {i} was {v ?? "null"}.");
                    i++;
                }
            }
            sw.Stop();
            child.WaitForExit();
            return count / sw.Elapsed.TotalSeconds;
        }

        private static int QueueBatchProducer(string queue, string go, long count)
        {
            using var q = (IpcQueue)IpcObjects.Open(queue, IpcObjectKind.Queue);
            using var ev = (IpcEvent)IpcObjects.Open(go, IpcObjectKind.Event);
            if (!ev.Wait(Limit.TotalSeconds)) return 2;
            var items = new object[BatchSize];
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (long i = 0; i < count; i += BatchSize)
            {
                for (int j = 0; j < items.Length; j++) items[j] = (int)(i + j);
                q.PutMany(items);
            }
            if (Environment.GetEnvironmentVariable("IPCPS_BENCH_CPU") == "1")
                Console.WriteLine($"  producer CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / count:F1} ns/msg");
            return 0;
        }

        // ---- pipe (filled in with the pipe) --------------------------------------------------------------------

        private static double PipePayloads(int payloads, int size, bool into)
        {
            string tag = $"bench_{Environment.ProcessId}";
            var ends = IpcConnection.CreatePipe($"{tag}_p{(into ? 2 : 1)}", duplex: false, bufferSize: BufferSize());
            using var reader = ends[0];
            using var go = IpcEvent.Create($"{tag}_go{(into ? 3 : 2)}");
            using var child = Program.StartSelf("msg-pipe-producer", reader.Name, go.Name,
                payloads.ToString(CultureInfo.InvariantCulture), size.ToString(CultureInfo.InvariantCulture));
            ends[1].Close();   // the child's end only: EOF when it ends
            if (!Wait(() => reader.PeerPids.Length > 0)) throw new InvalidOperationException("The producer did not start.");
            var sw = Stopwatch.StartNew();
            go.Set();
            long bytes = 0;
            var buffer = new byte[size];
            for (int i = 0; i < payloads; i++)
            {
                var b = into ? buffer : (byte[])reader.Recv()!;
                if (into && reader.RecvBytesInto(buffer) != size) throw new InvalidOperationException($"Payload {i} has the wrong size.");
                if (b.Length != size || b[0] != (byte)i || b[size - 1] != (byte)i) throw new InvalidOperationException($"Payload {i} is damaged.");
                bytes += b.Length;
            }
            sw.Stop();
            try { reader.Recv(); throw new InvalidOperationException("Expected the end of the stream."); }
            catch (ConnectionClosedException) { }
            child.WaitForExit();
            return bytes / sw.Elapsed.TotalSeconds;
        }

        private static int BufferSize() =>
            int.TryParse(Environment.GetEnvironmentVariable("IPCPS_BENCH_PIPE_BUFFER"), out int n) ? n : IpcConnection.DefaultBufferSize;

        private static int PipeProducer(string pipe, string go, int payloads, int size)
        {
            using var w = IpcConnection.Open(pipe, 1);
            using var ev = (IpcEvent)IpcObjects.Open(go, IpcObjectKind.Event);
            if (!ev.Wait(Limit.TotalSeconds)) return 2;
            var payload = new byte[size];
            for (int i = 0; i < payloads; i++)
            {
                payload[0] = payload[size - 1] = (byte)i;
                w.Send(payload);
            }
            return 0;
        }

        private static bool Wait(Func<bool> condition)
        {
            var sw = Stopwatch.StartNew();
            while (!condition())
            {
                if (sw.Elapsed > Limit) return false;
                System.Threading.Thread.Sleep(1);
            }
            return true;
        }
    }
}
