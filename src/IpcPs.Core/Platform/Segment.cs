using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// One mapping of a named segment into this process. A SafeHandle, so a Read racing a Close on another thread
    /// keeps the mapping alive (DangerousAddRef) instead of touching unmapped memory, and a lost handle is unmapped by
    /// its finalizer.
    /// </summary>
    internal abstract class Segment : SafeHandle
    {
        protected Segment(string name, long size, IntPtr address) : base(IntPtr.Zero, ownsHandle: true)
        {
            Name = name;
            Size = size;
            SetHandle(address);
        }

        public string Name { get; }

        public long Size { get; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Start of the mapping. Use only between DangerousAddRef and DangerousRelease.</summary>
        public IntPtr Address => handle;

        /// <summary>
        /// Gives up this mapping's hold on the name, keeping the memory mapped (Close of a kind whose mapping stays
        /// until it is garbage-collected). Windows: closes the file mapping's handle, since a name lives as long as a
        /// handle on it does. Linux: nothing (the descriptor was closed when the segment was mapped). Idempotent.
        /// </summary>
        public virtual void CloseName() { }
    }
}
