using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// Typed one-dimensional arrays of fixed-size primitives ([int[]], [double[]], [char[]], …) travel as their raw
    /// little-endian memory: tag, element code, count, bytes. They arrive with the same element type.
    /// </summary>
    internal static unsafe class PrimitiveArrays
    {
        private static readonly Type[] Types =
        {
            typeof(bool), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint),
            typeof(long), typeof(ulong), typeof(float), typeof(double), typeof(char),
        };
        private static readonly int[] Sizes = { 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 2 };

        /// <summary>The element code of A, or -1 when A is not such an array (another element type, rank, lower bound).</summary>
        public static int CodeOf(Array a) =>
            a.Rank == 1 && a.GetLowerBound(0) == 0 ? Array.IndexOf(Types, a.GetType().GetElementType()) : -1;

        /// <summary>Writes A (whose code is CODE); returns the size of its memory in bytes.</summary>
        public static long Write(MessageWriter w, Array a, int code)
        {
            w.WriteTag(Tag.PrimitiveArray);
            w.WriteByte((byte)code);
            w.WriteCount(a.Length);
            if (a.Length == 0) return 0;
            int bytes = checked(a.Length * Sizes[code]);
            var pin = GCHandle.Alloc(a, GCHandleType.Pinned);
            try { w.WriteRaw((byte*)pin.AddrOfPinnedObject(), bytes); }
            finally { pin.Free(); }
            return bytes;
        }

        /// <summary>Reads an array after its tag; its memory is charged to the reader's allowance before it is made.</summary>
        public static Array Read(ref MessageReader r)
        {
            int code = r.ReadByte();
            if (code >= Types.Length) throw new MessageFormatException($"Unknown array element code {code}.");
            int n = r.ReadCount();
            long bytes = (long)n * Sizes[code];
            if (bytes > r.Remaining) throw new MessageFormatException($"An array claims {n} items in {r.Remaining} bytes.");
            r.Charge(DecodeCost.PrimitiveArray(bytes));
            var a = Array.CreateInstance(Types[code], n);
            if (n == 0) return a;
            var pin = GCHandle.Alloc(a, GCHandleType.Pinned);
            try { r.ReadRaw((byte*)pin.AddrOfPinnedObject(), (int)bytes); }
            finally { pin.Free(); }
            return a;
        }
    }
}
