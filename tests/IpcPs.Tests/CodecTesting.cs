using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using CsCheck;
using IpcPs.Core.Messaging;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The codec tests share the codec's fallback (the static IpcHost.Current): they run one after the other, each setting it as it
    /// needs (<see cref="CodecTesting.Fallback"/>).
    /// </summary>
    [CollectionDefinition("codec", DisableParallelization = true)]
    public sealed class CodecCollection { }

    /// <summary>Helpers of the codec tests: encoding to bytes, measured decoding, graphs with cycles, mutations.</summary>
    internal static class CodecTesting
    {
        /// <summary>Sets the codec's fallback (PowerShell's serializer, or none) until the returned scope ends.</summary>
        public static IDisposable Fallback(bool powerShell)
        {
            var old = Core.IpcHost.Current;
            Core.IpcHost.Current = powerShell ? new PowerShellHost() : Core.IpcHost.None;
            return new Scope(() => Core.IpcHost.Current = old);
        }

        private sealed class Scope : IDisposable
        {
            private readonly Action _end;
            public Scope(Action end) => _end = end;
            public void Dispose() => _end();
        }

        /// <summary>VALUE encoded as one array of bytes (what a channel carries); CHARGE: what the encoder says decoding will cost.</summary>
        public static byte[] Encoded(object? value, out long charge, int depth = 2)
        {
            var w = MessageCodec.Encode(value, depth);
            try
            {
                var bytes = new byte[w.TotalLength];
                Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                charge = w.DecodeCharge;
                return bytes;
            }
            finally { MessageCodec.Recycle(w); }
        }

        public static byte[] Encoded(object? value, int depth = 2) => Encoded(value, out _, depth);

        /// <summary>The bound every decoding keeps, whether it succeeds or fails.</summary>
        public static long Bound(long size) => DecodeCost.Bound(size);

        /// <summary>
        /// Decodes INPUT and checks that it allocated no more than the bound (failing with the numbers otherwise);
        /// returns the value, or rethrows the decoder's exception. A decoding over the bound is measured again
        /// before it counts: PowerShell keeps process-wide tables (the type names and instance members of PSObjects in
        /// weak tables, every member name it has met) that grow and compact in steps, and the one message that
        /// happens to trigger a step pays for all the objects before it (330 KB every ~6,300 custom objects decoded,
        /// measured). The guarantee is about what a message costs by itself (docs/design.md, "Bounded decoding").
        /// </summary>
        public static object? DecodeWithinBound(byte[] input) => WithinBound(input.Length, "decoding", input, () => MessageCodec.Decode(input));

        /// <summary>Runs WORK (decoding SIZE bytes) as <see cref="DecodeWithinBound"/> does.</summary>
        public static object? WithinBound(long size, string what, byte[]? input, Func<object?> work)
        {
            for (int attempt = 0; ; attempt++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                object? value = null;
                Exception? failure = null;
                try { value = work(); }
                catch (MessageFormatException e) { failure = e; }
                long used = GC.GetAllocatedBytesForCurrentThread() - before;
                if (used <= Bound(size) || attempt == 1)
                {
                    AssertAllocated(before, size, what, input);
                    if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
                    return value;
                }
            }
        }

        /// <summary>Fails (with an exception the fuzz harness does not allow) when more than the bound for SIZE was allocated since BEFORE.</summary>
        public static void AssertAllocated(long before, long size, string what, byte[]? input = null)
        {
            long used = GC.GetAllocatedBytesForCurrentThread() - before;
            if (used > Bound(size))
                throw new AllocationBoundException($"{what} {size:N0} bytes allocated {used:N0} bytes, more than the bound {Bound(size):N0} ({DecodeCost.Factor}·S + {DecodeCost.Slack + DecodeCost.FailureReserve:N0})."
                    + (input != null && input.Length <= 65536 ? " Input (base64): " + Convert.ToBase64String(input) : ""));
        }

        /// <summary>A broken allocation bound: never among a fuzz target's allowed exceptions.</summary>
        public sealed class AllocationBoundException : Exception
        {
            public AllocationBoundException(string message) : base(message) { }
        }

        /// <summary>
        /// Inputs made from SEEDS by one to four edits in a row (each on the previous one's result): flipped bits,
        /// boundary bytes, LEB128 counts set huge, truncation, a slice repeated, a splice of two seeds, random runs.
        /// </summary>
        public static Gen<byte[]> Chained(IReadOnlyList<byte[]> seeds)
        {
            var edit = Gen.Select(Gen.Int[0, 7], Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], Gen.Int[0, 255], (kind, a, b, v) => (kind, a, b, v));
            return Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int[0, seeds.Count - 1], edit.Array[1, 4], (s, other, edits) =>
            {
                var bytes = (byte[])seeds[s].Clone();
                foreach (var e in edits) bytes = Apply(bytes, seeds[other], e.kind, e.a, e.b, e.v);
                return bytes;
            });
        }

        private static byte[] Apply(byte[] s, byte[] other, int kind, int a, int b, int v)
        {
            if (s.Length == 0) return kind == 7 ? new[] { (byte)v } : s;
            int at = a % s.Length;
            switch (kind)
            {
                case 0: { var c = (byte[])s.Clone(); c[at] ^= (byte)(1 << (b % 8)); return c; }
                case 1: { var c = (byte[])s.Clone(); c[at] = new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x25, 0x20 }[b % 8]; return c; }
                case 2:
                {
                    // A count set huge: a LEB128 of up to five bytes in place of the byte at AT.
                    var big = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 }.Take(1 + b % 5).ToArray();
                    big[big.Length - 1] &= 0x7F;
                    return s.Take(at).Concat(big).Concat(s.Skip(at + 1)).ToArray();
                }
                case 3: return s.Take(at).ToArray();
                case 4:
                {
                    int len = Math.Min(1 + b % 32, s.Length - at);
                    var slice = s.Skip(at).Take(len).ToArray();
                    var r = new List<byte>(s.Take(at + len));
                    for (int i = 0; i < 1 + v % 64; i++) r.AddRange(slice);
                    r.AddRange(s.Skip(at + len));
                    return r.ToArray();
                }
                case 5: return other.Length == 0 ? s : s.Take(at).Concat(other.Skip(b % other.Length)).ToArray();
                case 6: { var c = (byte[])s.Clone(); c[at] = (byte)v; return c; }
                default: return s.Take(at).Concat(Enumerable.Repeat((byte)v, 1 + b % 16)).Concat(s.Skip(at)).ToArray();
            }
        }

        /// <summary>
        /// Object graphs with cycles and shared references: up to 12 containers (object[], ArrayList, @{} hashtable,
        /// List&lt;object&gt;, and with BAGS [pscustomobject]s), each holding primitives or any container (itself included).
        /// Container 0 is the root.
        /// </summary>
        public static Gen<object> Graphs(bool bags) =>
            Gen.Int[1, 12].SelectMany(n => Gen.Select(Gen.Int[0, bags ? 4 : 3].Array[n], Gen.Int[0, 5].Array[n], Gen.Int[0, 999].Array[n * 5],
                (kinds, counts, picks) => BuildGraph(kinds, counts, picks)));

        private static object BuildGraph(int[] kinds, int[] counts, int[] picks)
        {
            int n = kinds.Length;
            var nodes = new object[n];
            for (int i = 0; i < n; i++)
            {
                nodes[i] = kinds[i] switch
                {
                    0 => new object?[counts[i]],
                    1 => new ArrayList(),
                    2 => new Hashtable(StringComparer.OrdinalIgnoreCase),
                    3 => new List<object?>(),
                    _ => new PSObject(),
                };
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < counts[i]; j++)
                {
                    int p = picks[i * 5 + j];
                    object? child = p % 4 == 0 ? p : p % 4 == 1 ? "s" + p : p % 4 == 2 && p % 8 == 2 ? null : nodes[p % n];
                    switch (nodes[i])
                    {
                        case object?[] a: a[j] = child; break;
                        case IList l: l.Add(child); break;
                        case Hashtable h: h["k" + j] = child; break;
                        case PSObject b: b.Properties.Add(new PSNoteProperty("p" + j, child)); break;
                    }
                }
            }
            return nodes[0];
        }

        /// <summary>
        /// Whether DECODED has the shape of ORIGINAL as the codec promises: the same values, containers as their
        /// arriving types (lists as ArrayList, bags as Deserialized.* objects), and the same sharing: two places that
        /// held one container hold one container, two that held different ones hold different ones.
        /// </summary>
        public static void AssertSameGraph(object? original, object? decoded)
        {
            var forward = new Dictionary<object, object>(ReferenceEqualityComparer.Instance);
            var backward = new Dictionary<object, object>(ReferenceEqualityComparer.Instance);
            Same(original, decoded, forward, backward, "root");
        }

        private static void Same(object? a, object? b, Dictionary<object, object> forward, Dictionary<object, object> backward, string path)
        {
            if (a is null) { Assert.True(b is null, $"{path}: expected null, got {b}"); return; }
            Assert.True(b != null, $"{path}: expected {a}, got null");
            bool container = a is IList || a is IDictionary || a is PSObject;
            if (!container)
            {
                Assert.Equal(a, b);
                return;
            }
            if (forward.TryGetValue(a, out var seen))
            {
                Assert.True(ReferenceEquals(seen, b), $"{path}: a shared container arrived as two");
                return;
            }
            Assert.False(backward.ContainsKey(b!), $"{path}: two containers arrived as one");
            forward[a] = b!;
            backward[b!] = a;
            switch (a)
            {
                case object?[] items:
                {
                    var got = Assert.IsType<object?[]>(b);
                    Assert.Equal(items.Length, got.Length);
                    for (int i = 0; i < items.Length; i++) Same(items[i], got[i], forward, backward, $"{path}[{i}]");
                    break;
                }
                case IList list:
                {
                    var got = Assert.IsType<ArrayList>(b);
                    Assert.Equal(list.Count, got.Count);
                    for (int i = 0; i < list.Count; i++) Same(list[i], got[i], forward, backward, $"{path}[{i}]");
                    break;
                }
                case Hashtable table:
                {
                    var got = Assert.IsType<Hashtable>(b);
                    Assert.Equal(table.Count, got.Count);
                    foreach (DictionaryEntry e in table) Same(e.Value, got[e.Key], forward, backward, $"{path}.{e.Key}");
                    break;
                }
                case PSObject bag:
                {
                    var got = Assert.IsType<PSObject>(b);
                    Assert.Equal(bag.TypeNames.Select(t => "Deserialized." + t), got.TypeNames);
                    var names = bag.Properties.Select(p => p.Name).ToList();
                    Assert.Equal(names, got.Properties.Select(p => p.Name).ToList());
                    foreach (var name in names) Same(bag.Properties[name].Value, got.Properties[name].Value, forward, backward, $"{path}.{name}");
                    break;
                }
                default: throw new InvalidOperationException($"{path}: no comparison for {a.GetType()}");
            }
        }
    }
}
