using System;
using System.Collections.Generic;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// ShareableList attach on mutated segments (CPython's layout, which any program may write): opening gives a list
    /// or IpcObjectKindException, and every item of an opened list reads as a value or a typed error, never a crash.
    /// </summary>
    public sealed class ShareableListFuzzTests
    {
        private static byte[] BytesOf(params object?[] items)
        {
            using var list = ShareableList.Create(null, items);
            try { return list.SharedMemory.ToArray(); }
            finally { list.Unlink(); }
        }

        [Fact]
        public void AttachOnlySaysNotAList()
        {
            var seeds = new List<byte[]>
            {
                BytesOf(), BytesOf(1L), BytesOf("abc", 2.5, null, true, new byte[] { 1, 2, 3 }),
                BytesOf("a longer string with some room", "ü€", 0L, -1L), BytesOf(null, null, false),
            };
            string name = "fuzz_" + Guid.NewGuid().ToString("N").Substring(0, 12);
            Fuzzing.Run("shareablelist.attach", Fuzzing.Mutations(seeds), input =>
            {
                using var shm = SharedMemory.Create(name, Math.Max(input.Length, 1));
                try
                {
                    shm.Write(0, input);
                    ShareableList list;
                    try { list = ShareableList.Open(name); }
                    catch (IpcObjectKindException) { return; }
                    using (list)
                    {
                        for (int i = 0; i < list.Count; i++)
                        {
                            try { _ = list.Get(i); }
                            catch (IpcObjectKindException) { }
                        }
                        _ = list.ToString();
                    }
                }
                finally { shm.Unlink(); }
            });
        }
    }
}
