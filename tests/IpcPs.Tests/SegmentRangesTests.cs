using System;
using System.Runtime.CompilerServices;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    [CollectionDefinition("segment ranges", DisableParallelization = true)]
    public sealed class SegmentRangesCollection { }

    /// <summary>
    /// Windows: the address records of waitable segments (<see cref="SegmentRanges"/>) do not keep a segment alive. A
    /// closed sync object keeps its mapping until its handle is garbage-collected (IpcObject.UnmapOnClose); a strong
    /// reference there kept every such segment, its view and handle, for the process's life. Alone in its collection:
    /// the count is the whole process's.
    /// </summary>
    [Collection("segment ranges")]
    public sealed class SegmentRangesTests
    {
        private static void Collect()
        {
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        /// <summary>Creates and closes N queues, their handles left to the GC (not inlined: no local of the caller holds one).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CreateAndClose(int n)
        {
            for (int i = 0; i < n; i++)
            {
                var q = IpcQueue.Create(PlatformTesting.NewName("sr"));
                q.Put(i);
                Assert.Equal(i, q.Get());
                q.Close();
            }
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void TheSegmentsOfClosedQueuesAreCollected()
        {
            Collect();
            int before = SegmentRanges.Count;
            using (var q = IpcQueue.Create(PlatformTesting.NewName("sr")))
                Assert.Equal(before + 1, SegmentRanges.Count);   // a queue's segment is waitable: registered while mapped
            CreateAndClose(500);
            Collect();
            Assert.InRange(SegmentRanges.Count, 0, before + 10);
        }
    }
}
