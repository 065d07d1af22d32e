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
        private readonly long _describedSize;

        private SharedMemory(string name, long describedSize) : base(name, IpcObjectKind.SharedMemory) => _describedSize = describedSize;

        /// <summary>Creates a segment of SIZE zero bytes; a null NAME gets a generated one.</summary>
        public static SharedMemory Create(string? name, long size)
        {
            if (size <= 0)
                throw new ArgumentOutOfRangeException(nameof(size), size, "The size of shared memory must be a positive number of bytes.");
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

        /// <summary>Size in bytes, read from the segment (CPython: exactly what was asked for on Linux).</summary>
        public long Size => MappedSize ?? _describedSize;

        /// <summary>The byte at INDEX.</summary>
        public unsafe byte this[long index]
        {
            get
            {
                var s = Segment;
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
            var s = Segment;
            CheckRange(offset, count, s);
            var result = new byte[count];
            Use(s, p => { Marshal.Copy((IntPtr)(p + offset), result, 0, count); return 0; });
            return result;
        }

        /// <summary>Every byte of the segment.</summary>
        public byte[] ToArray() => Read(0, checked((int)Segment.Size));

        /// <summary>Writes BYTES starting at OFFSET.</summary>
        public void Write(long offset, byte[] bytes)
        {
            if (bytes is null) throw new ArgumentNullException(nameof(bytes));
            var s = Segment;
            CheckRange(offset, bytes.Length, s);
            Use(s, p => { Marshal.Copy(bytes, 0, (IntPtr)(p + offset), bytes.Length); return 0; });
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
                throw new ObjectDisposedException(s.Name, $"The SharedMemory '{s.Name}' is closed.");
            }
            finally { if (added) s.DangerousRelease(); }
        }

        private void CheckRange(long offset, long count, Segment s)
        {
            if (count < 0)
                throw new ArgumentOutOfRangeException(nameof(count), count, "The count cannot be negative.");
            if (offset < 0 || offset > s.Size || count > s.Size - offset)
                throw new ArgumentOutOfRangeException(nameof(offset), offset,
                    count == 1 && offset >= 0
                        ? $"Index {offset} is outside SharedMemory '{Name}' ({s.Size} bytes: valid indexes are 0..{s.Size - 1})."
                        : $"Offset {offset} with {count} bytes is outside SharedMemory '{Name}' ({s.Size} bytes).");
        }
    }
}
