using System;
using System.Reflection;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// New byte arrays that the caller fills at once: on .NET 5+ without zeroing them first (GC.AllocateUninitializedArray,
    /// found at run time: the assembly targets netstandard2.0), which matters for megabyte messages.
    /// </summary>
    internal static class Bytes
    {
        private static readonly Func<int, byte[]> Allocate = Find() ?? (n => new byte[n]);

        public static byte[] New(int length) => length == 0 ? Array.Empty<byte>() : Allocate(length);

        private static Func<int, byte[]>? Find()
        {
            var method = typeof(GC).GetMethod("AllocateUninitializedArray", BindingFlags.Public | BindingFlags.Static);
            if (method is null) return null;
            var uninitialized = (Func<int, bool, byte[]>)Delegate.CreateDelegate(typeof(Func<int, bool, byte[]>), method.MakeGenericMethod(typeof(byte)));
            return n => n < 2048 ? new byte[n] : uninitialized(n, false);
        }
    }
}
