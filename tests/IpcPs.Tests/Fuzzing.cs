using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using CsCheck;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The fuzzing harness every parser of untrusted bytes is driven by (CsCheck: generation with PCG seeds, shrinking
    /// of a failing input). A target runs for <see cref="Budget"/> (IPCPS_FUZZ_SECONDS, default 10 s per target: the
    /// bounded pass of CI; build.ps1 -Task Fuzz -FuzzSeconds N for a longer one). An exception of an allowed type is the
    /// parser saying "not valid"; any other exception, a hang past the budget, or a crash of the process fails the target.
    /// How many inputs each target ran is appended to IPCPS_FUZZ_REPORT when set (build.ps1 prints it).
    /// </summary>
    public static class Fuzzing
    {
        public static TimeSpan Budget
        {
            get
            {
                var text = Environment.GetEnvironmentVariable("IPCPS_FUZZ_SECONDS");
                return TimeSpan.FromSeconds(double.TryParse(text, System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 10);
            }
        }

        /// <summary>
        /// Runs BODY on inputs from GEN for the budget. BODY may throw only the ALLOWED exception types (or types
        /// derived from them). Returns the number of inputs run.
        /// </summary>
        public static long Run<T>(string target, Gen<T> gen, Action<T> body, params Type[] allowed) => Run(target, gen, body, 1, allowed);

        /// <summary>
        /// As above, on THREADS threads at once: for targets whose inputs are independent and mostly wait (a dead lock
        /// holder is noticed after a liveness slice), so that the budget still covers many inputs.
        /// </summary>
        public static long Run<T>(string target, Gen<T> gen, Action<T> body, int threads, params Type[] allowed)
        {
            long count = 0;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            gen.Sample(input =>
            {
                Interlocked.Increment(ref count);
                try { body(input); }
                catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e))) { }
            }, time: Math.Max(1, (int)Math.Ceiling(Budget.TotalSeconds)), threads: threads);
            Report(target, count, watch.Elapsed);
            Assert.True(count > 0, $"The fuzz target {target} ran no input.");
            return count;
        }

        private static void Report(string target, long count, TimeSpan elapsed)
        {
            var file = Environment.GetEnvironmentVariable("IPCPS_FUZZ_REPORT");
            if (string.IsNullOrEmpty(file)) return;
            lock (typeof(Fuzzing))
                File.AppendAllText(file, $"{target}: {count:n0} inputs in {elapsed.TotalSeconds:n0} s{Environment.NewLine}");
        }

        /// <summary>
        /// Inputs made from SEEDS (valid encodings) by the mutations that find parser bugs: flipped bits, bytes set to
        /// boundary values, truncation, cut-and-repeat of a slice, splicing two seeds, and runs of random bytes.
        /// </summary>
        public static Gen<byte[]> Mutations(IReadOnlyList<byte[]> seeds)
        {
            if (seeds.Count == 0) throw new ArgumentException("At least one seed is needed.", nameof(seeds));
            var seed = Gen.Int[0, seeds.Count - 1].Select(i => seeds[i]);
            // Several mutations in a row, each applied to what the one before made, reach states one mutation cannot.
            return Gen.Int[1, 4].SelectMany(n => Chain(seed, seed, n));
        }

        private static Gen<byte[]> Chain(Gen<byte[]> input, Gen<byte[]> seed, int n) =>
            n == 0 ? input : Chain(input.SelectMany(s => Mutate(s, seed)), seed, n - 1);

        /// <summary>One mutation of S (SEED supplies the other half of a splice).</summary>
        private static Gen<byte[]> Mutate(byte[] s, Gen<byte[]> seed)
        {
            var boundary = Gen.Int[0, 7].Select(i => new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x40, 0x3F }[i]);
            return Gen.Frequency(
                (3, Gen.Select(Gen.Int[0, 1 << 20], Gen.Int[0, 7], (at, bit) => Edit(s, b => { if (b.Length > 0) b[at % b.Length] ^= (byte)(1 << bit); }))),
                (3, Gen.Select(Gen.Int[0, 1 << 20], boundary, (at, v) => Edit(s, b => { if (b.Length > 0) b[at % b.Length] = v; }))),
                (2, Gen.Int[0, 1 << 20].Select(at => s.Take(s.Length == 0 ? 0 : at % s.Length).ToArray())),
                (2, Gen.Select(Gen.Int[0, 1 << 20], Gen.Int[1, 64], Gen.Int[1, 200], (at, len, times) => Repeat(s, at, len, times))),
                (1, Gen.Select(seed, Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], (b, i, j) =>
                    s.Take(s.Length == 0 ? 0 : i % s.Length).Concat(b.Skip(b.Length == 0 ? 0 : j % b.Length)).ToArray())),
                (1, Gen.Select(Gen.Int[0, 1 << 20], Gen.Byte.Array[1, 32], (at, junk) =>
                    s.Take(s.Length == 0 ? 0 : at % s.Length).Concat(junk).Concat(s.Skip(s.Length == 0 ? 0 : at % s.Length)).ToArray())),
                (1, Gen.Byte.Array[0, 256]));
        }

        private static byte[] Edit(byte[] source, Action<byte[]> edit)
        {
            var copy = (byte[])source.Clone();
            edit(copy);
            return copy;
        }

        private static byte[] Repeat(byte[] s, int at, int len, int times)
        {
            if (s.Length == 0) return s;
            at %= s.Length;
            len = Math.Min(len, s.Length - at);
            var slice = s.Skip(at).Take(len).ToArray();
            var result = new List<byte>(s.Take(at + len));
            for (int i = 0; i < times; i++) result.AddRange(slice);
            result.AddRange(s.Skip(at + len));
            return result.ToArray();
        }
    }
}
