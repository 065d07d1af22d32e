using System;
using System.Reflection;
using System.Runtime.InteropServices;
using IpcPs.Core.Platform;

namespace IpcPs.Tests
{
    /// <summary>
    /// Raw access to a named segment, as any other process of the user sees it: mapped through Core's platform layer
    /// (<see cref="ISharedMemoryPlatform.Open"/>: /dev/shm/NAME on Linux, the named file mapping on Windows once that
    /// layer is in), so every test that reads or forges shared bytes goes through this one helper and runs wherever
    /// Core runs. Not an IpcPs holder: the mapping is not recorded in the registry.
    /// </summary>
    internal sealed unsafe class RawSegment : IDisposable
    {
        private readonly Segment _segment;
        private bool _referenced;

        public RawSegment(string name)
        {
            _segment = Platforms.Current.SharedMemory.Open(name);
            _segment.DangerousAddRef(ref _referenced);
        }

        public byte* Base => (byte*)_segment.Address;

        public long Size => _segment.Size;

        public ref int Int(int offset) => ref *(int*)Check(offset, 4);

        public ref long Long(int offset) => ref *(long*)Check(offset, 8);

        public ref double Double(int offset) => ref *(double*)Check(offset, 8);

        public byte[] Bytes(long offset, int count)
        {
            var bytes = new byte[count];
            Marshal.Copy((IntPtr)Check(offset, count), bytes, 0, count);
            return bytes;
        }

        /// <summary>The short string at OFFSET (u16 length + UTF-8), as the kinds store names and action texts.</summary>
        public string ShortString(int offset)
        {
            int n = *(ushort*)Check(offset, 2);
            return System.Text.Encoding.UTF8.GetString(Bytes(offset + 2, n));
        }

        private byte* Check(long offset, int count)
        {
            if (offset < 0 || offset + count > Size) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"outside the segment's {Size} bytes");
            return Base + offset;
        }

        public void Dispose()
        {
            if (_referenced) _segment.DangerousRelease();
            _referenced = false;
            _segment.Dispose();
        }
    }

    /// <summary>The named offsets of the shared layouts, read from the types that define them (private constants).</summary>
    internal static class Layout
    {
        public static int Const<T>(string name) => Const(typeof(T), name);

        public static int Const(Type type, string name)
        {
            for (var t = type; t != null; t = t.BaseType)
            {
                var f = t.GetField(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly);
                if (f != null && f.IsLiteral) return Convert.ToInt32(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
            }
            throw new MissingFieldException(type.Name, name);
        }

        public static long LongConst(Type type, string name) =>
            Convert.ToInt64(type.GetField(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue(),
                System.Globalization.CultureInfo.InvariantCulture);
    }
}
