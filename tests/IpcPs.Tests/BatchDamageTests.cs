using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A batch receive that meets a damaged message behaves as that many single receives in a row (docs/design.md,
    /// "Damaged messages in a batch"): the messages before it are delivered, it fails once with its typed error, and
    /// the ones after it, already out of the shared object, are kept by the handle and delivered first by its next
    /// receive of any kind. Messages are damaged in shared memory as any writer of the segment could (RawSegment).
    /// Redis: RedisBatchDamageTests.
    /// </summary>
    public sealed unsafe class BatchDamageTests
    {
        private static readonly int HeadOff = Layout.Const<IpcQueue>("HeadOff"), BlocksOffset = Layout.Const<IpcQueue>("BlocksOffset");
        private const byte NotATag = 0xEE;   // no value tag: the codec's MessageFormatException

        private static int Block(int index) => BlocksOffset + index * IpcQueue.BlockSize;

        /// <summary>The first block of the message a get takes INDEX-th (0: next), in any order: walks heads, links and buckets.</summary>
        private static int MessageBlock(RawSegment s, IpcQueue q, int index)
        {
            int bucket = q.Order == QueueOrder.Priority ? s.Int(HeadOff) : -1;
            int m = q.Order == QueueOrder.Priority ? s.Int(Block(bucket) + 4) : s.Int(HeadOff);
            for (int i = 0; i < index; i++)
            {
                m = s.Int(Block(m) + 4);
                if (m == -1 && bucket != -1)
                {
                    bucket = s.Int(Block(bucket));
                    m = s.Int(Block(bucket) + 4);
                }
            }
            return m;
        }

        /// <summary>Overwrites the first payload byte (the value's tag) of the INDEX-th message to come out: it no longer decodes.</summary>
        private static void DamagePayload(IpcQueue q, int index)
        {
            using var s = new RawSegment(q.Name);
            s.Base[Block(MessageBlock(s, q, index)) + 16] = NotATag;
        }

        private static IpcQueue NewQueue(QueueOrder order) => IpcQueue.Create(PlatformTesting.NewName("bd"), order: order);

        /// <summary>Puts 0..9 so that they come out 0..9 in ORDER (Priority: two buckets, the damage in the second).</summary>
        private static void PutTen(IpcQueue q)
        {
            switch (q.Order)
            {
                case QueueOrder.Lifo: q.PutMany(Enumerable.Range(0, 10).Reverse().ToArray()); break;
                case QueueOrder.Priority: q.PutManyWithPriority(Enumerable.Range(0, 3).ToArray(), 1); q.PutManyWithPriority(Enumerable.Range(3, 7).ToArray(), 2); break;
                default: for (int i = 0; i < 10; i++) q.Put(i); break;
            }
        }

        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_queue_batch_delivers_every_good_message_once_and_in_order(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutTen(q);
            DamagePayload(q, 4);
            // Before it: delivered by this call. The rest (4..9) are out of the queue and kept by the handle.
            Assert.Equal(new object[] { 0, 1, 2, 3 }, q.GetMany(10));
            Assert.Equal(6, q.QSize());
            Assert.False(q.Empty());
            Assert.Throws<MessageFormatException>(() => q.GetMany(10));   // the damaged one, once
            Assert.Equal(5, q.Get(false));                                 // a single get takes what the batch kept first
            Assert.Equal(new object[] { 6, 7, 8, 9 }, q.GetMany(10));
            Assert.True(q.Empty());
            Assert.Throws<QueueEmptyException>(() => q.Get(false));
            Assert.Equal(0, q.UsedBytes);
        }

        [Fact]
        public void The_first_message_damaged_fails_the_batch_that_meets_it_and_the_channel_interface_keeps_the_rest()
        {
            using var q = NewQueue(QueueOrder.Fifo);
            PutTen(q);
            DamagePayload(q, 0);
            IBatchChannel ch = q;   // what Receive-IpcMessage -Count uses
            var got = new List<object?>();
            Assert.Throws<MessageFormatException>(() => ch.TryReceiveMany(4, TimeSpan.Zero, TestContext.Current.CancellationToken, got));
            Assert.Empty(got);
            Assert.Equal(3, ch.TryReceiveMany(10, TimeSpan.Zero, TestContext.Current.CancellationToken, got));   // what that batch kept, no more
            Assert.True(ch.TryReceive(TimeSpan.Zero, TestContext.Current.CancellationToken, out var next));
            got.Add(next);
            Assert.Equal(5, ch.TryReceiveMany(10, TimeSpan.Zero, TestContext.Current.CancellationToken, got));
            Assert.Equal(Enumerable.Range(1, 9).Cast<object?>(), got);
            Assert.Equal(0, ch.TryReceiveMany(10, TimeSpan.Zero, TestContext.Current.CancellationToken, got));
        }

        [Fact]
        public void Two_damaged_messages_in_a_batch_fail_once_each_in_their_places()
        {
            using var q = NewQueue(QueueOrder.Fifo);
            PutTen(q);
            DamagePayload(q, 2);
            DamagePayload(q, 3);
            DamagePayload(q, 7);
            var got = new List<object?>();
            int failures = 0;
            for (int call = 0; call < 20 && !q.Empty(); call++)
            {
                try { got.AddRange(q.GetMany(10)); }
                catch (MessageFormatException) { failures++; }
            }
            Assert.Equal(new object[] { 0, 1, 4, 5, 6, 8, 9 }, got);
            Assert.Equal(3, failures);
        }

        [Fact]
        public void A_handle_closed_with_kept_messages_drops_them_and_another_handle_never_sees_them()
        {
            using var q = NewQueue(QueueOrder.Fifo);
            PutTen(q);
            DamagePayload(q, 1);
            using var other = IpcQueue.Create(q.Name, openOrCreate: true);
            Assert.Equal(new object[] { 0 }, other.GetMany(10));
            Assert.Equal(9, other.QSize());   // the damaged one and the eight after it
            Assert.Equal(0, q.QSize());   // they are that handle's: out of the queue
            other.Close();
            Assert.Equal(0, q.QSize());
            q.Put("next");
            Assert.Equal("next", q.Get(false));
        }

        /// <summary>
        /// A damaged link or length (IpcObjectCorruptException) met after messages a batch get has already taken ends the
        /// batch with them: before, a Fifo batch of single puts lost the groups it had committed (89 messages a group).
        /// </summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_damaged_length_after_committed_messages_loses_none_of_them(QueueOrder order)
        {
            using var q = NewQueue(order);
            for (int i = 0; i < 100; i++)
            {
                if (order == QueueOrder.Priority) q.PutWithPriority(i, 0);
                else q.Put(i);
            }
            using (var s = new RawSegment(q.Name)) s.Int(Block(MessageBlock(s, q, 95)) + 8) = -7;
            Assert.Equal(Enumerable.Range(0, 95).Cast<object?>(), q.GetMany(200));
            Assert.Equal(5, q.QSize());
            var e = Assert.Throws<IpcObjectCorruptException>(() => q.GetMany(200));
            Assert.Contains("claims -7 bytes", e.Message);
            Assert.Equal(5, q.QSize());   // the damage took nothing: the queue says where it is, every time
            Assert.Throws<IpcObjectCorruptException>(() => q.Get(false));
        }

        // ---- pipe ----------------------------------------------------------------------------------------------------

        private static readonly int RingsOffset = Layout.Const<IpcConnection>("RingsOffset"), RingHead = Layout.Const<IpcConnection>("HeadOff"),
            DataOffset = Layout.Const<IpcConnection>("DataOffset");

        /// <summary>The offset in the segment of frame INDEX (0: the next one end 0 receives) of ring 0; frames do not wrap here.</summary>
        private static int Frame(RawSegment s, IpcConnection end0, int index)
        {
            long pos = s.Long(RingsOffset + RingHead);
            for (int i = 0; i < index; i++) pos += 8 + s.Int(DataOffset + (int)(pos & (end0.BufferSize - 1)));
            return DataOffset + (int)(pos & (end0.BufferSize - 1));
        }

        private static IpcConnection[] PipeOfTen(int damaged, bool payload)
        {
            var ends = IpcConnection.CreatePipe(PlatformTesting.NewName("bd"), duplex: false, bufferSize: 64 * 1024);
            ends[1].SendMany(Enumerable.Range(0, 10).Select(i => (object)i).ToArray());
            using var s = new RawSegment(ends[0].Name);
            int frame = Frame(s, ends[0], damaged);
            if (payload) s.Base[frame + 8] = NotATag;
            else s.Int(frame) = -1;   // a length no sender writes: the ring is broken from there on
            return ends;
        }

        [Fact]
        public void A_pipe_batch_delivers_every_good_message_once_and_in_order()
        {
            var ends = PipeOfTen(4, payload: true);
            try
            {
                var r = ends[0];
                Assert.Equal(new object[] { 0, 1, 2, 3 }, r.RecvMany(10));
                Assert.True(r.Poll());
                Assert.Throws<MessageFormatException>(() => r.RecvMany(10));
                Assert.Equal(5, r.Recv());
                Assert.Equal(new byte[] { (byte)Tag.Int32, 6, 0, 0, 0 }, r.RecvBytes());   // kept as its bytes
                var into = new byte[8];
                Assert.Equal(5, r.RecvBytesInto(into, 2));
                Assert.Equal(7, into[3]);
                Assert.Equal(new object[] { 8, 9 }, r.RecvMany(10));
                Assert.False(r.Poll());
                ends[1].Close();
                Assert.Throws<ConnectionClosedException>(() => r.RecvMany(10));
            }
            finally { foreach (var e in ends) e.Close(); }
        }

        [Fact]
        public void A_pipe_frame_length_no_sender_writes_is_met_after_the_frames_before_it()
        {
            var ends = PipeOfTen(4, payload: false);
            try
            {
                var r = ends[0];
                Assert.Equal(new object[] { 0, 1, 2, 3 }, r.RecvMany(10));
                Assert.Contains("broken", Assert.Throws<ConnectionClosedException>(() => r.RecvMany(10)).Message);
                Assert.Throws<ConnectionClosedException>(() => r.Recv());
            }
            finally { foreach (var e in ends) e.Close(); }
        }
    }
}
