using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Batches in one process: a batch's messages are byte for byte the messages single sends make, and a queue's or a
    /// pipe's batch keeps order and bounds whatever its size against the redo log (multi-process and crash cases:
    /// tests/pester/Batches.Tests.ps1 and the crash-injection matrix).
    /// </summary>
    [Collection("codec")]
    public sealed class BatchTests
    {
        private static byte[] Single(object? value)
        {
            var w = MessageCodec.Encode(value, 2);
            var bytes = new byte[w.TotalLength];
            Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
            if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
            MessageCodec.Recycle(w);
            return bytes;
        }

        [Fact]
        public void ABatchIsTheMessagesOfSingleSends()
        {
            var shared = new ArrayList { 1, "x" };
            var cyclic = new ArrayList();
            cyclic.Add(cyclic);
            var items = new object?[]
            {
                1, "text", null, new byte[] { 1, 2, 3 }, new sbyte[] { -1 }, new object[] { shared, shared }, cyclic,
                new Hashtable { ["k"] = shared }, 2.5, new int[] { 1, 2 }, shared,
                int.MinValue, -1, int.MaxValue, (short)3, 4L, (uint)5,   // the batch's own int path, and what must not take it
            };
            var batch = MessageBatch.Encode(items, 2);
            try
            {
                Assert.Equal(items.Length, batch.Count);
                for (int i = 0; i < items.Length; i++)
                    Assert.Equal(Single(items[i]), batch.Buffer.Skip(batch.Start(i)).Take(batch.Length(i)).ToArray());
            }
            finally { MessageBatch.Recycle(batch); }
        }

        [Fact]
        public void AnIntArrayIsABatchOfItsInts()
        {
            var ints = new[] { 0, 1, -1, int.MinValue, int.MaxValue, 42 };
            var batch = MessageBatch.Encode(ints, 2);
            try
            {
                Assert.Equal(ints.Length, batch.Count);
                for (int i = 0; i < ints.Length; i++)
                    Assert.Equal(Single(ints[i]), batch.Buffer.Skip(batch.Start(i)).Take(batch.Length(i)).ToArray());
            }
            finally { MessageBatch.Recycle(batch); }
        }

        /// <summary>
        /// A batch's decoder reads lone primitives itself (MessageBatch.Decode): whatever the bytes, it returns what the
        /// codec returns, or fails as it fails — at any offset in the received buffer, damaged bytes included.
        /// </summary>
        [Fact]
        public void ABatchDecodesAsTheCodecDecodes()
        {
            var messages = new List<byte[]>();
            foreach (var v in new object?[] { 0, -1, int.MinValue, int.MaxValue, 0L, long.MinValue, 2.5, double.NaN, -0.0, true, false, null, "s", (short)1, 1.5f })
                messages.Add(Single(v));
            messages.Add(new byte[] { (byte)Tag.Int32, 1, 2, 3 });            // too short
            messages.Add(new byte[] { (byte)Tag.Int32, 1, 2, 3, 4, 5 });      // a byte after the value
            messages.Add(new byte[] { (byte)Tag.Int64, 1, 2, 3, 4 });
            messages.Add(new byte[] { (byte)Tag.Double, 1, 2, 3, 4, 5, 6, 7, 8, 9 });
            messages.Add(new byte[] { (byte)Tag.True, 0 });
            messages.Add(new byte[] { 0xEE });
            messages.Add(new byte[] { 0xEE, 1, 2, 3, 4 });
            messages.Add(Array.Empty<byte>());
            foreach (var m in messages)
            {
                var buffer = new byte[m.Length + 7];
                Buffer.BlockCopy(m, 0, buffer, 3, m.Length);
                object? expected = null, actual = null;
                Exception? expectedError = null, actualError = null;
                try { expected = MessageCodec.Decode(buffer, 3, m.Length); } catch (Exception e) { expectedError = e; }
                try { actual = MessageBatch.Decode(buffer, 3, m.Length); } catch (Exception e) { actualError = e; }
                Assert.Equal(expectedError?.GetType(), actualError?.GetType());
                Assert.Equal(expected?.GetType(), actual?.GetType());
                Assert.Equal(expected, actual);
            }
        }

        [Fact]
        public void AnItemThatCannotBeSentFailsTheBatch()
        {
            var tooCostly = Enumerable.Range(0, 20000).Select(_ => (object)new Hashtable()).ToArray();
            Assert.ThrowsAny<ArgumentException>(() => MessageBatch.Encode(new object?[] { 1, tooCostly, 3 }, 2));
            var after = MessageBatch.Encode(new object?[] { 7 }, 2);   // the thread's batch is usable again
            try { Assert.Equal(Single(7), after.Buffer.Take(after.Length(0)).ToArray()); }
            finally { MessageBatch.Recycle(after); }
        }

        [Fact]
        public void ABatchFilledOneByOneIsTheMessagesOfSingleSendsAndAnItemThatFailsLeavesNoTrace()
        {
            // Send-IpcMessage's batcher: each item encoded when it is handed over (Append), held messages copied
            // (AppendEncoded), the first ones dropped after a pipe's partial send (DropFirst).
            var batch = MessageBatch.Create();
            var tooCostly = Enumerable.Range(0, 20000).Select(_ => (object)new Hashtable()).ToArray();
            var table = new Hashtable { ["N"] = 1 };
            batch.Append(1, 2, rawBytes: false);
            batch.Append(table, 2, rawBytes: false);
            table["N"] = 2;   // changed after it was handed over: the batch holds it as it was
            Assert.ThrowsAny<ArgumentException>(() => batch.Append(tooCostly, 2, rawBytes: false));
            batch.Append("after", 2, rawBytes: false);
            batch.Append(new byte[] { 9, 8 }, 2, rawBytes: true);
            Assert.Equal(4, batch.Count);
            Assert.Equal(Single(1), Message(batch, 0));
            Assert.Equal(Single(new Hashtable { ["N"] = 1 }), Message(batch, 1));
            Assert.Equal(Single("after"), Message(batch, 2));
            Assert.Equal(new byte[] { 9, 8 }, Message(batch, 3));
            Assert.True(batch.IsRaw(3));

            var one = MessageBatch.Create();
            one.AppendEncoded(batch, 1);
            Assert.Equal(1, one.Count);
            Assert.Equal(Single(new Hashtable { ["N"] = 1 }), Message(one, 0));

            batch.DropFirst(2);
            Assert.Equal(2, batch.Count);
            Assert.Equal(Single("after"), Message(batch, 0));
            Assert.Equal(new byte[] { 9, 8 }, Message(batch, 1));
            Assert.True(batch.IsRaw(1));
            Assert.False(batch.IsRaw(0));
            batch.DropFirst(5);
            Assert.Equal(0, batch.Count);
            batch.Append(3, 2, rawBytes: false);
            Assert.Equal(Single(3), Message(batch, 0));
        }

        private static byte[] Message(MessageBatch batch, int i) => batch.Buffer.Skip(batch.Start(i)).Take(batch.Length(i)).ToArray();

        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void BatchesFarLargerThanTheRedoLogKeepOrder(QueueOrder order)
        {
            using var q = IpcQueue.Create(null, capacity: 4L << 20, order: order);
            var first = Enumerable.Range(0, 5000).Select(i => (object)i).ToArray();
            var second = Enumerable.Range(0, 3000).Select(i => (object)("s" + i)).ToArray();
            if (order == QueueOrder.Priority)
            {
                q.PutManyWithPriority(second, 2);
                q.PutManyWithPriority(first, 1);
            }
            else
            {
                q.PutMany(first);
                q.PutMany(second);
            }
            for (int i = 0; i < 500; i++) q.Put(-i);   // single puts after: their links are logged one by one on the get
            var got = new List<object?>();
            while (got.Count < 8500) got.AddRange(q.GetMany(1000, 0));
            IEnumerable<object> expected = order switch
            {
                QueueOrder.Fifo => first.Concat(second).Concat(Enumerable.Range(0, 500).Select(i => (object)(-i))),
                QueueOrder.Lifo => Enumerable.Range(0, 500).Select(i => (object)(-i)).Reverse().Concat(second.Reverse()).Concat(first.Reverse()),
                _ => Enumerable.Range(0, 500).Select(i => (object)(-i)).Concat(first).Concat(second),   // priority 0, 1, 2
            };
            Assert.Equal(expected, got);
            Assert.Equal(0, q.QSize());
            Assert.Equal(0, q.UsedBytes);
            q.PutMany(first);   // and the free list serves a batch again
            Assert.Equal(order == QueueOrder.Lifo ? first.Reverse() : first, q.GetMany(10000, 0));
        }

        [Fact]
        public void ABatchGetOfLoopingLinksSaysDamagedInsteadOfTakingMoreThanTheQueueHolds()
        {
            // A damaged segment (any writer can write it): the count claims 1,000 messages and the one message links to
            // itself. A batch get must not hand out the same message again and again (nor allocate for 1,000 of the
            // largest): messages taken together were all in the queue at once, so they fit in its storage.
            foreach (var order in new[] { QueueOrder.Fifo, QueueOrder.Priority })
            {
                using var q = IpcQueue.Create(null, capacity: 64 * IpcQueue.BlockSize, order: order);
                try
                {
                    q.Put(new string('x', 40));
                    using (var words = new ChaosWorker.Words(q.Name))
                    {
                        int head = words[96 / 4];
                        int first = order == QueueOrder.Priority ? words[(2048 + head * 64 + 4) / 4] : head;
                        words[(2048 + first * 64 + 4) / 4] = first;   // the message's next message: itself
                        words[76 / 4] = 1000;                          // the count
                    }
                    Assert.ThrowsAny<IpcObjectKindException>(() => q.GetMany(1000, 0));
                }
                finally { q.Unlink(); }
            }
        }

        [Fact]
        public void APipeBatchLargerThanItsRingGoesAsRoomComes()
        {
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: 4096);
            try
            {
                var items = Enumerable.Range(0, 2000).Select(i => (object)i).ToArray();
                var got = new List<object?>();
                var t = new System.Threading.Thread(() => { while (got.Count < items.Length) got.AddRange(ends[0].RecvMany(300, 30)); });
                t.Start();
                ends[1].SendMany(items);
                Assert.True(t.Join(TimeSpan.FromSeconds(60)));
                Assert.Equal(items, got);
            }
            finally
            {
                ends[0].Close();
                ends[1].Close();
            }
        }
    }
}
