using System;
using System.Runtime.InteropServices;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs
{
    /// <summary>
    /// A named block of raw bytes shared between processes: the POSIX segment /dev/shm/NAME, with no header, so
    /// CPython's <c>shared_memory.SharedMemory(name=NAME)</c> sees exactly the same bytes.
    /// </summary>
    public sealed unsafe class SharedMemory : IpcObject
    {
        private SharedMemory(string name, long describedSize) : base(name, IpcObjectKind.SharedMemory)
        {
            if (describedSize > 0) DescribedSize = describedSize;
        }

        /// <summary>Creates a segment of SIZE zero bytes; a null NAME gets a generated one.</summary>
        public static SharedMemory Create(string? name, long size)
        {
            if (size <= 0)
                throw new ArgumentOutOfRangeException(null, "The size of shared memory must be a positive number of bytes.");
            name = name is null ? IpcName.Generate() : IpcName.Validate(name);
            var shm = new SharedMemory(name, size);
            var segment = ObjectLifecycle.Create(name, IpcObjectKind.SharedMemory, () => Platforms.Current.SharedMemory.Create(name, size));
            shm.AttachCreated(segment, Platforms.Current.Registry.Read(name));
            return shm;
        }

        /// <summary>Opens the existing segment NAME (one IpcPs made, or a foreign one such as CPython's); its size is read from the segment.</summary>
        public static SharedMemory Attach(string name)
        {
            var shm = new SharedMemory(IpcName.Validate(name), 0);
            shm.Open();
            return shm;
        }

        internal static SharedMemory Describe(string name, long size) => new SharedMemory(name, size);

        /// <summary>A SharedMemory over SEGMENT, mapped and held by another handle (a ShareableList's bytes).</summary>
        internal static SharedMemory View(string name, Segment segment, RegistryRecord? record)
        {
            var shm = new SharedMemory(name, segment.Size);
            shm.AttachBorrowed(segment, record);
            return shm;
        }


        /// <summary>
        /// Size in bytes (CPython: exactly what was asked for on Linux). Declared again here so that it, not the indexer,
        /// is this type's first .NET property: PowerShell's formatter asks the .NET adapter for the first property of a
        /// fresh object, and given the indexer prints the object's ToString instead of its view.
        /// </summary>
        public new long Size => base.Size;

        /// <summary>The byte at INDEX. Reading never opens a described handle; writing does.</summary>
        public unsafe byte this[long index]
        {
            get
            {
                var s = LookSegment;
                CheckRange(index, 1, s);
                return Use(s, p => p[index]);
            }
            set
            {
                var s = Segment;
                CheckRange(index, 1, s);
                Use(s, p => { p[index] = value; return 0; });
            }
        }

        /// <summary>COUNT bytes starting at OFFSET.</summary>
        public byte[] Read(long offset, int count)
        {
            var s = LookSegment;
            CheckRange(offset, count, s);
            var result = new byte[count];
            Use(s, p => { Marshal.Copy((IntPtr)(p + offset), result, 0, count); return 0; });
            return result;
        }

        /// <summary>Copies COUNT bytes starting at OFFSET into BUFFER at INDEX (no new array).</summary>
        public void ReadInto(long offset, byte[] buffer, int index, int count)
        {
            CheckBuffer(buffer, index, count);
            var s = LookSegment;
            CheckRange(offset, count, s);
            Use(s, p => { Marshal.Copy((IntPtr)(p + offset), buffer, index, count); return 0; });
        }

        /// <summary>Every byte of the segment.</summary>
        public byte[] ToArray() => Read(0, checked((int)LookSegment.Size));

        /// <summary>Writes BYTES starting at OFFSET.</summary>
        public void Write(long offset, byte[] bytes)
        {
            if (bytes is null) throw new ArgumentNullException(nameof(bytes));
            Write(offset, bytes, 0, bytes.Length);
        }

        /// <summary>Writes COUNT bytes of SOURCE, from INDEX, starting at OFFSET.</summary>
        public void Write(long offset, byte[] source, int index, int count)
        {
            CheckBuffer(source, index, count);
            var s = Segment;
            CheckRange(offset, count, s);
            Use(s, p => { Marshal.Copy(source, index, (IntPtr)(p + offset), count); return 0; });
        }

        // ---- typed reads and writes: little-endian as on every platform IpcPs runs on (CPython's struct '<'), at any
        // offset (unaligned allowed), each checked against the size. Reads never open a described handle.

        public short ReadInt16(long offset) => ReadValue<short>(offset);
        public ushort ReadUInt16(long offset) => ReadValue<ushort>(offset);
        public int ReadInt32(long offset) => ReadValue<int>(offset);
        public uint ReadUInt32(long offset) => ReadValue<uint>(offset);
        public long ReadInt64(long offset) => ReadValue<long>(offset);
        public ulong ReadUInt64(long offset) => ReadValue<ulong>(offset);
        public float ReadSingle(long offset) => ReadValue<float>(offset);
        public double ReadDouble(long offset) => ReadValue<double>(offset);

        public void WriteInt16(long offset, short value) => WriteValue(offset, value);
        public void WriteUInt16(long offset, ushort value) => WriteValue(offset, value);
        public void WriteInt32(long offset, int value) => WriteValue(offset, value);
        public void WriteUInt32(long offset, uint value) => WriteValue(offset, value);
        public void WriteInt64(long offset, long value) => WriteValue(offset, value);
        public void WriteUInt64(long offset, ulong value) => WriteValue(offset, value);
        public void WriteSingle(long offset, float value) => WriteValue(offset, value);
        public void WriteDouble(long offset, double value) => WriteValue(offset, value);

        /// <summary>The value of type T at OFFSET (C#: any unmanaged type; PowerShell 7.3+: $shm.ReadValue[int](8)).</summary>
        public T ReadValue<T>(long offset) where T : unmanaged
        {
            var s = LookSegment;
            CheckRange(offset, sizeof(T), s);
            return Use(s, p =>
            {
                T value;
                Buffer.MemoryCopy(p + offset, &value, sizeof(T), sizeof(T));
                return value;
            });
        }

        /// <summary>Writes VALUE of type T at OFFSET.</summary>
        public void WriteValue<T>(long offset, T value) where T : unmanaged
        {
            var s = Segment;
            CheckRange(offset, sizeof(T), s);
            T copy = value;
            Use(s, p =>
            {
                T local = copy;
                Buffer.MemoryCopy(&local, p + offset, sizeof(T), sizeof(T));
                return 0;
            });
        }

        /// <summary>COUNT bytes at OFFSET as UTF-8 text (without the trailing NULs, as CPython's ShareableList reads).</summary>
        public string ReadString(long offset, int count)
        {
            var bytes = Read(offset, count);
            int length = bytes.Length;
            while (length > 0 && bytes[length - 1] == 0) length--;
            return System.Text.Encoding.UTF8.GetString(bytes, 0, length);
        }

        /// <summary>Writes TEXT as UTF-8 at OFFSET; returns the number of bytes written.</summary>
        public int WriteString(long offset, string text)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text)));
            Write(offset, bytes);
            return bytes.Length;
        }

        private static void CheckBuffer(byte[] buffer, int index, int count)
        {
            if (buffer is null) throw new ArgumentNullException(nameof(buffer));
            if (index < 0 || count < 0 || count > buffer.Length - index)
                throw new ArgumentOutOfRangeException(null, $"{count} bytes from index {index} do not fit in an array of {buffer.Length} bytes.");
        }

        public override string ToString() => $"SharedMemory('{Name}', size={Size})";

        private unsafe delegate T PointerFunc<T>(byte* p);

        /// <summary>Runs F with the mapping's address; the mapping cannot be unmapped meanwhile (SafeHandle ref count).</summary>
        private static unsafe T Use<T>(Segment s, PointerFunc<T> f)
        {
            bool added = false;
            try
            {
                s.DangerousAddRef(ref added);
                return f((byte*)s.Address);
            }
            catch (ObjectDisposedException)
            {
                throw new ObjectDisposedException(null, $"The SharedMemory '{s.Name}' is closed.");
            }
            finally { if (added) s.DangerousRelease(); }
        }

        private void CheckRange(long offset, long count, Segment s)
        {
            if (count < 0)
                throw new ArgumentOutOfRangeException(null, "The count cannot be negative.");
            if (offset < 0 || offset > s.Size || count > s.Size - offset)
                throw new ArgumentOutOfRangeException(null, count == 1 && offset >= 0
                        ? $"Index {offset} is outside SharedMemory '{Name}' ({s.Size} bytes: valid indexes are 0..{s.Size - 1})."
                        : $"Offset {offset} with {count} bytes is outside SharedMemory '{Name}' ({s.Size} bytes).");
        }
    }
}
