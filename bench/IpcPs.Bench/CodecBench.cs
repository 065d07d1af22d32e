using System;
using System.Collections;
using System.Diagnostics;
using System.Globalization;
using IpcPs.Core.Messaging;

namespace IpcPs.Bench
{
    /// <summary>
    /// The message codec alone, on one thread, no IPC: nanoseconds per Encode and per Decode, and bytes allocated per
    /// Decode, for typical messages (best of 5 runs each). Usage: IpcPs.Bench codec [--count N]
    /// </summary>
    internal static class CodecBench
    {
        public static int Run(string[] args)
        {
            int i = Array.IndexOf(args, "--count");
            long count = i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : 2_000_000;
            var cases = new (string Label, object? Value)[]
            {
                ("int", 42),
                ("string (12 chars)", "hello, world"),
                ("object[] of 4 primitives", new object?[] { 1, "two", 3.5, true }),
                ("hashtable of 4 entries", new Hashtable { ["a"] = 1, ["b"] = "two", ["c"] = 3.5, ["d"] = null }),
                ("object[] tree, 3 levels x 4", Tree(3)),
                ("int[100]", new int[100]),
            };
            Console.WriteLine($"  {"message",-30} {"bytes",6} {"encode ns",10} {"decode ns",10} {"decode B/op",12}");
            // Every case runs for a while first, so what is measured is the JIT's final code (tiered compilation
            // recompiles a method only after it has run a while: the first case measured would run slower code).
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1500)
                foreach (var (_, value) in cases)
                    for (int k = 0; k < 1000; k++) MessageCodec.Decode(Encoded(value));
            foreach (var (label, value) in cases)
            {
                var bytes = Encoded(value);
                long n = label.StartsWith("object[] tree", StringComparison.Ordinal) ? count / 20 : count;
                double encode = double.MaxValue, decode = double.MaxValue;
                long allocated = 0;
                for (int run = 0; run < 5; run++)
                {
                    var sw = Stopwatch.StartNew();
                    for (long k = 0; k < n; k++) MessageCodec.Recycle(MessageCodec.Encode(value, 2));
                    encode = Math.Min(encode, sw.Elapsed.TotalMilliseconds * 1e6 / n);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    sw.Restart();
                    for (long k = 0; k < n; k++) MessageCodec.Decode(bytes);
                    decode = Math.Min(decode, sw.Elapsed.TotalMilliseconds * 1e6 / n);
                    allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / n;
                }
                Console.WriteLine($"  {label,-30} {bytes.Length,6} {encode,10:F1} {decode,10:F1} {allocated,12}");
            }
            return 0;
        }

        private static byte[] Encoded(object? value)
        {
            var w = MessageCodec.Encode(value, 2);
            var bytes = new byte[w.TotalLength];
            Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
            MessageCodec.Recycle(w);
            return bytes;
        }

        private static object?[] Tree(int levels) =>
            levels == 0 ? new object?[] { 1, "leaf", 2.5, null }
            : new object?[] { Tree(levels - 1), Tree(levels - 1), Tree(levels - 1), Tree(levels - 1) };
    }
}
