using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Each kind's state as docs/design.md draws it, observed in the bytes of real objects after real operations (the
    /// offsets spelled out here, from the document, not taken from the code): a queue's header words, blocks, buckets and
    /// redo log; a pipe's holder slots, ring words and frames; a Value's and an Array's header and elements; a
    /// condition's waiter slots; a barrier's action text; a semaphore's value and holder slots.
    /// </summary>
    public sealed class LayoutStateTests
    {
        private static int Block(int i) => 2048 + 64 * i;

        [Fact]
        public void AQueueKeepsItsWordsBlocksAndSignalsWhereDocumented()
        {
            using var q = IpcQueue.Create(null, capacity: 4096, joinable: true);
            try
            {
                using var raw = new RawSegment(q.Name);
                // 72 blocks, 76 count, 80 used, 84 free head, 88 fresh, 92 unfinished, 96 head, 100 tail, 104 put signal,
                // 112 get signal, 120 free tail, 124 flags (order | joinable << 8); 128 and 1088 the redo logs' counts.
                Assert.Equal((64, 0, 0, -1, 0, 0, -1, -1, -1, 0 | 1 << 8), (raw.Int(72), raw.Int(76), raw.Int(80), raw.Int(84), raw.Int(88),
                    raw.Int(92), raw.Int(96), raw.Int(100), raw.Int(120), raw.Int(124)));
                q.Put("A");   // encoded: 10 01 41
                Assert.Equal((-1, -1, 3, 0), (raw.Int(Block(0)), raw.Int(Block(0) + 4), raw.Int(Block(0) + 8), raw.Int(Block(0) + 12)));
                Assert.Equal(new byte[] { 0x10, 0x01, 0x41 }, raw.Bytes(Block(0) + 16, 3));
                Assert.Equal((1, 1, 1, 1, 0, 0, 1), (raw.Int(76), raw.Int(80), raw.Int(88), raw.Int(92), raw.Int(96), raw.Int(100), raw.Int(104)));

                var b = new string('b', 60);   // 62 bytes encoded: 48 in the first block, 14 in the next from its byte 4
                q.Put(b);
                Assert.Equal((2, -1, 62), (raw.Int(Block(1)), raw.Int(Block(1) + 4), raw.Int(Block(1) + 8)));
                Assert.Equal(new byte[] { 0x10, 60 }.Concat(Enumerable.Repeat((byte)'b', 46)), raw.Bytes(Block(1) + 16, 48));
                Assert.Equal(-1, raw.Int(Block(2)));
                Assert.Equal(Enumerable.Repeat((byte)'b', 14), raw.Bytes(Block(2) + 4, 14));
                Assert.Equal((1, 0, 1, 3), (raw.Int(Block(0) + 4), raw.Int(96), raw.Int(100), raw.Int(80)));

                Assert.Equal("A", q.Get());
                // Block 0 freed: the free list is it alone, its link none; the head moved to the second message.
                Assert.Equal((0, 0, -1, 1, 1, 2, 1), (raw.Int(84), raw.Int(120), raw.Int(Block(0)), raw.Int(96), raw.Int(76), raw.Int(80), raw.Int(112)));
                Assert.Equal((0, 0), (raw.Int(128), raw.Int(1088)));
                q.TaskDone();
                Assert.Equal(1, raw.Int(92));
            }
            finally { q.Unlink(); }
        }

        [Fact]
        public void APriorityQueueKeepsSortedBucketsInBlocks()
        {
            using var q = IpcQueue.Create(null, capacity: 4096, order: QueueOrder.Priority);
            using var lifo = IpcQueue.Create(null, capacity: 4096, order: QueueOrder.Lifo);
            try
            {
                using var raw = new RawSegment(q.Name);
                Assert.Equal(2, raw.Int(124));
                using (var rawLifo = new RawSegment(lifo.Name)) Assert.Equal(1, rawLifo.Int(124));
                q.PutWithPriority("x", 7);   // a bucket (block 0), then the message (block 1)
                // Bucket: [0] next bucket, [4] first message, [8] last message, [16] i64 priority.
                Assert.Equal((0, -1, 1, 1, 7L), (raw.Int(96), raw.Int(Block(0)), raw.Int(Block(0) + 4), raw.Int(Block(0) + 8), raw.Long(Block(0) + 16)));
                q.PutWithPriority("y", 3);   // a new first bucket (block 2) before it, its message in block 3
                Assert.Equal((2, 0, 3, 3L), (raw.Int(96), raw.Int(Block(2)), raw.Int(Block(2) + 4), raw.Long(Block(2) + 16)));
                q.PutWithPriority("z", 7);   // joins bucket 7 after x
                Assert.Equal((4, 4), (raw.Int(Block(1) + 4), raw.Int(Block(0) + 8)));
                Assert.Equal(new object[] { "y", "x", "z" }, new[] { q.Get(), q.Get(), q.Get() });
            }
            finally
            {
                q.Unlink();
                lifo.Unlink();
            }
        }

        /// <summary>
        /// The redo log of a put whose process died right after publishing it: i32 count, then (i32 offset, i32 value)
        /// pairs of every shared word the put changes, as the next lock holder finds them and applies them.
        /// </summary>
        [Fact]
        public void ARedoLogIsACountAndOffsetValuePairs()
        {
            var scenario = CrashScenarios.Get("queue.put.fifo.reuse");   // C (3 blocks) put and got, then B (2 blocks) put
            List<string> Run(string name, int n)
            {
                using var w = WorkerProcess.Start(new[] { "crash", scenario.Id, name, n.ToString(CultureInfo.InvariantCulture) }, crashPoints: true);
                w.WaitForExit(TimeSpan.FromSeconds(60));
                return w.Lines;
            }
            string listed = "layout_" + Guid.NewGuid().ToString("N").Substring(0, 12), killed = listed + "k";
            using (var first = (IpcQueue)scenario.Setup(listed))
            {
                int publish = Run(listed, 0).IndexOf(CrashPoints.LogPublish) + 1;
                Assert.True(publish > 0);
                using var q = (IpcQueue)scenario.Setup(killed);
                Assert.DoesNotContain("completed", Run(killed, publish));
                using (var raw = new RawSegment(killed))
                {
                    int count = raw.Int(128);
                    var entries = Enumerable.Range(0, count).Select(i => (raw.Int(128 + 4 + 8 * i), raw.Int(128 + 8 + 8 * i))).ToArray();
                    // The free list's head moves past the two blocks taken, the second's link is cut, two blocks are used,
                    // the message becomes head and tail, the count goes to 1.
                    Assert.Equal(new[] { (84, 2), (Block(1), -1), (80, 2), (96, 0), (100, 0), (76, 1) }, entries);
                    Assert.Equal(0, raw.Int(1088));
                    Assert.Equal(0, raw.Int(76));   // not applied yet: the process died at its commit point
                }
                Assert.Equal(1, QueueShape.Of(q).Count);   // the next lock holder applied it
                using (var raw = new RawSegment(killed)) Assert.Equal(0, raw.Int(128));
                q.Unlink();
                first.Unlink();
            }
        }

        [Fact]
        public void APipeKeepsHoldersRingWordsAndFramesWhereDocumented()
        {
            var oneWay = IpcConnection.CreatePipe(null, duplex: false, bufferSize: 4096);
            var duplex = IpcConnection.CreatePipe(null, duplex: true, bufferSize: 4096);
            try
            {
                using var raw = new RawSegment(oneWay[0].Name);
                Assert.Equal(0, raw.Int(64));
                Assert.Equal(HolderId.Me, raw.Long(128));   // end 0's first holder slot
                Assert.Equal(HolderId.Me, raw.Long(256));   // end 1's
                oneWay[1].SendBytes(new byte[] { 1, 2, 3 });
                // Ring 0 at 512 (read by end 0); its data at 2048: i32 length, i32 flags (1 raw), payload.
                Assert.Equal(new byte[] { 3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3 }, raw.Bytes(2048, 11));
                Assert.Equal((11L, 1), (raw.Long(512 + 64), raw.Int(512 + 72)));
                oneWay[1].Send(5);   // an object: flags 0, the encoded value 03 05000000
                Assert.Equal(new byte[] { 5, 0, 0, 0, 0, 0, 0, 0, 3, 5, 0, 0, 0 }, raw.Bytes(2048 + 11, 13));
                Assert.Equal((24L, 2), (raw.Long(512 + 64), raw.Int(512 + 72)));
                Assert.Equal(new byte[] { 1, 2, 3 }, oneWay[0].Recv());
                Assert.Equal(5, oneWay[0].Recv());
                Assert.Equal((24L, 2), (raw.Long(512 + 128), raw.Int(512 + 136)));
                Assert.Equal((0L, 0L, 0, 0, 0), (raw.Long(512), raw.Long(512 + 192), raw.Int(512 + 8), raw.Int(512 + 12), raw.Int(512 + 16)));

                using var rawDuplex = new RawSegment(duplex[0].Name);
                Assert.Equal(1, rawDuplex.Int(64));
                duplex[0].SendBytes(new byte[] { 9 });   // end 0 writes ring 1 (at 1024), whose data follows ring 0's
                Assert.Equal(new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 9 }, rawDuplex.Bytes(2048 + 4096, 9));
                Assert.Equal((9L, 0L), (rawDuplex.Long(1024 + 64), rawDuplex.Long(512 + 64)));
                Assert.Equal(new byte[] { 9 }, duplex[1].Recv());
            }
            finally
            {
                oneWay[0].Unlink();
                duplex[0].Unlink();
                foreach (var e in oneWay.Concat(duplex)) e.Close();
            }
        }

        [Fact]
        public void ValuesAndArraysKeepTypeSizeFlagsLockNameAndPackedElements()
        {
            var sizes = new Dictionary<char, int> { ['b'] = 1, ['B'] = 1, ['c'] = 1, ['h'] = 2, ['H'] = 2, ['i'] = 4, ['I'] = 4, ['f'] = 4,
                ['l'] = 8, ['L'] = 8, ['q'] = 8, ['Q'] = 8, ['d'] = 8 };
            foreach (var (code, size) in sizes) Assert.Equal(size, IpcDataType.Parse(code.ToString()).Size);

            using var v = IpcValue.Create(null, IpcDataType.Parse("d"), 2.5);
            using var a = IpcArray.Create(null, IpcDataType.Parse("i"), 10, noLock: true);
            try
            {
                using var rv = new RawSegment(v.Name);
                Assert.Equal(('d', 8, 1), ((char)rv.Int(64), rv.Int(68), rv.Int(72)));
                Assert.Equal(v.Name + ".lock", rv.ShortString(128));
                Assert.Equal(2.5, rv.Double(512));
                v.Value = -1.25;
                Assert.Equal(-1.25, rv.Double(512));

                using var ra = new RawSegment(a.Name);
                Assert.Equal(('i', 4, 0, ""), ((char)ra.Int(64), ra.Int(68), ra.Int(72), ra.ShortString(128)));
                a[3] = 77;
                a[-1] = -5;
                Assert.Equal((77, -5), (ra.Int(512 + 12), ra.Int(512 + 36)));
            }
            finally
            {
                v.Unlink();
                a.Unlink();
            }
        }

        [Fact]
        public void AConditionRecordsItsLockAndEachWaiterInASlot()
        {
            using var c = IpcCondition.Create(null);
            try
            {
                using var raw = new RawSegment(c.Name);
                Assert.Equal(c.Lock.Name, raw.ShortString(128));
                Assert.Equal(c.Name + ".lock", c.Lock.Name);
                var waiter = Eventually.OnThread(() =>
                {
                    c.Acquire();
                    try { return c.Wait(20); }
                    finally { c.Release(); }
                });
                Eventually.True(() => c.WaiterCount == 1, "the thread waits");
                // Slot 0 at 1024: {state 1 waiting, pid, number, low 32 bits of the start time}; the next number at 64.
                Assert.Equal((1, HolderId.MyPid, 0, HolderId.Start(HolderId.Me), 1),
                    (raw.Int(1024), raw.Int(1028), raw.Int(1032), (uint)raw.Int(1036), raw.Int(64)));
                int sequence = raw.Int(68);
                c.Acquire();
                c.Notify();
                c.Release();
                Assert.True(Eventually.Within(waiter, 20, "the waiter"));
                Assert.Equal((0, sequence + 1), (raw.Int(1024), raw.Int(68)));
            }
            finally
            {
                c.Lock.Unlink();
                c.Unlink();
            }
        }

        [Fact]
        public void ABarrierKeepsItsActionTextAndASemaphoreItsValueAndHolders()
        {
            const string Action = "Write-Output 'ünïcode'";
            using var b = IpcBarrier.Create(null, 2, Action);
            using var s = IpcSemaphore.Create(null, 3);
            try
            {
                using (var raw = new RawSegment(b.Name))
                {
                    Assert.Equal(Encoding.UTF8.GetByteCount(Action), raw.Int(4096) & 0xFFFF);
                    Assert.Equal(Action, raw.ShortString(4096));
                    Assert.Equal((-1, 0, 0, 0), (raw.Int(84), raw.Int(72), raw.Int(76), raw.Int(80)));
                }
                using var rs = new RawSegment(s.Name);
                Assert.Equal(3, rs.Int(72));
                Assert.True(s.Acquire());
                // Slot 0 at 128: {i64 holder, i32 permits}; the undo record's pending flag at 88 is clear again.
                Assert.Equal((2, HolderId.Me, 1, 0), (rs.Int(72), rs.Long(128), rs.Int(136), rs.Int(88)));
                s.Release();
                Assert.Equal((3, 0L, 0), (rs.Int(72), rs.Long(128), rs.Int(136)));
                s.Release();   // this process holds none now: a produced permit, counted at 84
                Assert.Equal((4, 1), (rs.Int(72), rs.Int(84)));
            }
            finally
            {
                b.Unlink();
                s.Unlink();
            }
        }
    }
}
