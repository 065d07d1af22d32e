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

        public static bool IsSupported(Array a) => a.Rank == 1 && Array.IndexOf(Types, a.GetType().GetElementType()) >= 0;

        public static bool TryWrite(MessageWriter w, Array a)
        {
            if (a.Rank != 1 || a.GetLowerBound(0) != 0) return false;
            int code = Array.IndexOf(Types, a.GetType().GetElementType());
            if (code < 0) return false;
            w.WriteTag(Tag.PrimitiveArray);
            w.WriteByte((byte)code);
            w.WriteCount(a.Length);
            if (a.Length == 0) return true;
            var pin = GCHandle.Alloc(a, GCHandleType.Pinned);
            try { w.WriteRaw((byte*)pin.AddrOfPinnedObject(), checked(a.Length * Sizes[code])); }
            finally { pin.Free(); }
            return true;
        }

        public static Array Read(ref MessageReader r)
        {
            int code = r.ReadByte();
            if (code >= Types.Length) throw new MessageFormatException($"Unknown array element code {code}.");
            int n = r.ReadCount();
            long bytes = (long)n * Sizes[code];
            if (bytes > r.Remaining) throw new MessageFormatException($"An array claims {n} items in {r.Remaining} bytes.");
            var a = Array.CreateInstance(Types[code], n);
            if (n == 0) return a;
            var pin = GCHandle.Alloc(a, GCHandleType.Pinned);
            try { r.ReadRaw((byte*)pin.AddrOfPinnedObject(), (int)bytes); }
            finally { pin.Free(); }
            return a;
        }
    }
}
