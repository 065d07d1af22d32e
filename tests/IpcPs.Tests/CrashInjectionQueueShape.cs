using System;
using System.Collections.Generic;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Walks a queue's shared structure (docs/design.md, "Queue") as the next operation would find it, and fails the
    /// test on anything inconsistent: every block below <c>fresh</c> is in exactly one of the free list, a message's
    /// chain or a priority bucket (none lost, none twice), blocks at and above it were never used, the free list ends
    /// at its recorded tail, a Fifo's tail is its last message, buckets are sorted with their last message recorded,
    /// <c>used</c> is the number of blocks held, <c>count</c> the number of messages, and no redo log is left published.
    /// Returns the messages in the order gets would take them, decoded from their blocks.
    /// </summary>
    internal static unsafe class QueueShape
    {
        private static readonly int BlockCountOff = Layout.Const<IpcQueue>("BlockCountOff"), CountOff = Layout.Const<IpcQueue>("CountOff"),
            UsedOff = Layout.Const<IpcQueue>("UsedOff"), FreeHeadOff = Layout.Const<IpcQueue>("FreeHeadOff"),
            FreshOff = Layout.Const<IpcQueue>("FreshOff"), HeadOff = Layout.Const<IpcQueue>("HeadOff"), TailOff = Layout.Const<IpcQueue>("TailOff"),
            FreeTailOff = Layout.Const<IpcQueue>("FreeTailOff"), PutLog = Layout.Const<IpcQueue>("PutLogOffset"),
            GetLog = Layout.Const<IpcQueue>("GetLogOffset"), Blocks = Layout.Const<IpcQueue>("BlocksOffset"), UnfinishedOff = Layout.Const<IpcQueue>("UnfinishedOff");
        private const int BlockSize = IpcQueue.BlockSize, FirstPayload = BlockSize - 16, NextPayload = BlockSize - 4, None = -1;

        public sealed class Result
        {
            public List<object?> Messages { get; } = new List<object?>();
            public int Count, Used, Fresh, FreeBlocks, BlockCount, Unfinished;
        }

        /// <summary>The structure under the queue's lock (a dead holder's committed log finished first, as any operation would).</summary>
        public static Result Of(IpcQueue q) => q.UnderLock(p => Walk((byte*)p, q.Order));

        public static Result Walk(byte* b, QueueOrder order)
        {
            int Word(long offset) => *(int*)(b + offset);
            var r = new Result
            {
                BlockCount = Word(BlockCountOff), Count = Word(CountOff), Used = Word(UsedOff), Fresh = Word(FreshOff), Unfinished = Word(UnfinishedOff),
            };
            Assert.True(Word(PutLog) == 0 && Word(GetLog) == 0, $"A redo log is still published (put {Word(PutLog)}, get {Word(GetLog)}).");
            Assert.InRange(r.Fresh, 0, r.BlockCount);
            var owner = new string?[r.Fresh];
            int Link(int block) => Word(Blocks + (long)block * BlockSize);
            void Claim(int block, string who)
            {
                Assert.True(block >= 0 && block < r.Fresh, $"{who} uses block {block}, outside the {r.Fresh} blocks ever used.");
                Assert.True(owner[block] is null, $"Block {block} is in {owner[block]} and in {who}.");
                owner[block] = who;
            }

            // The free list, first in first out, from its head to its recorded tail.
            int at = Word(FreeHeadOff), last = None;
            while (at != None)
            {
                Claim(at, "the free list");
                r.FreeBlocks++;
                last = at;
                at = Link(at);
            }
            Assert.True(last == Word(FreeTailOff), $"The free list ends at block {last}, its tail says {Word(FreeTailOff)}.");

            int held = 0;
            var linksOn = new System.Collections.Generic.List<(string Who, int Block, int Next)>();
            var starts = new System.Collections.Generic.HashSet<int>();
            // One message from its first block: its chain of blocks, its bytes decoded.
            void Message(int first, string who)
            {
                Assert.True(first >= 0 && first < r.Fresh, $"{who} starts at block {first}.");
                starts.Add(first);
                int length = Word(Blocks + (long)first * BlockSize + 8);
                Assert.InRange(length, 1, r.BlockCount * NextPayload);
                int blocks = length <= FirstPayload ? 1 : 1 + (length - FirstPayload + NextPayload - 1) / NextPayload;
                var bytes = new byte[length];
                int got = 0, block = first;
                for (int i = 0; i < blocks; i++)
                {
                    Claim(block, who);
                    held++;
                    int from = i == 0 ? 16 : 4, n = Math.Min(length - got, BlockSize - from);
                    System.Runtime.InteropServices.Marshal.Copy((IntPtr)(b + Blocks + (long)block * BlockSize + from), bytes, got, n);
                    got += n;
                    int next = Link(block);
                    // A message's last block links to nothing, or on to the first block of a message put with it in
                    // the same batch (one chain for the batch; a get walks only the blocks its length needs).
                    if (i + 1 == blocks && next != None) linksOn.Add((who, block, next));
                    block = next;
                }
                r.Messages.Add(MessageCodec.Decode(bytes));
            }
            int NextMessage(int first) => Word(Blocks + (long)first * BlockSize + 4);

            if (order == QueueOrder.Priority)
            {
                long previous = long.MinValue;
                for (int bucket = Word(HeadOff), k = 0; bucket != None; bucket = Link(bucket), k++)
                {
                    Claim(bucket, $"bucket {k}");
                    held++;
                    long priority = *(long*)(b + Blocks + (long)bucket * BlockSize + 16);
                    Assert.True(priority > previous, $"Bucket {k} (priority {priority}) follows priority {previous}.");
                    previous = priority;
                    int m = Word(Blocks + (long)bucket * BlockSize + 4), lastMessage = None;
                    Assert.True(m != None, $"Bucket {k} (priority {priority}) is empty but still linked.");
                    for (; m != None; m = NextMessage(m))
                    {
                        Message(m, $"message {r.Messages.Count}");
                        lastMessage = m;
                    }
                    Assert.True(lastMessage == Word(Blocks + (long)bucket * BlockSize + 8), $"Bucket {k}'s last message is not the one it records.");
                }
            }
            else
            {
                int lastMessage = None;
                for (int m = Word(HeadOff); m != None; m = NextMessage(m))
                {
                    Message(m, $"message {r.Messages.Count}");
                    lastMessage = m;
                    Assert.True(r.Messages.Count <= r.BlockCount, "The message list loops.");
                }
                // A Lifo never uses its tail word.
                int tail = order == QueueOrder.Fifo ? lastMessage : None;
                Assert.True(Word(TailOff) == tail, $"The tail word is {Word(TailOff)}, the last message {tail}.");
            }

            // A Lifo get takes a batch's last message first, so the message put before it keeps its onward link to a
            // block that is now free or reused: no get ever follows it (each walks only the blocks its length needs).
            if (order != QueueOrder.Lifo)
                foreach (var (who, block, next) in linksOn)
                    Assert.True(starts.Contains(next), $"{who}'s last block {block} links on to {next}, which starts no message.");
            for (int i = 0; i < r.Fresh; i++) Assert.True(owner[i] != null, $"Block {i} is lost: neither free nor held by a message.");
            Assert.True(r.Count == r.Messages.Count, $"The count says {r.Count} messages, the list has {r.Messages.Count}.");
            Assert.True(r.Used == held, $"'used' says {r.Used} blocks, messages and buckets hold {held}.");
            return r;
        }
    }
}
