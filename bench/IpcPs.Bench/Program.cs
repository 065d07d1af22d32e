using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;

namespace IpcPs.Bench
{
    /// <summary>
    /// Benchmarks of the cross-process synchronisation primitives (docs/performance.md):
    ///   uncontended IpcLock Acquire/Release pairs per second (best of 5 runs), and
    ///   Event ping-pong round-trip latency between this process and a copy of it started in "pong" mode.
    /// Usage: IpcPs.Bench [--json] [--iterations N] [--round-trips N] [--warmup N]
    /// Only Core types are used: no PowerShell is needed at run time. Nothing here is ever asserted by the tests.
    /// </summary>
    internal static unsafe class Program
    {
        private const int Runs = 5;
        private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);   // a wait this long means the other side died

        private static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "pong") return Pong(args);
            if (args.Length > 0 && args[0].StartsWith("msg", StringComparison.Ordinal)) return MessagingBench.Run(args);
            if (args.Length > 0 && args[0] == "codec") return CodecBench.Run(args);
            if (args.Length > 1 && args[0] == "redis") return RedisBench.Run(args);
            Options options;
            try { options = Options.Parse(args); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine("Usage: IpcPs.Bench [--json] [--iterations N] [--round-trips N] [--warmup N]");
                return 64;
            }

            var results = new Results
            {
                Iterations = options.Iterations,
                LockPairs = MeasureLock(options.Iterations, recursive: false, tryAcquire: false),
                LockTryAcquirePairs = MeasureLock(options.Iterations, recursive: false, tryAcquire: true),
                RLockPairs = MeasureLock(options.Iterations, recursive: true, tryAcquire: false),
                FloorPairs = MeasureFloor(options.Iterations),
                PingPong = MeasurePingPong(options.RoundTrips, options.Warmup),
            };
            if (options.Json) WriteJson(results);
            else WriteTable(results);
            return 0;
        }

        // ---- uncontended lock ----------------------------------------------------------------------------------

        private static double MeasureLock(long iterations, bool recursive, bool tryAcquire)
        {
            var l = IpcLock.Create($"bench_{Environment.ProcessId}_{(recursive ? "rlock" : "lock")}", recursive);
            try
            {
                Func<long, long> body = tryAcquire ? n => TryAcquireLoop(l, n) : n => AcquireLoop(l, n);
                return BestOf(iterations, body);
            }
            finally { l.Close(); }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long AcquireLoop(IpcLock l, long n)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (long i = 0; i < n; i++)
            {
                l.Acquire();
                l.Release();
            }
            return Stopwatch.GetTimestamp() - t0;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long TryAcquireLoop(IpcLock l, long n)
        {
            var infinite = Timeout.InfiniteTimeSpan;
            long t0 = Stopwatch.GetTimestamp();
            for (long i = 0; i < n; i++)
            {
                l.TryAcquire(infinite, CancellationToken.None);
                l.Release();
            }
            return Stopwatch.GetTimestamp() - t0;
        }

        /// <summary>The floor any lock in one shared word pays: one CAS to take it, one exchange to free it.</summary>
        private static double MeasureFloor(long iterations)
        {
            int* word = (int*)NativeMemory.AllocZeroed(64);
            try { return BestOf(iterations, n => FloorLoop(word, n)); }
            finally { NativeMemory.Free(word); }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long FloorLoop(int* word, long n)
        {
            int me = Environment.ProcessId;
            long t0 = Stopwatch.GetTimestamp();
            for (long i = 0; i < n; i++)
            {
                if (Interlocked.CompareExchange(ref *word, me, 0) != 0) throw new InvalidOperationException("floor word busy");
                Interlocked.Exchange(ref *word, 0);
            }
            return Stopwatch.GetTimestamp() - t0;
        }

        /// <summary>Warms up (so tiered compilation has settled), then the best of <see cref="Runs"/> runs, in pairs per second.</summary>
        private static double BestOf(long iterations, Func<long, long> body)
        {
            long warmupChunk = Math.Min(iterations, 200_000);
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 500) body(warmupChunk);
            double best = 0;
            for (int run = 0; run < Runs; run++)
            {
                long ticks = body(iterations);
                best = Math.Max(best, iterations * (double)Stopwatch.Frequency / ticks);
            }
            return best;
        }

        // ---- event ping-pong -----------------------------------------------------------------------------------

        private static PingPongResult MeasurePingPong(int roundTrips, int warmup)
        {
            string prefix = $"bench_{Environment.ProcessId}_{Guid.NewGuid().ToString("N").Substring(0, 8)}";
            var ping = IpcEvent.Create(prefix + "_ping");
            var pong = IpcEvent.Create(prefix + "_pong");
            Process? child = null;
            try
            {
                int total = warmup + roundTrips;
                child = StartSelf("pong", ping.Name, pong.Name, total.ToString(CultureInfo.InvariantCulture));
                // The child sets PONG once it has opened both events.
                if (!pong.Wait(WaitLimit, CancellationToken.None)) throw new TimeoutException("The pong process did not start.");
                pong.Clear();
                var samples = new long[roundTrips];
                for (int i = 0; i < total; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    ping.Set();
                    if (!pong.Wait(WaitLimit, CancellationToken.None)) throw new TimeoutException("The pong process stopped answering.");
                    pong.Clear();
                    long t1 = Stopwatch.GetTimestamp();
                    if (i >= warmup) samples[i - warmup] = t1 - t0;
                }
                if (!child.WaitForExit((int)WaitLimit.TotalMilliseconds)) throw new TimeoutException("The pong process did not exit.");
                if (child.ExitCode != 0) throw new InvalidOperationException($"The pong process exited with {child.ExitCode}.");
                return PingPongResult.From(samples);
            }
            finally
            {
                if (child != null)
                {
                    if (!child.HasExited)
                    {
                        child.Kill();
                        child.WaitForExit();
                    }
                    child.Dispose();
                }
                ping.Close();
                pong.Close();
            }
        }

        /// <summary>"pong PING PONG TOTAL": answers TOTAL pings, each by clearing PING and setting PONG.</summary>
        private static int Pong(string[] args)
        {
            if (args.Length != 4) return 64;
            int total = int.Parse(args[3], CultureInfo.InvariantCulture);
            var ping = (IpcEvent)IpcObjects.Open(args[1]);
            var pong = (IpcEvent)IpcObjects.Open(args[2]);
            try
            {
                pong.Set();   // ready
                for (int i = 0; i < total; i++)
                {
                    if (!ping.Wait(WaitLimit, CancellationToken.None)) return 2;
                    ping.Clear();
                    pong.Set();
                }
                return 0;
            }
            finally
            {
                ping.Close();
                pong.Close();
            }
        }

        /// <summary>Starts this program again: the apphost, or dotnet with this dll when run as "dotnet IpcPs.Bench.dll".</summary>
        internal static Process StartSelf(params string[] args)
        {
            string exe = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
            if (string.Equals(Path.GetFileNameWithoutExtension(exe), "dotnet", StringComparison.OrdinalIgnoreCase))
                psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
            foreach (var a in args) psi.ArgumentList.Add(a);
            return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {exe}.");
        }

        // ---- output --------------------------------------------------------------------------------------------

        private static void WriteTable(Results r)
        {
            string M(double pairs) => (pairs / 1e6).ToString("F2", CultureInfo.InvariantCulture).PadLeft(8) + " M pairs/s";
            string U(double us) => us.ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine($"IpcPs C# bench ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} CPUs)");
            Console.WriteLine($"  IpcLock Acquire()/Release()              {M(r.LockPairs)}  (best of {Runs} x {r.Iterations})");
            Console.WriteLine($"  IpcLock TryAcquire(infinite)/Release()   {M(r.LockTryAcquirePairs)}");
            Console.WriteLine($"  IpcLock recursive Acquire()/Release()    {M(r.RLockPairs)}");
            Console.WriteLine($"  floor: CAS + exchange on a plain word    {M(r.FloorPairs)}");
            var p = r.PingPong;
            Console.WriteLine($"  IpcEvent ping-pong round trip            median {U(p.MedianUs)} us, p99 {U(p.P99Us)} us" +
                              $"  (N={p.RoundTrips}, min {U(p.MinUs)}, mean {U(p.MeanUs)})");
        }

        private static void WriteJson(Results r)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stdout))
            {
                w.WriteStartObject();
                w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
                w.WriteNumber("processors", Environment.ProcessorCount);
                w.WriteStartObject("lock");
                w.WriteNumber("iterations", r.Iterations);
                w.WriteNumber("runs", Runs);
                w.WriteNumber("pairs_per_second", r.LockPairs);
                w.WriteNumber("tryacquire_pairs_per_second", r.LockTryAcquirePairs);
                w.WriteNumber("rlock_pairs_per_second", r.RLockPairs);
                w.WriteNumber("floor_pairs_per_second", r.FloorPairs);
                w.WriteEndObject();
                w.WriteStartObject("ping_pong");
                w.WriteNumber("round_trips", r.PingPong.RoundTrips);
                w.WriteNumber("median_us", r.PingPong.MedianUs);
                w.WriteNumber("p99_us", r.PingPong.P99Us);
                w.WriteNumber("min_us", r.PingPong.MinUs);
                w.WriteNumber("mean_us", r.PingPong.MeanUs);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            stdout.WriteByte((byte)'\n');
        }

        private sealed class Results
        {
            public long Iterations;
            public double LockPairs, LockTryAcquirePairs, RLockPairs, FloorPairs;
            public PingPongResult PingPong = null!;
        }

        private sealed class PingPongResult
        {
            public int RoundTrips;
            public double MedianUs, P99Us, MinUs, MeanUs;

            public static PingPongResult From(long[] ticks)
            {
                Array.Sort(ticks);
                double us = 1e6 / Stopwatch.Frequency;
                double sum = 0;
                foreach (long t in ticks) sum += t;
                return new PingPongResult
                {
                    RoundTrips = ticks.Length,
                    MedianUs = Percentile(ticks, 50) * us,
                    P99Us = Percentile(ticks, 99) * us,
                    MinUs = ticks[0] * us,
                    MeanUs = sum / ticks.Length * us,
                };
            }

            /// <summary>Nearest rank (the same definition as bench/sync.py).</summary>
            private static long Percentile(long[] sorted, double p) =>
                sorted[Math.Max(1, (int)Math.Ceiling(p / 100 * sorted.Length)) - 1];
        }

        private sealed class Options
        {
            public bool Json;
            public long Iterations = 10_000_000;
            public int RoundTrips = 20_000;
            public int Warmup = 1_000;

            public static Options Parse(string[] args)
            {
                var o = new Options();
                for (int i = 0; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--json": o.Json = true; break;
                        case "--iterations": o.Iterations = Positive(args, ++i); break;
                        case "--round-trips": o.RoundTrips = checked((int)Positive(args, ++i)); break;
                        case "--warmup": o.Warmup = checked((int)Positive(args, ++i)); break;
                        default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
                    }
                }
                return o;
            }

            private static long Positive(string[] args, int i)
            {
                if (i >= args.Length || !long.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0)
                    throw new ArgumentException($"'{args[i - 1]}' needs a positive whole number.");
                return v;
            }
        }
    }
}
