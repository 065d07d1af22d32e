using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// One operation of the crash-injection matrix (<see cref="CrashInjectionTests"/>): the test process makes the
    /// object in a known state (<see cref="Setup"/>) and may run a peer beside the worker (the other side of a streamed
    /// frame); a worker process opens it (<see cref="Open"/>) and runs the operation (<see cref="Operate"/>) with a
    /// crash point armed, dying right after shared write N; then the test process checks what the next user finds.
    /// </summary>
    internal abstract class CrashScenario
    {
        protected CrashScenario(string id) => Id = id;

        public string Id { get; }

        /// <summary>Test process: makes the object NAME in the scenario's initial state; returns what the check needs.</summary>
        public abstract IDisposable Setup(string name);

        /// <summary>Test process: what runs beside the worker (null: nothing).</summary>
        public virtual Peer? StartPeer(IDisposable state) => null;

        /// <summary>Worker: attaches everything the operation uses (before the crash point is armed).</summary>
        public abstract IDisposable Open(string name);

        /// <summary>Worker: the operation.</summary>
        public abstract void Operate(IDisposable handle);

        /// <summary>
        /// Test process, after the worker ended: it was killed right after shared write N (1-based) of TRACE (the
        /// sites the whole operation passes), or completed the operation when N is past the trace's end.
        /// </summary>
        public abstract void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n);

        public override string ToString() => Id;

        /// <summary>Whether the worker killed after write N had already made write SITE (its first occurrence).</summary>
        protected static bool Past(IReadOnlyList<string> trace, int n, string site, bool lastOccurrence = false)
        {
            int i = lastOccurrence ? trace.ToList().LastIndexOf(site) : trace.ToList().IndexOf(site);
            Assert.True(i >= 0, $"The operation never writes {site}: {string.Join(", ", trace)}");
            return n > i;
        }
    }

    /// <summary>A thread of the test process that runs beside a worker; its failure is kept for the check.</summary>
    internal sealed class Peer
    {
        private readonly Thread _thread;
        public Exception? Failure { get; private set; }
        public List<byte[]> Frames { get; } = new List<byte[]>();

        public Peer(Action<Peer> body)
        {
            _thread = new Thread(() =>
            {
                try { body(this); }
                catch (Exception e) { Failure = e; }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Join(TimeSpan timeout) => Assert.True(_thread.Join(timeout), $"The peer thread did not end within {timeout.TotalSeconds} s.");
    }

    /// <summary>The scenarios, by id (the worker finds its own by the id on its command line).</summary>
    internal static class CrashScenarios
    {
        // Messages of 1, 2 and 3 blocks (a 48-byte first block, 60-byte further ones): tag, LEB128 length, text.
        private static readonly string A = "A", B = new string('b', 60), C = new string('c', 130), D = "D";

        public static readonly CrashScenario[] Queue =
        {
            // A put that takes one block from the free list and two never-used ones, on a joinable queue (it counts a task).
            new QueueScenario("put.fifo", QueueOrder.Fifo, joinable: true, q => { q.Put(A); q.Put(B); q.Get(); },
                q => q.Put(C), before: new[] { B }, after: new[] { B, C }, unfinished: (2, 3)),
            // A put into an empty queue whose message comes from the free list alone, which keeps a block.
            new QueueScenario("put.fifo.reuse", QueueOrder.Fifo, joinable: false, q => { q.Put(C); q.Get(); },
                q => q.Put(B), before: new string[0], after: new[] { B }),
            new QueueScenario("put.lifo", QueueOrder.Lifo, joinable: false, q => { q.Put(A); q.Put(B); q.Get(); },
                q => q.Put(C), before: new[] { A }, after: new[] { C, A }),
            // A priority between two present: a new bucket linked in the middle.
            new QueueScenario("put.priority.new", QueueOrder.Priority, joinable: false, q => { q.PutWithPriority(A, 5); q.PutWithPriority(B, 1); },
                q => q.PutWithPriority(C, 3), before: new[] { B, A }, after: new[] { B, C, A }),
            new QueueScenario("put.priority.same", QueueOrder.Priority, joinable: false, q => { q.PutWithPriority(A, 5); q.PutWithPriority(B, 1); },
                q => q.PutWithPriority(C, 5), before: new[] { B, A }, after: new[] { B, A, C }),
            // A get of a two-block message appended to a free list that has a tail.
            new QueueScenario("get.fifo", QueueOrder.Fifo, joinable: false, q => { q.Put(A); q.Put(B); q.Put(C); q.Get(); },
                q => q.Get(), before: new[] { B, C }, after: new[] { C }),
            // The last message: head and tail go back to none, the free list starts.
            new QueueScenario("get.fifo.last", QueueOrder.Fifo, joinable: false, q => q.Put(C),
                q => q.Get(), before: new[] { C }, after: new string[0]),
            new QueueScenario("get.lifo", QueueOrder.Lifo, joinable: false, q => { q.Put(A); q.Put(B); q.Put(C); },
                q => q.Get(), before: new[] { C, B, A }, after: new[] { B, A }),
            // The only message of its bucket: the bucket is unlinked and freed too.
            new QueueScenario("get.priority.empties", QueueOrder.Priority, joinable: false,
                q => { q.PutWithPriority(A, 1); q.PutWithPriority(B, 2); q.PutWithPriority(C, 2); },
                q => q.Get(), before: new[] { A, B, C }, after: new[] { B, C }),
            new QueueScenario("get.priority.stays", QueueOrder.Priority, joinable: false,
                q => { q.PutWithPriority(B, 2); q.PutWithPriority(C, 2); q.PutWithPriority(D, 3); },
                q => q.Get(), before: new[] { B, C, D }, after: new[] { C, D }),
            // Batches: a batch put commits once (a producer killed before its commit point leaves none of its messages,
            // after it all of them); its blocks are one chain, from the free list and never-used blocks.
            new QueueScenario("putmany.fifo", QueueOrder.Fifo, joinable: true, q => { q.Put(A); q.Put(B); q.Get(); },
                q => q.PutMany(new object[] { C, D, B }), before: new[] { B }, after: new[] { B, C, D, B }, unfinished: (2, 5)),
            new QueueScenario("putmany.fifo.empty", QueueOrder.Fifo, joinable: false, q => { q.Put(C); q.Get(); },
                q => q.PutMany(new object[] { A, B }), before: new string[0], after: new[] { A, B }),
            new QueueScenario("putmany.lifo", QueueOrder.Lifo, joinable: false, q => { q.Put(A); q.Put(B); q.Get(); },
                q => q.PutMany(new object[] { C, D }), before: new[] { A }, after: new[] { D, C, A }),
            new QueueScenario("putmany.priority.new", QueueOrder.Priority, joinable: false, q => { q.PutWithPriority(A, 5); q.PutWithPriority(B, 1); },
                q => q.PutManyWithPriority(new object[] { C, D }, 3), before: new[] { B, A }, after: new[] { B, C, D, A }),
            new QueueScenario("putmany.priority.same", QueueOrder.Priority, joinable: false, q => { q.PutWithPriority(A, 5); q.PutWithPriority(B, 1); },
                q => q.PutManyWithPriority(new object[] { C, D }, 1), before: new[] { B, A }, after: new[] { B, C, D, A }),
            // A batch get (Fifo, Lifo): one commit for messages put one by one (each link logged) and for messages a
            // batch put chained (the links are there already), appended to a free list that has a tail.
            new QueueScenario("getmany.fifo", QueueOrder.Fifo, joinable: false, q => { q.Put(A); q.Put(B); q.Put(C); q.Put(D); q.Get(); },
                q => q.GetMany(2), before: new[] { B, C, D }, after: new[] { D }),
            new QueueScenario("getmany.fifo.chained", QueueOrder.Fifo, joinable: false, q => { q.Put(D); q.Get(); q.PutMany(new object[] { B, C, A }); },
                q => q.GetMany(2), before: new[] { B, C, A }, after: new[] { A }),
            new QueueScenario("getmany.fifo.all", QueueOrder.Fifo, joinable: false, q => q.PutMany(new object[] { A, C }),
                q => q.GetMany(10), before: new[] { A, C }, after: new string[0]),
            new QueueScenario("getmany.lifo", QueueOrder.Lifo, joinable: false, q => { q.Put(A); q.PutMany(new object[] { B, C }); },
                q => q.GetMany(2), before: new[] { C, B, A }, after: new[] { A }),
            // The last task done: unfinished goes to 0 and the joiners' signal moves.
            new QueueScenario("taskdone", QueueOrder.Fifo, joinable: true, q => { q.Put(A); q.Put(B); q.Get(); q.TaskDone(); },
                q => q.TaskDone(), before: new[] { B }, after: new[] { B }, unfinished: (1, 0)),
        };

        public static readonly CrashScenario[] Pipe =
        {
            new PipeSendSmall(), new PipeSendStreamed(), new PipeReceiveSmall(), new PipeReceiveStreamed(),
        };

        public static CrashScenario Get(string id) => Queue.Concat(Pipe).Single(s => s.Id == id);
    }

    /// <summary>A queue operation: the messages before and after it (in get order), and the unfinished tasks before and after.</summary>
    internal sealed class QueueScenario : CrashScenario
    {
        private const int Blocks = 32;
        private readonly QueueOrder _order;
        private readonly bool _joinable;
        private readonly Action<IpcQueue> _setup, _operate;
        private readonly string[] _before, _after;
        private readonly (int Before, int After) _unfinished;

        public QueueScenario(string id, QueueOrder order, bool joinable, Action<IpcQueue> setup, Action<IpcQueue> operate,
            string[] before, string[] after, (int, int) unfinished = default) : base("queue." + id)
        {
            _order = order;
            _joinable = joinable;
            _setup = setup;
            _operate = operate;
            _before = before;
            _after = after;
            _unfinished = unfinished;
        }

        public override IDisposable Setup(string name)
        {
            var q = IpcQueue.Create(name, capacity: Blocks * IpcQueue.BlockSize, order: _order, joinable: _joinable);
            _setup(q);
            Assert.Equal(_before, QueueShape.Of(q).Messages.Cast<string>());
            return q;
        }

        public override IDisposable Open(string name) => (IpcQueue)IpcObjects.Open(name, IpcObjectKind.Queue);

        public override void Operate(IDisposable handle) => _operate((IpcQueue)handle);

        public override void Check(IDisposable state, Peer? peer, IReadOnlyList<string> trace, int n)
        {
            var q = (IpcQueue)state;
            // The commit point is the publication of the redo log's count: before it nothing changed, after it all did.
            bool committed = Past(trace, n, CrashPoints.LogPublish);
            var expected = committed ? _after : _before;
            var shape = QueueShape.Of(q);
            Assert.Equal(expected, shape.Messages.Cast<string>());
            if (_joinable) Assert.Equal(committed ? _unfinished.After : _unfinished.Before, shape.Unfinished);

            // What gets deliver: exactly those, once each, in order; then the queue works to its last block.
            var got = new List<string>();
            while (true)
            {
                try { got.Add((string)q.Get(false)!); }
                catch (QueueEmptyException) { break; }
            }
            Assert.Equal(expected, got);
            int put = 0;
            while (true)
            {
                try
                {
                    if (_order == QueueOrder.Priority) q.PutWithPriority(put, put % 3, false, 0);
                    else q.Put(put, false);
                    put++;
                }
                catch (QueueFullException) { break; }
            }
            var full = QueueShape.Of(q);
            // Nothing leaked: every block was handed out (a priority put keeps one block spare for a new bucket).
            Assert.Equal(Blocks, full.BlockCount);
            Assert.True(full.BlockCount - full.Used <= (_order == QueueOrder.Priority ? 1 : 0), $"{full.BlockCount - full.Used} blocks stayed unused in a full queue.");
            for (int i = 0; i < put; i++) q.Get(false);
            var empty = QueueShape.Of(q);
            Assert.Equal(0, empty.Count);
            Assert.Equal(0, empty.Used);
            Assert.Equal(empty.Fresh, empty.FreeBlocks);
        }
    }
}
