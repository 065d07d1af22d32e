using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using IpcPs.Core.Messaging;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The shared layouts as docs/design.md documents them, checked against the code twice: every named offset of every
    /// kind (the private constants, by reflection) against the document's tables, and the bytes a real object holds
    /// (read raw, as another process sees them) against the same tables. A change of either side fails here.
    /// </summary>
    public sealed class LayoutHeaderTests
    {
        /// <summary>docs/design.md, "Segments": the kinds' numbers in the header (and registry records keep the names).</summary>
        [Fact]
        public void TheKindsHaveTheDocumentedNumbers()
        {
            var documented = new[]
            {
                "SharedMemory", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier", "Queue", "Pipe",
                "Value", "Array", "ShareableList",
            };
            Assert.Equal(documented, Enum.GetNames(typeof(IpcObjectKind)));
            for (int i = 0; i < documented.Length; i++) Assert.Equal(i, (int)Enum.Parse<IpcObjectKind>(documented[i]));
        }

        public static TheoryData<string, string, int> Offsets()
        {
            var d = new TheoryData<string, string, int>();
            void Add(Type t, params (string Name, int Value)[] offsets)
            {
                foreach (var (n, v) in offsets) d.Add(t.Name, n, v);
            }
            // The IpcPs header.
            Add(typeof(SyncObject), ("KindOffset", 8), ("PidNamespaceOffset", 12), ("StateOffset", 64));
            Add(typeof(IpcLock), ("WordOffset", 64), ("CountOffset", 72), ("ThreadOffset", 76), ("OwnerOffset", 80), ("SegmentSize", 4096));
            Add(typeof(IpcSemaphore), ("Guard", 64), ("Value", 72), ("Sleepers", 76), ("Sequence", 80), ("Surplus", 84),
                ("UndoPending", 88), ("UndoValue", 92), ("UndoSurplus", 96), ("UndoSlot", 100), ("UndoHolder", 104), ("UndoPermits", 112),
                ("Slots", 128), ("SlotCount", 64), ("SlotSize", 16), ("SlotHolder", 0), ("SlotPermits", 8));
            Add(typeof(IpcEvent), ("StateWord", 64), ("Sleepers", 68));
            Add(typeof(IpcCondition), ("NextNumber", 64), ("Sequence", 68), ("LockNameOffset", 128), ("LockNameCapacity", 260),
                ("Slots", 1024), ("SlotCount", 128), ("SlotSize", 16), ("SlotState", 0), ("SlotPid", 4), ("SlotNumber", 8), ("SlotStart", 12));
            Add(typeof(IpcBarrier), ("Guard", 64), ("Arrived", 72), ("Generation", 76), ("BrokenFlag", 80), ("FailedGeneration", 84),
                ("Waiting", 512), ("WaitingStride", 8), ("WatchedParties", 448), ("ActionText", 4096), ("ActionCapacity", 4096), ("SegmentSize", 8192));
            Add(typeof(IpcTypedData), ("TypeOffset", 64), ("SizeOffset", 68), ("FlagsOffset", 72), ("LockName", 128), ("LockNameCapacity", 260),
                ("DataOffset", 512));
            Add(typeof(IpcQueue), ("LockWord", 64), ("BlockCountOff", 72), ("CountOff", 76), ("UsedOff", 80), ("FreeHeadOff", 84),
                ("FreshOff", 88), ("UnfinishedOff", 92), ("HeadOff", 96), ("TailOff", 100), ("PutSignal", 104), ("GetSleepers", 108),
                ("GetSignal", 112), ("PutSleepers", 116), ("FreeTailOff", 120), ("Flags", 124), ("PutLogOffset", 128), ("GetLogOffset", 1088),
                ("JoinSignal", 1984), ("JoinSleepers", 1988), ("BlocksOffset", 2048), ("BlockSize", 64), ("FirstPayload", 48), ("NextPayload", 60));
            Add(typeof(RedoLog), ("Capacity", 96));
            Add(typeof(IpcConnection), ("FlagsOff", 64), ("EndsOffset", 128), ("EndStride", 128), ("Slots", 16), ("SlotSize", 8),
                ("RingsOffset", 512), ("RingStride", 512), ("DataOffset", 2048), ("WriteLock", 0), ("Broken", 8), ("WriterMid", 12),
                ("ReaderMid", 16), ("TailOff", 64), ("DataSignal", 72), ("ReaderSleepers", 76), ("HeadOff", 128), ("SpaceSignal", 136),
                ("WriterSleepers", 140), ("ReadLock", 192), ("FrameHeader", 8), ("RawFlag", 1), ("MinimumBufferSize", 4096));
            return d;
        }

        private static readonly Dictionary<string, Type> Types = new[]
        {
            typeof(SyncObject), typeof(IpcLock), typeof(IpcSemaphore), typeof(IpcEvent), typeof(IpcCondition), typeof(IpcBarrier),
            typeof(IpcTypedData), typeof(IpcQueue), typeof(RedoLog), typeof(IpcConnection),
        }.ToDictionary(t => t.Name);

        [Theory, MemberData(nameof(Offsets))]
        public void EveryNamedOffsetIsTheDocumentedOne(string type, string name, int documented) =>
            Assert.Equal(documented, Layout.Const(Types[type], name));

        /// <summary>
        /// Every field fits where the document says, nothing overlaps the next field, and every 64-bit word (lock words,
        /// holder ids, ring positions, a bucket's priority) is 8-byte aligned, on a little-endian machine, where the low
        /// half — the futex word holding the pid and the waiters bit — is at the word's own address.
        /// </summary>
        [Fact]
        public void FieldsFitAndSixtyFourBitWordsAreAligned()
        {
            Assert.True(BitConverter.IsLittleEndian);
            Assert.Equal(0x32424F5350435049L, Layout.LongConst(typeof(SyncObject), "Magic"));
            Assert.Equal("IPCPSOB2", Encoding.ASCII.GetString(BitConverter.GetBytes(Layout.LongConst(typeof(SyncObject), "Magic"))));
            int C<T>(string n) => Layout.Const<T>(n);
            var words64 = new[]
            {
                C<IpcLock>("WordOffset"), C<IpcLock>("OwnerOffset"), C<IpcSemaphore>("Guard"), C<IpcSemaphore>("UndoHolder"),
                C<IpcSemaphore>("Slots"), C<IpcSemaphore>("SlotSize"), C<IpcBarrier>("Guard"), C<IpcBarrier>("Waiting"),
                C<IpcQueue>("LockWord"), C<IpcQueue>("BlocksOffset"), C<IpcQueue>("BlockSize"), C<IpcConnection>("EndsOffset"),
                C<IpcConnection>("EndStride"), C<IpcConnection>("SlotSize"), C<IpcConnection>("RingsOffset"), C<IpcConnection>("RingStride"),
                C<IpcConnection>("WriteLock"), C<IpcConnection>("TailOff"), C<IpcConnection>("HeadOff"), C<IpcConnection>("ReadLock"),
                C<IpcConnection>("DataOffset"), 16 /* a priority bucket's i64 priority, within its block */,
            };
            Assert.All(words64, o => Assert.True(o % 8 == 0, $"A 64-bit word at {o} is not 8-byte aligned."));

            int logBytes = 4 + 8 * C<RedoLog>("Capacity");
            Assert.True(C<IpcQueue>("PutLogOffset") + logBytes <= C<IpcQueue>("GetLogOffset"));
            Assert.True(C<IpcQueue>("GetLogOffset") + logBytes <= C<IpcQueue>("JoinSignal"));
            Assert.True(C<IpcQueue>("JoinSleepers") + 4 <= C<IpcQueue>("BlocksOffset"));
            // The state every put and get touches shares one cache line with the lock: 64..127.
            foreach (var f in new[] { "BlockCountOff", "CountOff", "UsedOff", "FreeHeadOff", "FreshOff", "UnfinishedOff", "HeadOff", "TailOff",
                "PutSignal", "GetSleepers", "GetSignal", "PutSleepers", "FreeTailOff", "Flags" })
                Assert.InRange(C<IpcQueue>(f), 64, 124);

            Assert.Equal(C<IpcConnection>("EndStride"), C<IpcConnection>("Slots") * C<IpcConnection>("SlotSize"));
            Assert.True(C<IpcConnection>("EndsOffset") + 2 * C<IpcConnection>("EndStride") <= C<IpcConnection>("RingsOffset"));
            Assert.True(C<IpcConnection>("RingsOffset") + 2 * C<IpcConnection>("RingStride") <= C<IpcConnection>("DataOffset"));
            Assert.True(C<IpcConnection>("ReadLock") + 8 <= C<IpcConnection>("RingStride"));
            // The writer's line (tail, data signal, reader sleepers) and the reader's (head, space signal, writer sleepers)
            // are separate cache lines, and neither holds a lock.
            Assert.Equal(new[] { 1, 1, 1 }, new[] { "TailOff", "DataSignal", "ReaderSleepers" }.Select(f => C<IpcConnection>(f) / 64).ToArray());
            Assert.Equal(new[] { 2, 2, 2 }, new[] { "HeadOff", "SpaceSignal", "WriterSleepers" }.Select(f => C<IpcConnection>(f) / 64).ToArray());
            Assert.Equal(3, C<IpcConnection>("ReadLock") / 64);

            Assert.True(C<IpcSemaphore>("UndoPermits") + 4 <= C<IpcSemaphore>("Slots"));
            Assert.True(C<IpcSemaphore>("Slots") + C<IpcSemaphore>("SlotCount") * C<IpcSemaphore>("SlotSize") <= C<IpcLock>("SegmentSize"));
            Assert.True(C<IpcCondition>("LockNameOffset") + C<IpcCondition>("LockNameCapacity") <= C<IpcCondition>("Slots"));
            Assert.True(C<IpcCondition>("Slots") + C<IpcCondition>("SlotCount") * C<IpcCondition>("SlotSize") <= C<IpcLock>("SegmentSize"));
            Assert.Equal(C<IpcBarrier>("ActionText"), C<IpcBarrier>("Waiting") + C<IpcBarrier>("WatchedParties") * C<IpcBarrier>("WaitingStride"));
            Assert.Equal(C<IpcBarrier>("SegmentSize"), C<IpcBarrier>("ActionText") + C<IpcBarrier>("ActionCapacity"));
            Assert.True(C<IpcTypedData>("LockName") + C<IpcTypedData>("LockNameCapacity") <= C<IpcTypedData>("DataOffset"));
        }

        /// <summary>What each kind's header holds: (kind number, parameter A, parameter B, segment size).</summary>
        public static TheoryData<string> Kinds() => new TheoryData<string>(Makers.Keys);

        private static readonly Dictionary<string, Func<(IpcObject Obj, int Kind, long A, double B, long Size)>> Makers =
            new Dictionary<string, Func<(IpcObject, int, long, double, long)>>
            {
                ["Lock"] = () => (IpcLock.Create(null), 1, 0, 0, 4096),
                ["RLock"] = () => (IpcLock.Create(null, recursive: true), 2, 0, 0, 4096),
                ["Semaphore"] = () => (IpcSemaphore.Create(null, 2), 3, -1, 0, 4096),
                ["BoundedSemaphore"] = () => (IpcSemaphore.Create(null, 1, maximum: 5), 4, 5, 0, 4096),
                ["Event"] = () => (IpcEvent.Create(null), 5, 0, 0, 4096),
                ["Condition"] = () => (IpcCondition.Create(null), 6, 0, 0, 4096),
                ["Barrier"] = () => (IpcBarrier.Create(null, 3, timeoutSeconds: 2.5), 7, 3, 2.5, 8192),
                ["BarrierWithoutTimeout"] = () => (IpcBarrier.Create(null, 2), 7, 2, double.NaN, 8192),
                ["Queue"] = () => (IpcQueue.Create(null, maxSize: 7, capacity: 4096), 8, 7, 0, 2048 + 4096),
                ["DuplexPipe"] = () => (FirstEnd(IpcConnection.CreatePipe(null, duplex: true, bufferSize: 5000)), 9, 8192, 0, 2048 + 2 * 8192),
                ["OneWayPipe"] = () => (FirstEnd(IpcConnection.CreatePipe(null, duplex: false, bufferSize: 4096)), 9, 4096, 0, 2048 + 4096),
                ["Value"] = () => (IpcValue.Create(null, IpcDataType.Parse("d"), 2.5), 10, 1, 0, 512 + 8),
                ["Array"] = () => (IpcArray.Create(null, IpcDataType.Parse("i"), 10), 11, 10, 0, 512 + 40),
            };

        private static IpcConnection FirstEnd(IpcConnection[] ends)
        {
            ends[1].Close();
            return ends[0];
        }

        [Theory, MemberData(nameof(Kinds))]
        public void EveryKindStartsWithTheDocumentedHeader(string what)
        {
            var (obj, kind, a, b, size) = Makers[what]();
            try
            {
                using var raw = new RawSegment(obj.Name);
                Assert.Equal("IPCPSOB2", Encoding.ASCII.GetString(raw.Bytes(0, 8)));
                Assert.Equal(kind, raw.Int(8));
                Assert.Equal((int)obj.Kind, kind);
                Assert.Equal(Platforms.Current.Processes.PidNamespace, (uint)raw.Int(12));
                Assert.Equal(a, raw.Long(16));
                if (double.IsNaN(b)) Assert.True(double.IsNaN(raw.Double(24)));
                else Assert.Equal(b, raw.Double(24));
                Assert.All(raw.Bytes(32, 32), x => Assert.Equal(0, x));   // reserved
                if (PlatformTesting.IsWindows)
                {
                    // Windows maps whole pages, and a waitable kind's mapping ends with its sleepers table (design.md,
                    // "Windows"): the raw mapping is the size rounded up to pages, plus the table.
                    Assert.InRange(raw.Size, size, (size + 4095) / 4096 * 4096 + Core.Platform.Windows.WaitTable.Size);
                    Assert.Equal(raw.Size, Platforms.Current.SharedMemory.SizeOf(obj.Name));
                }
                else
                {
                    Assert.Equal(size, raw.Size);
                    Assert.Equal(size, Platforms.Current.SharedMemory.SizeOf(obj.Name));
                }
            }
            finally
            {
                obj.Unlink();
                obj.Close();
            }
        }
    }
}
