using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using IpcPs.Core.Sync;
using IpcPs.Core;
using IpcPs.Core.Messaging;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A queue in Redis with the local queue's methods. Fifo, Lifo or Priority (lower numbers first, equal ones in put order),
    /// bounded by MaxSize (messages ready, not in flight). A joinable queue is at-least-once: a Get moves the message in
    /// flight with a visibility deadline (server time); TaskDone marks that delivery done; a delivery not marked done in time
    /// (its consumer died, stalled, was cut off) goes back to the front and is delivered again with its delivery number
    /// raised, and after MaxDeliveries it goes to the dead letters instead (done by the first script to look after its
    /// deadline: a Get, or the counts Join and the sizes read). Join waits until every message put has been marked done
    /// (or dead-lettered), across machines. Messages use the local queues' codec.
    /// </summary>
    public sealed class RedisQueue : RedisObject, IJoinableChannel, IKeepingChannel
    {
        private readonly RedisKey[] _keys;
        private readonly string _getChannel, _putChannel, _joinChannel;
        private readonly ConcurrentQueue<RedisDelivery> _outstanding = new ConcurrentQueue<RedisDelivery>();
        private readonly SemaphoreSlim _acking = new SemaphoreSlim(1, 1);   // one TaskDone() of this handle at a time
        private int _depth = 2;

        internal RedisQueue(RedisBackend backend, string name, MetaReader meta) : base(backend, name, IpcObjectKind.Queue)
        {
            Order = (QueueOrder)meta.Int("order", 0, 2);
            MaxSize = meta.Int("max", 0, int.MaxValue);
            IsJoinable = meta.Int("joinable", 0, 1) == 1;
            VisibilityTimeout = TimeSpan.FromMilliseconds(meta.Long("vis", 1, 365L * 86400 * 1000));
            MaxDeliveries = meta.Int("maxdel", 0, int.MaxValue);
            _keys = new[] { Meta, Key("r"), Key("b"), Key("f"), Key("d"), Key("p"), Key("x") };
            _getChannel = Channel("get");
            _putChannel = Channel("put");
            _joinChannel = Channel("join");
        }

        internal static IEnumerable<KeyValuePair<string, string>> MetaFields(IpcBackendOptions o)
        {
            if (o.MaxSize < 0) throw new ArgumentOutOfRangeException(nameof(o.MaxSize), "MaxSize is 0 (no bound) or more.");
            if (o.MaxDeliveries < 0) throw new ArgumentOutOfRangeException(nameof(o.MaxDeliveries), "MaxDeliveries is 0 (no limit) or more.");
            if (o.VisibilityTimeout < TimeSpan.FromMilliseconds(1)) throw new ArgumentOutOfRangeException(nameof(o.VisibilityTimeout), "A visibility timeout is at least 1 ms.");
            yield return Field("order", (int)o.Order);
            yield return Field("max", o.MaxSize);
            yield return Field("joinable", o.Joinable ? 1 : 0);
            yield return Field("vis", (long)Math.Ceiling(o.VisibilityTimeout.TotalMilliseconds));
            yield return Field("maxdel", o.MaxDeliveries);
            yield return Field("seq", 0);
            yield return Field("unfinished", 0);
        }

        internal static KeyValuePair<string, string> Field(string name, long value) => new KeyValuePair<string, string>(name, value.ToString(CultureInfo.InvariantCulture));

        public QueueOrder Order { get; }

        bool IMessageChannel.TakesPriority => Order == QueueOrder.Priority;

        public int MaxSize { get; }
        public bool IsJoinable { get; }
        public TimeSpan VisibilityTimeout { get; }
        public int MaxDeliveries { get; }

        /// <summary>How deep the PowerShell serializer goes into objects that are not primitives (default 2).</summary>
        public int SerializationDepth
        {
            get => _depth;
            set => _depth = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        /// <summary>The last delivery a Get of this handle returned (joinable queues): its id, delivery number and receipt.</summary>
        public RedisDelivery? LastDelivery { get; private set; }

        // ---- put ------------------------------------------------------------------------------------------------------

        public void Put(object? item) => Put(item, true, double.PositiveInfinity);
        public void Put(object? item, bool block) => Put(item, block, double.PositiveInfinity);

        /// <summary>CPython's put(obj, block, timeout): QueueFullException when there is no room in time.</summary>
        public void Put(object? item, bool block, double timeoutSeconds)
        {
            if (!PutAll(new[] { Encode(item, null) }, 0, Python(block, timeoutSeconds), Interrupt(block))) throw new QueueFullException(Name);
        }

        public void PutNoWait(object? item) => Put(item, false);
        public void PutBytes(byte[] buffer) => Put(buffer ?? throw new ArgumentNullException(nameof(buffer)));

        public void PutWithPriority(object? item, long priority) => PutWithPriority(item, priority, true, double.PositiveInfinity);

        public void PutWithPriority(object? item, long priority, bool block, double timeoutSeconds)
        {
            RequirePriority();
            if (!PutAll(new[] { Encode(item, null) }, priority, Python(block, timeoutSeconds), Interrupt(block))) throw new QueueFullException(Name);
        }

        /// <summary>
        /// Puts every item of ITEMS (an array or any collection; a string or a dictionary given as the whole batch is one
        /// item, as in the pipeline) in order, all or none, as a local queue's PutMany: one script call, never half put.
        /// Waits for room for the whole batch. MessageTooLargeException, at once, for a batch that can never fit (more
        /// messages than MaxSize, or more than <see cref="MaxBatchBytes"/> of them).
        /// </summary>
        public void PutMany(IEnumerable items) => PutMany(items, true, double.PositiveInfinity);

        /// <summary>As PutMany; QueueFullException (nothing put) when there is no room for the whole batch in time.</summary>
        public void PutMany(IEnumerable items, bool block, double timeoutSeconds) => PutBatch(items, 0, block, timeoutSeconds);

        /// <summary>A priority queue's batch put: every item with PRIORITY, in order among themselves.</summary>
        public void PutManyWithPriority(IEnumerable items, long priority) => PutManyWithPriority(items, priority, true, double.PositiveInfinity);

        public void PutManyWithPriority(IEnumerable items, long priority, bool block, double timeoutSeconds)
        {
            RequirePriority();
            PutBatch(items, priority, block, timeoutSeconds);
        }

        private void PutBatch(IEnumerable items, long priority, bool block, double timeoutSeconds)
        {
            if (items is null) throw new ArgumentNullException(nameof(items));
            var list = items is string || items is IDictionary ? new List<object?> { items } : items.Cast<object?>().ToList();
            if (MaxSize > 0 && list.Count > MaxSize)
                throw new MessageTooLargeException(Name, list.Count, MaxSize, $"the batch counts its messages: it has {list.Count}; the queue '{Name}' holds at most");
            var encoded = new byte[list.Count][];
            long bytes = 0;
            for (int i = 0; i < list.Count; i++)
            {
                encoded[i] = Encode(list[i], null);
                if ((bytes += encoded[i].Length) > MaxBatchBytes)
                    throw new MessageTooLargeException(Name, bytes, MaxBatchBytes, "the batch's first messages take that much; one batch put to Redis is at most");
            }
            if (list.Count == 0) return;
            if (!PutAll(encoded, priority, Python(block, timeoutSeconds), Interrupt(block))) throw new QueueFullException(Name);
        }

        /// <summary>
        /// The most bytes of messages one PutMany sends (one script call, whose arguments Redis holds in the client's query
        /// buffer, 1 GiB at most by default).
        /// </summary>
        public const long MaxBatchBytes = 256L << 20;

        bool IMessageChannel.TrySend(object? message, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel)
        {
            if (priority.HasValue) RequirePriority();
            return PutAll(new[] { Encode(message, depth) }, priority ?? 0, Channel(timeout), cancel);
        }

        /// <summary>The encoded message, refused at once when larger than the backend's MaxMessageBytes.</summary>
        private byte[] Encode(object? item, int? depth)
        {
            ThrowIfClosed();
            var w = MessageCodec.Encode(item, depth ?? _depth);
            try
            {
                long total = w.TotalLength;
                if (total > Backend.MaxMessageBytes) throw new MessageTooLargeException(Name, total, Backend.MaxMessageBytes, "a message of a Redis queue is at most");
                var bytes = new byte[total];
                Buffer.BlockCopy(w.Buffer, 0, bytes, 0, w.Length);
                if (w.Tail != null) Buffer.BlockCopy(w.Tail, 0, bytes, w.Length, w.Tail.Length);
                return bytes;
            }
            finally { MessageCodec.Recycle(w); }
        }

        private bool PutAll(byte[][] bodies, long priority, Deadline deadline, CancellationToken cancel)
        {
            if (Order == QueueOrder.Priority && Math.Abs((double)priority) > 9007199254740992.0)
                throw new ArgumentOutOfRangeException(nameof(priority), "A Redis priority is within ±2^53 (Redis orders by a double).");
            int n = bodies.Length;
            var args = new RedisValue[2 + 2 * n];
            args[0] = _getChannel;
            args[1] = n;
            for (int i = 0; i < n; i++)
            {
                args[2 + 2 * i] = bodies[i];
                args[3 + 2 * i] = priority;
            }
            return WaitUntil(_putChannel, deadline, cancel, (out int hint) =>
            {
                hint = -1;
                long stored = ScriptReply.Integer(Eval(QueueScripts.Put, _keys, args, "Put", write: true, deadline, cancel), this, "Put");
                if (stored != 0 && stored != n) throw Damaged("an impossible count for a Put");
                return stored == n;   // 0: no room for all of them, wait for room
            });
        }

        // ---- get ------------------------------------------------------------------------------------------------------

        public object? Get() => Get(true, double.PositiveInfinity);
        public object? Get(bool block) => Get(block, double.PositiveInfinity);

        /// <summary>CPython's get(block, timeout): QueueEmptyException when nothing comes in time.</summary>
        public object? Get(bool block, double timeoutSeconds) => GetDelivery(block, timeoutSeconds).Message;

        public object? GetNoWait() => Get(false);

        /// <summary>As Get, with the delivery's id, its delivery number (2 and more: delivered before) and its receipt.</summary>
        public RedisDelivery GetDelivery(bool block, double timeoutSeconds)
        {
            var got = Take(1, Python(block, timeoutSeconds), Interrupt(block));
            if (got.Count == 0) throw new QueueEmptyException(Name);
            return got[0];
        }

        /// <summary>
        /// Up to MAX messages in one round trip, waiting at most TIMEOUTSECONDS for the first (an empty array when none came).
        /// In a joinable queue each one needs its TaskDone. A damaged message is met as that many single gets would meet
        /// it: the messages before it are returned, it fails the next get of this handle (this call, when it is the
        /// first), and the ones after it, already out of the queue, are kept by this handle, whose next get of any kind
        /// returns them first (QSize() and Empty() count them).
        /// </summary>
        public object?[] GetMany(int max, double timeoutSeconds = double.PositiveInfinity)
        {
            var got = Take(max, Deadline.AfterSeconds(timeoutSeconds), Interrupt(timeoutSeconds != 0));
            var result = new object?[got.Count];
            for (int i = 0; i < got.Count; i++) result[i] = got[i].Message;
            return result;
        }

        bool IMessageChannel.TryReceive(TimeSpan timeout, CancellationToken cancel, out object? message)
        {
            var got = Take(1, Channel(timeout), cancel);
            message = got.Count > 0 ? got[0].Message : null;
            return got.Count > 0;
        }

        private List<RedisDelivery> Take(int max, Deadline deadline, CancellationToken cancel)
        {
            if (max < 1 || max > 100_000) throw new ArgumentOutOfRangeException(nameof(max), "Take 1 to 100,000 messages at a time.");
            var result = new List<RedisDelivery>();
            if (TakeKept(max, result) > 0) return Delivered(result);   // what an earlier GetMany kept goes first
            var got = new List<Got>();
            var args = Args(_putChannel, _joinChannel, max);
            WaitUntil(_getChannel, deadline, cancel, (out int hint) =>
            {
                Parse(Eval(QueueScripts.Get, _keys, args, "Get", write: true, deadline, cancel), max, got, out hint);
                return got.Count > 0;
            });
            int i = 0;
            try { for (; i < got.Count; i++) result.Add(Deliver(got[i])); }
            catch
            {
                // Message i is damaged: as a local queue's batch (design.md, "Damaged messages in a batch"), the ones
                // before it are delivered now, it fails the next get (this one, when it is the first), the ones after it
                // are kept by this handle and handed out first.
                lock (_kept)
                {
                    for (int j = i == 0 ? 1 : i; j < got.Count; j++) _kept.Enqueue(got[j]);
                    Volatile.Write(ref _keptCount, _kept.Count);
                }
                if (i == 0) throw;
            }
            return Delivered(result);
        }

        /// <summary>Records RESULT's deliveries as got: a joinable queue's TaskDone() marks them done in this order.</summary>
        private List<RedisDelivery> Delivered(List<RedisDelivery> result)
        {
            foreach (var d in result) if (d.Id != null) _outstanding.Enqueue(d);
            if (result.Count > 0) LastDelivery = result[result.Count - 1];
            return result;
        }

        /// <summary>
        /// Hands out up to MAX kept messages into INTO (0: none kept). A damaged one met first is consumed and throws, as
        /// its single get does; met after others, it stays first for the next get.
        /// </summary>
        private int TakeKept(int max, List<RedisDelivery> into)
        {
            if (Volatile.Read(ref _keptCount) == 0) return 0;
            lock (_kept)
            {
                try
                {
                    while (into.Count < max && _kept.Count > 0)
                    {
                        RedisDelivery d;
                        try { d = Deliver(_kept.Peek()); }
                        catch
                        {
                            if (into.Count > 0) break;
                            _kept.Dequeue();
                            throw;
                        }
                        _kept.Dequeue();
                        into.Add(d);
                    }
                }
                finally { Volatile.Write(ref _keptCount, _kept.Count); }
                return into.Count;
            }
        }

        bool IKeepingChannel.TryReceiveKept(out object? message)
        {
            var one = new List<RedisDelivery>(1);
            bool got = TakeKept(1, one) > 0;
            message = got ? Delivered(one)[0].Message : null;
            return got;
        }

        /// <summary>One message of a Get's answer, checked and not yet decoded (its id and delivery number: joinable).</summary>
        private readonly struct Got
        {
            public Got(RedisResult body, RedisResult? id, RedisResult? count)
            {
                Body = body;
                Id = id;
                Count = count;
            }

            public readonly RedisResult Body;
            public readonly RedisResult? Id, Count;
        }

        // Messages a GetMany took and did not hand out (one before them was damaged): this handle's, out of the queue
        // (a joinable queue's are in flight, their visibility timeout running since that GetMany). Locked on itself.
        private readonly Queue<Got> _kept = new Queue<Got>();
        private int _keptCount;

        /// <summary>Checks a Get's answer (untrusted: types, counts) and collects its messages, decoded later one by one.</summary>
        private void Parse(RedisResult? reply, int max, List<Got> into, out int hint)
        {
            var r = Elements(reply);
            if (r.Length < 2) throw Damaged("a Get answer without its counts");
            long k = Integer(r[0]), h = Integer(r[1]);
            int per = IsJoinable ? 3 : 1;
            if (k < 0 || k > max || r.Length != 2 + k * per) throw Damaged("a Get answer of the wrong length");
            hint = h < 0 ? -1 : (int)Math.Min(h + 5, int.MaxValue);   // +5 ms: the redelivery is due when the step runs
            for (int i = 0; i < k; i++)
                into.Add(IsJoinable ? new Got(r[2 + i * per], r[3 + i * per], r[4 + i * per]) : new Got(r[2 + i * per], null, null));
        }

        /// <summary>One message of a Get's answer, checked (types, sizes, id) and decoded; a damaged one throws.</summary>
        private RedisDelivery Deliver(Got g)
        {
            var body = Bytes(g.Body);
            if (body is null || body.Length == 0 || body.Length > Backend.MaxMessageBytes) throw Damaged("a message body that is empty or too long");
            if (!IsJoinable) return new RedisDelivery(MessageCodec.Decode(body), null, 1);
            var idReply = g.Id!;
            string? id = idReply.Resp2Type == ResultType.BulkString ? (string?)idReply : null;
            long count = Integer(g.Count!);
            if (id is null || id.Length != 16 || count < 1) throw Damaged("a delivery without a valid id");
            return new RedisDelivery(MessageCodec.Decode(body), id, count);
        }

        private Exception Damaged(string what) => new IpcObjectCorruptException(Name, Address, $"Redis sent {what}");

        // A reply's parts, read as untrusted (ScriptReply): the wrong type is IpcObjectCorrupt, never an InvalidCastException.
        private RedisResult[] Elements(RedisResult? r) =>
            r is null || r.IsNull || r.Resp2Type != ResultType.Array ? throw Damaged("an answer that is not a list") : (RedisResult[])r!;

        private long Integer(RedisResult? e) =>
            e is null || e.IsNull || e.Resp2Type != ResultType.Integer ? throw Damaged("an answer with a count that is not a number") : (long)e;

        private static byte[]? Bytes(RedisResult? e) => e is null || e.IsNull || e.Resp2Type != ResultType.BulkString ? null : (byte[]?)e;

        /// <summary>The ready list is a list, or a sorted set in a priority queue (KeyTypes: named when it holds another type).</summary>
        internal override string[] PartTypes(string part) =>
            part == "r" ? (Order == QueueOrder.Priority ? KeyTypes.ZsetType : KeyTypes.ListType) : base.PartTypes(part);

        // ---- joinable -------------------------------------------------------------------------------------------------

        /// <summary>
        /// Marks done the oldest delivery this handle got and has not marked done (the Python pattern get … task_done).
        /// DeliveryExpiredException when its visibility timeout passed and it went to another consumer. It stops being the
        /// oldest only once the server answered (marked, or DeliveryExpired): a TaskDone that failed otherwise
        /// (BackendUnavailable: nothing sent, safe to retry; BackendOutcomeUnknown; interrupted) leaves it the oldest, so
        /// trying again marks the same delivery (one that had been marked: DeliveryExpired, "already marked done").
        /// Taking it off first made the retry mark the next delivery, and left this one in flight to be delivered again.
        /// Ctrl+C (the caller's interrupt) ends it at once, waiting for another TaskDone of this handle or for the server's
        /// answer, as it ends a Get: the answer is dropped, and the delivery stays the oldest. One that starts with the
        /// interrupt already raised (a <c>finally</c> block of a script being stopped) marks as ever (<see cref="Started"/>).
        /// </summary>
        public void TaskDone() => MarkOldestDone(Interrupt(true));

        /// <summary>
        /// CANCEL for a TaskDone that starts now: none when it is already cancelled. A script's <c>finally</c> runs while
        /// its pipeline is stopping, with the interrupt raised; its TaskDone must still mark the work it finished, as a
        /// local queue's does (review: a cancelled token made the wait for the handle's lock throw at once, and a receipt's
        /// script went to the server with its answer dropped). Such a TaskDone is bounded by the operation timeout.
        /// </summary>
        private static CancellationToken Started(CancellationToken cancel) => cancel.IsCancellationRequested ? CancellationToken.None : cancel;

        /// <summary>
        /// TaskDone(); CANCEL ends its waits (OperationCanceledException, the delivery still the oldest). Not an overload
        /// of TaskDone: xunit's analyzer would then want a token at every TaskDone() of the tests.
        /// </summary>
        internal void MarkOldestDone(CancellationToken cancel)
        {
            RequireJoinable();
            cancel = Started(cancel);
            _acking.Wait(cancel);   // each TaskDone marks the delivery it peeked, so one at a time
            try
            {
                if (!_outstanding.TryPeek(out var d)) throw new TaskDoneException(Name);
                try { Ack(d.Receipt, cancel); }
                catch (DeliveryExpiredException)   // answered too: no longer this handle's to mark
                {
                    _outstanding.TryDequeue(out _);
                    throw;
                }
                _outstanding.TryDequeue(out _);
            }
            finally { _acking.Release(); }
        }

        /// <summary>
        /// Marks one delivery done by its receipt ("id:number", from <see cref="RedisDelivery.Receipt"/>), from any handle or
        /// process. Ctrl+C ends its wait for the answer (whether it marked it is then unknown: a retry that finds it marked
        /// is DeliveryExpired).
        /// </summary>
        public void TaskDone(string receipt)
        {
            RequireJoinable();
            Ack(receipt, Started(Interrupt(true)));
        }

        public void TaskDone(RedisDelivery delivery) => TaskDone((delivery ?? throw new ArgumentNullException(nameof(delivery))).Receipt);

        /// <summary>
        /// Marks the delivery RECEIPT done. CANCEL ends the wait for the connection and for the answer (Eval's abandon):
        /// sending it again is safe, the script marks a delivery (id and number) at most once.
        /// </summary>
        private void Ack(string receipt, CancellationToken cancel)
        {
            int colon = receipt?.IndexOf(':') ?? -1;
            if (receipt is null || colon != 16 || !long.TryParse(receipt.Substring(17), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                throw new ArgumentException($"'{receipt}' is not a delivery receipt (16 hex digits, ':', the delivery number).", nameof(receipt));
            long r = ScriptReply.Integer(Eval(QueueScripts.Ack, _keys, Args(_joinChannel, receipt.Substring(0, 16), n), "TaskDone", write: true, null, cancel, abandon: true), this, "TaskDone");
            if (r != 1) throw new DeliveryExpiredException(Name, receipt);
        }

        public void Join() => Join(Timeout.InfiniteTimeSpan, Interrupt(true));

        public bool Join(double timeoutSeconds) => WaitJoined(Deadline.AfterSeconds(timeoutSeconds), Interrupt(timeoutSeconds != 0));

        public bool Join(TimeSpan timeout, CancellationToken cancel) => WaitJoined(Deadline.After(timeout), cancel);

        private bool WaitJoined(Deadline deadline, CancellationToken cancel)
        {
            RequireJoinable();
            // Woken by the join channel (a TaskDone or a dead-lettering that left nothing unfinished), and — with nothing
            // to tell it — at the earliest in-flight deadline (or vis, with messages ready that a Get may take meanwhile):
            // each step reclaims the expired deliveries itself (Counts), so a delivery past MaxDeliveries whose consumer is
            // gone is dead-lettered without waiting for a Get. +5 ms: the expiry is due when the step runs. Never sooner
            // than JoinRecheckMs: with a visibility timeout of a few milliseconds the step (a script that writes) would
            // otherwise run in a loop while messages wait unconsumed (review); a Get reclaims as soon as it runs anyway.
            return WaitUntil(_joinChannel, deadline, cancel, (out int hint) =>
            {
                var c = Counts(deadline, cancel);
                hint = c.Hint < 0 ? -1 : (int)Math.Min(Math.Max(c.Hint + 5, JoinRecheckMs), int.MaxValue);
                return c.Unfinished == 0;
            });
        }

        /// <summary>The least time a waiting Join leaves between two of its own reclaims: at most 4 a second.</summary>
        private const long JoinRecheckMs = 250;

        // ---- sizes ----------------------------------------------------------------------------------------------------

        /// <summary>
        /// The counts, a joinable queue's expired deliveries reclaimed first (QueueScripts.Counts); Hint: milliseconds until
        /// they may change with no script telling the join channel (-1: never). Sent as a read (write: false): its only
        /// change, the reclaim, is the one every Get makes first, so whether a call that got no answer made it matters to
        /// no caller (BackendUnavailable, as a read).
        /// </summary>
        private (long Ready, long InFlight, long Unfinished, long Dead, long Hint) Counts(Deadline? within = null, CancellationToken cancel = default)
        {
            var r = ScriptReply.Integers(Eval(QueueScripts.Counts, _keys, Args(_getChannel, _joinChannel), "QSize", write: false, within, cancel), 5, this, "QSize");
            return (r[0], r[1], r[2], r[3], r[4]);
        }

        /// <summary>
        /// Messages ready to be got (not those in flight), and those this handle keeps (a GetMany that met a damaged
        /// message keeps the ones after it, which this handle's next gets hand out first). Empty() agrees with it.
        /// </summary>
        public int QSize() => (int)Math.Min(Counts().Ready + Volatile.Read(ref _keptCount), int.MaxValue);

        /// <summary>The number of messages ready now, as QSize() (as a local queue's Count; without it PowerShell's own Count of one object, 1, answered).</summary>
        public int Count => QSize();
        public bool Empty() => Volatile.Read(ref _keptCount) == 0 && Counts().Ready == 0;
        public bool Full() => MaxSize > 0 && Counts().Ready >= MaxSize;

        /// <summary>
        /// Ready, in flight, unfinished and dead-lettered, read together in one call (a method: PowerShell reads a
        /// property that failed, such as InFlight with the server down, as $null; about_IpcPs).
        /// </summary>
        public RedisQueueCounts GetCounts()
        {
            var c = Counts();
            return new RedisQueueCounts(c.Ready, c.InFlight, c.Unfinished, c.Dead);
        }

        /// <summary>Deliveries got and not yet marked done (joinable).</summary>
        public long InFlight => Counts().InFlight;

        /// <summary>Messages put and not yet marked done or dead-lettered (joinable).</summary>
        public long Unfinished => Counts().Unfinished;

        /// <summary>Messages moved to the dead letters after MaxDeliveries deliveries.</summary>
        public long DeadLetterCount => Counts().Dead;

        /// <summary>Takes the oldest dead letter (QueueEmptyException when there is none).</summary>
        public object? GetDeadLetter()
        {
            var r = Elements(Eval(QueueScripts.TakeDead, _keys, Array.Empty<RedisValue>(), "GetDeadLetter", write: true));
            if (r.Length == 0) throw Damaged("an empty answer");
            if (Integer(r[0]) == 0) throw new QueueEmptyException(Name + " (dead letters)");
            var body = r.Length > 1 ? Bytes(r[1]) : null;
            if (body is null || body.Length == 0 || body.Length > Backend.MaxMessageBytes) throw Damaged("a dead letter that is empty or too long");
            return MessageCodec.Decode(body);
        }

        // ---- helpers --------------------------------------------------------------------------------------------------

        private void RequireJoinable()
        {
            if (!IsJoinable) throw new InvalidOperationException($"The queue '{Name}' is not joinable: create it with -Joinable for TaskDone and Join.");
        }

        private void RequirePriority()
        {
            if (Order != QueueOrder.Priority) throw new InvalidOperationException($"The queue '{Name}' is a {Order} queue: only a priority queue takes a priority.");
        }

        private static Deadline Python(bool block, double timeoutSeconds) => block ? Deadline.AfterSeconds(timeoutSeconds) : Deadline.AfterSeconds(0);

        private static Deadline Channel(TimeSpan timeout) => timeout == TimeSpan.Zero ? Deadline.AfterSeconds(0) : Deadline.After(timeout);

        public override string ToString() => IsClosed ? $"RedisQueue('{Name}', closed)" : $"RedisQueue('{Name}', {Order}{(IsJoinable ? ", joinable" : "")}, {Address})";
    }

    /// <summary>A Redis queue's counts, read together (<see cref="RedisQueue.GetCounts"/>).</summary>
    public sealed class RedisQueueCounts
    {
        internal RedisQueueCounts(long ready, long inFlight, long unfinished, long deadLetters)
        {
            Ready = ready;
            InFlight = inFlight;
            Unfinished = unfinished;
            DeadLetterCount = deadLetters;
        }

        /// <summary>Messages ready to be got (in Redis; QSize() adds those this handle keeps).</summary>
        public long Ready { get; }

        /// <summary>Deliveries got and not yet marked done (joinable).</summary>
        public long InFlight { get; }

        /// <summary>Messages put and not yet marked done or dead-lettered (joinable).</summary>
        public long Unfinished { get; }

        /// <summary>Messages moved to the dead letters (as the queue's DeadLetterCount).</summary>
        public long DeadLetterCount { get; }

        public override string ToString() => $"ready {Ready}, in flight {InFlight}, unfinished {Unfinished}, dead letters {DeadLetterCount}";
    }

    /// <summary>A message got from a Redis queue, with what a joinable queue's consumer needs to mark it done.</summary>
    public sealed class RedisDelivery
    {
        internal RedisDelivery(object? message, string? id, long count)
        {
            Message = message;
            Id = id;
            DeliveryCount = count;
        }

        public object? Message { get; }

        /// <summary>The message's id in its queue (16 hex digits); null for a queue that is not joinable.</summary>
        public string? Id { get; }

        /// <summary>1 for a first delivery; more when it was delivered before and not marked done in time.</summary>
        public long DeliveryCount { get; }

        /// <summary>What TaskDone(receipt) takes: the id and the delivery number ("id:number").</summary>
        public string Receipt => Id is null ? "" : Id + ":" + DeliveryCount.ToString(CultureInfo.InvariantCulture);

        public override string ToString() => Id is null ? $"Delivery({Message})" : $"Delivery({Receipt}: {Message})";
    }
}
