using System;
using System.Collections.Generic;
using System.Linq;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A local queue whose links loop (a damaged segment: a message's next link, a block's next link or a priority
    /// bucket's next link leads back to a block the walk has met) never makes a get free a block twice (docs/design.md,
    /// "Damaged messages in a batch"). Freed twice, a block is on the free list twice and two later puts are handed the
    /// same block: messages silently lost or mixed. A batch get walks the whole batch before it commits anything, and
    /// takes only the messages before the loop; the loop stays in the queue and fails every later batch get with
    /// IpcObjectCorruptException. After each damaged get the allocator is checked (AssertSound: no block on the free list
    /// twice, none both free and in the queue, free + used = every block ever used) and fresh puts are shown to get
    /// blocks of their own. Segments are damaged as any writer of them could (RawSegment).
    /// </summary>
    public sealed unsafe class QueueLoopDamageTests
    {
        private static readonly int HeadOff = Layout.Const<IpcQueue>("HeadOff"), TailOff = Layout.Const<IpcQueue>("TailOff"),
            BlocksOffset = Layout.Const<IpcQueue>("BlocksOffset"), FreeHeadOff = Layout.Const<IpcQueue>("FreeHeadOff"),
            FreeTailOff = Layout.Const<IpcQueue>("FreeTailOff"), UsedOff = Layout.Const<IpcQueue>("UsedOff"),
            FreshOff = Layout.Const<IpcQueue>("FreshOff"), BlockCountOff = Layout.Const<IpcQueue>("BlockCountOff");
        private const int None = -1, FirstPayload = IpcQueue.BlockSize - 16, NextPayload = IpcQueue.BlockSize - 4;

        private static int Block(int index) => BlocksOffset + index * IpcQueue.BlockSize;

        private static IpcQueue NewQueue(QueueOrder order, bool joinable = false) =>
            IpcQueue.Create(PlatformTesting.NewName("ql"), capacity: 1 << 20, order: order, joinable: joinable);

        /// <summary>Message I: the int I, or a string of about SIZE bytes (several blocks) that starts with I.</summary>
        private static object Item(int i, int size) => size == 0 ? i : $"{i}:" + new string('x', size);

        /// <summary>Puts COUNT messages, one by one, so that they come out as Item(0) .. Item(COUNT - 1).</summary>
        private static void PutInOrder(IpcQueue q, int count, int size = 0)
        {
            for (int k = 0; k < count; k++)
            {
                int i = q.Order == QueueOrder.Lifo ? count - 1 - k : k;
                if (q.Order == QueueOrder.Priority) q.PutWithPriority(Item(i, size), 5);
                else q.Put(Item(i, size));
            }
        }

        /// <summary>The first block of the message a get takes INDEX-th (0: next), in any order: walks heads, links and buckets.</summary>
        private static int MessageBlock(RawSegment s, QueueOrder order, int index)
        {
            int bucket = order == QueueOrder.Priority ? s.Int(HeadOff) : None;
            int m = order == QueueOrder.Priority ? s.Int(Block(bucket) + 4) : s.Int(HeadOff);
            for (int i = 0; i < index; i++)
            {
                m = s.Int(Block(m) + 4);
                if (m == None && bucket != None)
                {
                    bucket = s.Int(Block(bucket));
                    m = s.Int(Block(bucket) + 4);
                }
            }
            return m;
        }

        /// <summary>Block J of the chain of the message that starts at FIRST.</summary>
        private static int ChainBlock(RawSegment s, int first, int j)
        {
            for (int k = 0; k < j; k++) first = s.Int(Block(first));
            return first;
        }

        /// <summary>
        /// Under the queue's lock: the free list holds no block twice, ends at its recorded tail and has only blocks below
        /// fresh; no block the queue reaches from its head (walked until it meets a block again: the loop stays) is free;
        /// the free blocks and the blocks in use are every block ever used. Returns the blocks the queue reaches.
        /// LEADSTOFREE: the damage itself is a link to a free block, and the queue may reach free blocks through it.
        /// </summary>
        private static HashSet<int> AssertSound(IpcQueue q, bool leadsToFree = false) => q.UnderLock(p =>
        {
            byte* b = (byte*)p;
            int W(int offset) => *(int*)(b + offset);
            int fresh = W(FreshOff), blockCount = W(BlockCountOff);
            Assert.InRange(fresh, 0, blockCount);
            var free = new HashSet<int>();
            int last = None;
            for (int at = W(FreeHeadOff); at != None; at = W(Block(at)))
            {
                Assert.True(at >= 0 && at < fresh, $"The free list holds block {at}; only blocks below {fresh} were ever used.");
                Assert.True(free.Add(at), $"Block {at} is on the free list twice.");
                last = at;
            }
            Assert.True(last == W(FreeTailOff), $"The free list ends at block {last}, its tail says {W(FreeTailOff)}.");

            var queued = new HashSet<int>();
            bool Valid(int block) => block >= 0 && block < blockCount;
            void Message(int first)
            {
                int length = W(Block(first) + 8);
                int blocks = length < 1 || length > blockCount * NextPayload ? 1
                    : length <= FirstPayload ? 1 : 1 + (length - FirstPayload + NextPayload - 1) / NextPayload;
                for (int j = 0, at = first; j < blocks && Valid(at) && queued.Add(at); j++) at = W(Block(at));
            }
            var firsts = new HashSet<int>();
            if (q.Order == QueueOrder.Priority)
            {
                for (int bucket = W(HeadOff); Valid(bucket) && queued.Add(bucket); bucket = W(Block(bucket)))
                    for (int m = W(Block(bucket) + 4); Valid(m) && firsts.Add(m); m = W(Block(m) + 4)) Message(m);
            }
            else
            {
                for (int m = W(HeadOff); Valid(m) && firsts.Add(m); m = W(Block(m) + 4)) Message(m);
            }
            var both = queued.Intersect(free).OrderBy(x => x).ToArray();
            Assert.True(leadsToFree || both.Length == 0, $"Blocks {string.Join(", ", both)} are free and still in the queue.");
            Assert.True(free.Count + W(UsedOff) == fresh,
                $"{free.Count} blocks are free and {W(UsedOff)} in use, but {fresh} were ever used: blocks were freed twice or lost.");
            return queued;
        });

        /// <summary>
        /// Puts 30 messages of several blocks each (Priority: in a new first bucket) and checks that each got blocks of its
        /// own: none of another new one, none the queue still holds. Then the allocator is checked again. Returns them in
        /// the order gets take them when they come first (Lifo, Priority), else null (Fifo: after the damaged part).
        /// </summary>
        private static object[]? AssertPutsGetBlocksOfTheirOwn(IpcQueue q)
        {
            var held = AssertSound(q);
            var mine = new HashSet<int>();
            var items = new List<object>();
            using var s = new RawSegment(q.Name);
            for (int k = 0; k < 30; k++)
            {
                var item = Item(1000 + k, 150);
                items.Add(item);
                int first;
                switch (q.Order)
                {
                    case QueueOrder.Fifo: q.Put(item); first = s.Int(TailOff); break;
                    case QueueOrder.Lifo: q.Put(item); first = s.Int(HeadOff); break;
                    default: q.PutWithPriority(item, -1); first = s.Int(Block(s.Int(HeadOff)) + 8); break;   // the new first bucket's last message
                }
                int length = s.Int(Block(first) + 8);
                int blocks = length <= FirstPayload ? 1 : 1 + (length - FirstPayload + NextPayload - 1) / NextPayload;
                for (int j = 0, at = first; j < blocks; j++, at = s.Int(Block(at)))
                {
                    Assert.False(held.Contains(at), $"Put {k} was given block {at}, which the queue still holds.");
                    Assert.True(mine.Add(at), $"Put {k} was given block {at}, which an earlier put of these was given too.");
                }
            }
            AssertSound(q);
            if (q.Order == QueueOrder.Fifo) return null;
            if (q.Order == QueueOrder.Lifo) items.Reverse();
            return items.ToArray();
        }

        /// <summary>
        /// Damages Q, takes a batch, checks the allocator (first: on the old code it is what broke), then that the batch
        /// took EXPECTED (none: the batch fails with IpcObjectCorruptException, taking nothing), that the loop left in the
        /// queue fails the next batch get every time, that fresh puts get blocks of their own and that gets after them never
        /// hand out a message twice.
        /// </summary>
        private static void TakeAcrossTheDamage(IpcQueue q, Action<RawSegment> damage, object[] expected, int max = 1000)
        {
            using (var s = new RawSegment(q.Name)) damage(s);
            int before = q.QSize();
            object?[]? got = null;
            Exception? failure = null;
            try { got = q.GetMany(max, 0); }
            catch (Exception e) { failure = e; }
            AssertSound(q);
            if (expected.Length == 0) Assert.IsType<IpcObjectCorruptException>(failure);
            else
            {
                Assert.Null(failure);
                Assert.Equal(expected, got);
            }
            Assert.Equal(before - expected.Length, q.QSize());
            for (int again = 0; again < 2; again++)
            {
                var e = Assert.Throws<IpcObjectCorruptException>(() => q.GetMany(max, 0));
                Assert.Contains("loop", e.Message);
                Assert.Equal(before - expected.Length, q.QSize());   // the damage took nothing: it is still there
            }
            var put = AssertPutsGetBlocksOfTheirOwn(q);
            // What gets take from here on (until the damage stops them) holds no message twice, and the new ones, where
            // they come before the damage (Lifo, Priority), whole and in order.
            var drained = new List<object?>();
            for (int call = 0; call < 10; call++)
            {
                try
                {
                    var batch = q.GetMany(max, 0);
                    if (batch.Length == 0) break;
                    drained.AddRange(batch);
                }
                catch (IpcObjectCorruptException) { break; }
                AssertSound(q);
            }
            Assert.Equal(drained.Count, drained.Distinct().Count());
            if (put != null) Assert.Equal(put, drained.Take(put.Length));
            AssertSound(q);
        }

        private static object[] Items(int from, int count, int size = 0) => Enumerable.Range(from, count).Select(i => Item(i, size)).ToArray();

        /// <summary>Message 6's next link leads back to message 3: the batch takes 0..2 and frees each block once.</summary>
        [Theory]
        [InlineData(QueueOrder.Fifo, false)]
        [InlineData(QueueOrder.Lifo, false)]
        [InlineData(QueueOrder.Priority, false)]
        [InlineData(QueueOrder.Fifo, true)]
        [InlineData(QueueOrder.Priority, true)]
        public void A_message_linking_back_to_an_earlier_one_frees_nothing_twice(QueueOrder order, bool joinable)
        {
            using var q = NewQueue(order, joinable);
            PutInOrder(q, 10);
            TakeAcrossTheDamage(q, s => s.Int(Block(MessageBlock(s, order, 6)) + 4) = MessageBlock(s, order, 3), Items(0, 3));
            if (joinable)
            {
                Assert.Equal(40, q.UnfinishedTasks);   // 10 + 30 put, whatever was got since
                q.TaskDone(3);
                Assert.Equal(37, q.UnfinishedTasks);
            }
        }

        /// <summary>The last message's next link leads back: the link the batch would leave the queue with is a freed block.</summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void The_last_message_linking_back_frees_nothing_twice(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 10);
            TakeAcrossTheDamage(q, s => s.Int(Block(MessageBlock(s, order, 9)) + 4) = MessageBlock(s, order, 3), Items(0, 3));
        }

        /// <summary>
        /// 200 single puts, message 150 links back to message 20: a Fifo or Lifo batch commits in groups of 89, so the loop
        /// leads into a group that was already committed (freed) when the walk meets it.
        /// </summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_link_back_into_an_earlier_group_frees_nothing_twice(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 200);
            TakeAcrossTheDamage(q, s => s.Int(Block(MessageBlock(s, order, 150)) + 4) = MessageBlock(s, order, 20), Items(0, 20));
        }

        /// <summary>
        /// 300 single puts (a link logged per message: commit groups of 89), message 250 links back to message 200: the
        /// batch takes 0..199, whole groups and the part of the third before the loop.
        /// </summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_loop_in_a_later_group_ends_the_batch_before_it(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 300);
            TakeAcrossTheDamage(q, s => s.Int(Block(MessageBlock(s, order, 250)) + 4) = MessageBlock(s, order, 200), Items(0, 200));
        }

        /// <summary>Message 4's third block links back to its second: its chain loops; the batch takes 0..3.</summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_block_linking_back_into_its_own_chain_frees_nothing_twice(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 10, 200);   // 4 blocks a message
            TakeAcrossTheDamage(q, s =>
            {
                int first = MessageBlock(s, order, 4);
                s.Int(Block(ChainBlock(s, first, 2))) = ChainBlock(s, first, 1);
            }, Items(0, 4, 200));
        }

        /// <summary>Message 5's second block links into message 2's chain: both hold that block; the batch takes 0 and 1.</summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void A_block_linking_into_an_earlier_message_frees_nothing_twice(QueueOrder order)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 10, 200);
            TakeAcrossTheDamage(q, s => s.Int(Block(ChainBlock(s, MessageBlock(s, order, 5), 1))) = ChainBlock(s, MessageBlock(s, order, 2), 1),
                Items(0, 2, 200));
        }

        /// <summary>
        /// Priority buckets 1, 2, 3 (three messages each); bucket 3 links back to bucket 2. Emptied, bucket 3 would leave
        /// the queue's head on bucket 2, which the batch freed: the batch takes bucket 1's messages only.
        /// </summary>
        [Fact]
        public void A_priority_bucket_list_that_loops_frees_no_bucket_twice()
        {
            using var q = NewQueue(QueueOrder.Priority);
            for (int i = 0; i < 9; i++) q.PutWithPriority(i, 1 + i / 3);
            TakeAcrossTheDamage(q, s =>
            {
                int b1 = s.Int(HeadOff), b2 = s.Int(Block(b1)), b3 = s.Int(Block(b2));
                s.Int(Block(b3)) = b2;
            }, Items(0, 3));
        }

        /// <summary>The first bucket links to itself: nothing can be taken without leaving the head on a freed bucket.</summary>
        [Fact]
        public void A_priority_bucket_linking_to_itself_fails_the_batch_and_frees_nothing()
        {
            using var q = NewQueue(QueueOrder.Priority);
            for (int i = 0; i < 6; i++) q.PutWithPriority(i, 1 + i / 3);
            TakeAcrossTheDamage(q, s => s.Int(Block(s.Int(HeadOff))) = s.Int(HeadOff), Array.Empty<object>());
        }

        /// <summary>
        /// The link a get follows leads to a block never used (its zeros read as an empty message) or to the free list's
        /// last block (a freed message, still readable): a get, single or batch, must not take it. Taken, the free list's
        /// last block would be linked to itself (a later put handed that block again and again), a never-used one would be
        /// freed and later handed out from the free list and from the never-used blocks both. It fails, every time.
        /// </summary>
        [Theory]
        [InlineData(QueueOrder.Fifo, false, false)]
        [InlineData(QueueOrder.Fifo, true, false)]
        [InlineData(QueueOrder.Fifo, false, true)]
        [InlineData(QueueOrder.Fifo, true, true)]
        [InlineData(QueueOrder.Lifo, false, false)]
        [InlineData(QueueOrder.Lifo, true, false)]
        [InlineData(QueueOrder.Lifo, true, true)]
        [InlineData(QueueOrder.Priority, false, false)]
        [InlineData(QueueOrder.Priority, true, false)]
        [InlineData(QueueOrder.Priority, false, true)]
        [InlineData(QueueOrder.Priority, true, true)]
        public void A_link_to_the_free_lists_last_or_a_never_used_block_is_damage_for_every_get(QueueOrder order, bool toFreeTail, bool batch)
        {
            using var q = NewQueue(order);
            PutInOrder(q, 4);
            Assert.Equal(new object[] { 0, 1 }, new[] { q.Get(false), q.Get(false) });   // their blocks are free now
            using (var s = new RawSegment(q.Name))
            {
                int target = toFreeTail ? s.Int(FreeTailOff) : s.Int(FreshOff) + 10;
                if (order == QueueOrder.Priority) s.Int(Block(s.Int(HeadOff)) + 4) = target;   // the bucket's first message
                else s.Int(HeadOff) = target;
            }
            for (int again = 0; again < 2; again++)
            {
                var e = Assert.Throws<IpcObjectCorruptException>(() => { if (batch) q.GetMany(10, 0); else q.Get(false); });
                Assert.Contains(toFreeTail ? "which is free" : "which was never used", e.Message);
                AssertSound(q, leadsToFree: true);
                Assert.Equal(2, q.QSize());
            }
        }

        /// <summary>
        /// Sound queues: single and batch puts of one- and several-block messages, and batch gets of every size (across
        /// commit groups), in every order, against a model; after each get the allocator is checked and the whole
        /// structure walked (QueueShape: every block in exactly one place, counts, links, tails, buckets).
        /// </summary>
        [Theory]
        [InlineData(QueueOrder.Fifo)]
        [InlineData(QueueOrder.Lifo)]
        [InlineData(QueueOrder.Priority)]
        public void Batch_gets_of_every_size_leave_a_sound_queue_whole(QueueOrder order)
        {
            using var q = NewQueue(order);
            var random = new Random(7);
            var model = new List<(long Priority, int Seq, object Item)>();   // in get order
            int seq = 0;
            void Add(object item, long priority)
            {
                var entry = (priority, seq++, item);
                if (order == QueueOrder.Lifo) model.Insert(0, entry);
                else if (order == QueueOrder.Priority)
                {
                    int at = model.FindIndex(e => e.Priority > priority);
                    model.Insert(at < 0 ? model.Count : at, entry);
                }
                else model.Add(entry);
            }
            for (int round = 0; round < 60; round++)
            {
                long priority = random.Next(3);
                object Next() => random.Next(4) == 0 ? Item(seq, random.Next(40, 300)) : seq;
                if (random.Next(2) == 0)
                {
                    for (int k = random.Next(1, 200); k > 0; k--)
                    {
                        var item = Next();
                        if (order == QueueOrder.Priority) q.PutWithPriority(item, priority); else q.Put(item);
                        Add(item, priority);
                    }
                }
                else
                {
                    var items = new List<object>();
                    for (int k = random.Next(1, 300); k > 0; k--)
                    {
                        var item = Next();
                        items.Add(item);
                        Add(item, priority);
                    }
                    if (order == QueueOrder.Priority) q.PutManyWithPriority(items.ToArray(), priority); else q.PutMany(items.ToArray());
                    if (order == QueueOrder.Lifo)   // a Lifo batch comes out as after as many single puts: the model did just that
                        Assert.Equal(items.Last(), model[0].Item);
                }
                int max = random.Next(1, 400);
                var got = q.GetMany(max, 0);
                Assert.Equal(model.Take(max).Select(e => e.Item), got);
                model.RemoveRange(0, got.Length);
                Assert.Equal(model.Count, q.QSize());
                Assert.Equal(q.UsedBytes / IpcQueue.BlockSize, AssertSound(q).Count);   // every block in use is a message's or a bucket's
                // QueueShape also checks links and decodes the messages.
                Assert.Equal(model.Select(e => e.Item), QueueShape.Of(q).Messages);
            }
            while (model.Count > 0)
            {
                var got = q.GetMany(150, 0);
                Assert.Equal(model.Take(150).Select(e => e.Item), got);
                model.RemoveRange(0, got.Length);
            }
            Assert.Equal(0, QueueShape.Of(q).Used);
        }
    }
}
