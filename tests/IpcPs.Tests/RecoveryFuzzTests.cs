using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using CsCheck;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Recovery from damaged shared state: a queue or a pipe whose header, redo logs, links, ring positions and data
    /// another writer (or a crash in some future bug) turned into random bytes, with the lock left by a dead holder so
    /// that the next operation takes it over and replays what it finds. Every operation must end promptly with a value
    /// or a typed error (damaged, empty, full, malformed message), never a wild access, a hang or a crash.
    /// </summary>
    public sealed unsafe class RecoveryFuzzTests
    {
        /// <summary>A holder that is gone whatever happens to pids meanwhile: this process's pid with another start time.</summary>
        private static readonly long Gone = HolderId.Of(HolderId.MyPid, HolderId.Start(HolderId.Me) + 12345L);

        private static int Constant(Type type, string name) =>
            (int)type.GetField(name, BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;

        /// <summary>Edits: (offset, value) pairs written as bytes, then the lock words set to free or a dead holder.</summary>
        private static Gen<(int Offset, byte Value)[]> Edits(int from, int to) =>
            Gen.Select(Gen.Int[from, to - 1], Gen.Frequency((3, Gen.Byte), (1, Gen.Int[0, 3].Select(i => new byte[] { 0, 0xFF, 0x7F, 0x80 }[i]))))
                .Array[1, 24];

        /// <summary>Runs ACTION, failing the input if it has not ended within SECONDS (a hang is a bug too).</summary>
        private static void Bounded(Action action, double seconds = 10)
        {
            var task = Task.Run(action);
            if (!task.Wait(TimeSpan.FromSeconds(seconds))) Assert.Fail($"An operation on damaged state did not end within {seconds} s.");
        }

        private static readonly Type[] Typed =
        {
            typeof(IpcObjectKindException), typeof(QueueEmptyException), typeof(QueueFullException), typeof(MessageFormatException),
            typeof(MessageTooLargeException), typeof(ConnectionClosedException),
        };

        private static bool IsTyped(Exception e) => Array.Exists(Typed, t => t.IsInstanceOfType(e));

        [Fact]
        public void QueueRecoversOrSaysDamaged()
        {
            int lockWord = Constant(typeof(IpcQueue), "LockWord"), blocks = Constant(typeof(IpcQueue), "BlocksOffset");
            var gen = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 6], Edits(StateOffsetOf(), blocks + 32 * IpcQueue.BlockSize), Gen.Bool);
            Fuzzing.Run("queue.recovery", gen, input =>
            {
                var (order, messages, edits, deadHolder) = input;
                using var q = IpcQueue.Create(null, capacity: 64 * IpcQueue.BlockSize, order: (QueueOrder)order);
                try
                {
                    bool priority = order == (int)QueueOrder.Priority;
                    for (int i = 0; i < messages; i++)
                    {
                        object item = i % 2 == 0 ? (object)i : new string('x', 20 * i);
                        if (priority) q.PutWithPriority(item, i % 3); else q.Put(item);
                    }
                    using (var words = new ChaosWorker.Words(q.Name))
                    {
                        byte* b = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref words[0]);
                        foreach (var (offset, value) in edits) if (offset < lockWord || offset >= lockWord + 8) b[offset] = value;
                        *(long*)(b + lockWord) = deadHolder ? Gone : 0;
                    }
                    Bounded(() =>
                    {
                        for (int i = 0; i < 8; i++)
                        {
                            try
                            {
                                _ = q.QSize() + (q.Empty() ? 1 : 0) + (q.Full() ? 1 : 0);
                                if (i % 3 == 2 && priority) q.PutWithPriority(i, i, false, 0);
                                else if (i == 5) q.PutMany(new object[] { i, "batch", i }, false, 0);
                                else if (i % 3 == 2) q.Put(i, false);
                                else if (i % 3 == 1) _ = q.GetMany(1000, 0);   // a batch: bounded by the queue's storage, whatever its links say
                                else _ = q.Get(false);
                            }
                            catch (Exception e) when (IsTyped(e)) { }
                        }
                    });
                }
                finally { q.Unlink(); }
            }, threads: 8);
        }

        [Fact]
        public void PipeReceiverRecoversOrSaysBroken()
        {
            int ends = Constant(typeof(IpcConnection), "EndsOffset"), rings = Constant(typeof(IpcConnection), "RingsOffset");
            int data = Constant(typeof(IpcConnection), "DataOffset"), writeLock = Constant(typeof(IpcConnection), "WriteLock");
            int readLock = Constant(typeof(IpcConnection), "ReadLock"), endStride = Constant(typeof(IpcConnection), "EndStride");
            int slots = Constant(typeof(IpcConnection), "Slots"), slotSize = Constant(typeof(IpcConnection), "SlotSize");
            var gen = Gen.Select(Gen.Int[0, 6], Edits(ends, data + 256), Gen.Bool, Gen.Bool);
            Fuzzing.Run("pipe.recovery", gen, input =>
            {
                var (messages, edits, deadWriter, deadReader) = input;
                var pipe = IpcConnection.CreatePipe(null, duplex: false, bufferSize: IpcConnection.MinimumBufferSize);
                using var receiver = pipe[0];
                try
                {
                    using (var sender = pipe[1])
                        for (int i = 0; i < messages; i++) sender.Send(i % 2 == 0 ? (object)i : new byte[30 * i]);
                    // The only sender has closed: a receiver can wait for nothing that will never come.
                    using (var words = new ChaosWorker.Words(receiver.Name))
                    {
                        byte* b = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref words[0]);
                        foreach (var (offset, value) in edits)
                        {
                            bool lockWord = offset >= rings + writeLock && offset < rings + writeLock + 8 || offset >= rings + readLock && offset < rings + readLock + 8;
                            if (!lockWord) b[offset] = value;
                        }
                        // The senders' holder slots are cleared: a slot that names a live process (a random pid that
                        // exists, with a reservation's unknown start) is a sender the receiver rightly waits for.
                        for (int i = 0; i < slots; i++) *(long*)(b + ends + endStride + i * slotSize) = 0;
                        *(long*)(b + rings + writeLock) = deadWriter ? Gone : 0;
                        *(long*)(b + rings + readLock) = deadReader ? Gone : 0;
                    }
                    Bounded(() =>
                    {
                        for (int i = 0; i < 8; i++)
                        {
                            try { if (receiver.Poll()) _ = i % 2 == 0 ? receiver.Recv() : receiver.RecvMany(100, 0); }
                            catch (Exception e) when (IsTyped(e)) { }
                        }
                    });
                }
                finally { receiver.Unlink(); }
            }, threads: 8);
        }

        private static int StateOffsetOf() => 64;
    }
}
