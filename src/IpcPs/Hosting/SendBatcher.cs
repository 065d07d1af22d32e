using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Send-IpcMessage's batches (docs/design.md, "Batches"). An item that comes in right after the previous one (its
    /// producer took less than <see cref="QuickTicks"/>: the pipeline is streaming) is held and sent with the next ones
    /// as one batch — one lock, one wake-up call; any other item goes at once, as a single send, so a lone message is
    /// never held back. What is held goes out when the batch is full, when an item comes slowly, at the end of the
    /// input, before this thread waits on anything of IpcPs (<see cref="BeforeWait"/>: the command before it may be
    /// waiting for a reply to it), and after <see cref="LingerMs"/> at most if the producer stalls on something else
    /// (<see cref="LingerClock"/>'s thread sees that, this batcher's timer sends it).
    /// Order is kept: items go in the order given, a batch is sent before any later item.
    /// <para>
    /// A held item is encoded when it is handed over, on the pipeline thread (<see cref="IEncodedBatchChannel"/>): what
    /// goes is the item as it was then, as its single send would have sent it, though the command before may change
    /// the same object for its next item (a hashtable filled again), and no property of it is read on the linger
    /// timer's thread. An item that cannot be encoded goes through the cmdlet's single send after what is held, with
    /// its error.
    /// </para>
    /// <para>
    /// Every item handed over is sent as its single send would have been, unless the pipeline is stopped (Ctrl+C,
    /// Stop: what is held is dropped). While items are held the linger timer keeps trying (backing off to
    /// <see cref="MaxLingerMs"/>) until they go, and what is still held when the command is disposed without its
    /// EndProcessing (the command before it failed, or break, continue or exit left the pipeline) is sent then
    /// (<see cref="Dispose"/>: an item that cannot go then is dropped without an error record).
    /// </para>
    /// <para>
    /// Errors stay those of single sends: a batch with a timeout (-Timeout, -NoWait) is tried without waiting, and if it
    /// does not go whole (no room now, a message too large) its items are sent one by one through the cmdlet's own
    /// single send, each as it was encoded, with its timeout and its own error record.
    /// </para>
    /// </summary>
    internal sealed class SendBatcher : IDisposable
    {
        /// <summary>Items that follow within this (20 µs) are streaming; one of them never waits for later ones longer than the rest of the input takes.</summary>
        private static readonly long QuickTicks = Stopwatch.Frequency / 50_000;

        /// <summary>The most a held item waits when its producer stalls on something that is not IpcPs.</summary>
        private const int LingerMs = 1;
        private static readonly long LingerTicks = Stopwatch.Frequency * LingerMs / 1000;
        private static readonly long MaxLingerTicks = Stopwatch.Frequency * MaxLingerMs / 1000;

        /// <summary>What <see cref="Tick"/> returns when the clock is to stop watching this batcher.</summary>
        internal const long Unwatch = long.MinValue;

        /// <summary>The longest the timer waits before it tries again a batch that found no room (doubling from <see cref="LingerMs"/>).</summary>
        private const int MaxLingerMs = 16;

        /// <summary>
        /// A try copies the batch's bytes (and looks for room): the timer waits at least this many times as long as
        /// the last try took, so that a producer stalled beside a full queue spends at most about 1/RetryShare of a
        /// processor on it.
        /// </summary>
        private const int RetryShare = 20;

        /// <summary>How often <see cref="Dispose"/> looks whether the pipeline is being stopped.</summary>
        private const int StopPollMs = 50;

        private const int MaxItems = 1000;

        private readonly IEncodedBatchChannel _channel;
        private readonly int _depth;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancel;
        private readonly Action<object?, long?, MessageBatch?> _sendOne;
        private readonly Func<bool> _stopping;
        private readonly int _cap;
        // The items held, as given (for their error records), and as encoded when they were given (what is sent).
        // Invariant, under the gate: _encoded.Count == _pending.Count, message i of _encoded is item i of _pending.
        private readonly List<object?> _pending = new List<object?>();
        private readonly MessageBatch _encoded = MessageBatch.Create();
        private readonly MessageBatch _scratch = MessageBatch.Create();   // pipeline thread: an object encoded outside the gate
        private readonly MessageBatch _one = MessageBatch.Create();       // under the gate: one held message for SENDONE
        private long? _priority;   // of the items held: a batch has one priority (Send-IpcMessage takes it per item)
        private readonly object _gate = new object();
        private readonly Action _beforeWait;
        // The linger clock (LingerClock) watches this batcher while it streams, and hands a batch held for LingerMs to
        // this batcher's own timer (_timer), which sends it and tries again while it finds no room; the timer alone
        // serves when the clock has no thread. Under the gate: _watched (the clock has this batcher in its list, or is about to drop it: set false
        // only under the gate, so a Hold that finds it false registers again), _heldSince (when the batch held now got
        // its first item), _holds and _holdsSeen (batches held since the clock's last look: a streaming pipeline stays
        // watched between batches).
        private bool _watched;
        private long _heldSince;
        private int _holds, _holdsSeen;
        private int _busyLooks;   // the clock's thread only: its looks in a row that found the gate busy
        private Timer? _timer;
        // The linger timer's delay: LingerMs when an item is first held, doubled up to MaxLingerMs each time the timer
        // finds the batch still held. Written by both threads (outside the gate when the timer finds it busy): a race
        // only picks another delay, never one above MaxLingerMs.
        private int _lingerMs = LingerMs;
        private long _tryTicks;   // how long the last quiet try took (it sets the timer's next delay)
        // Cancelled by the stop token, or in Dispose when the pipeline is seen stopping: the timer's flush and Dispose's
        // sends wait with it. Created at the first held item (only a held item needs it).
        private CancellationTokenSource? _stop;
        private long _lastReturn;
        private bool _hooked, _disposed;
        // True while the pipeline thread sends under the gate: a wait inside that send (for room, for the queue's lock)
        // runs this thread's BeforeWait actions, and the gate is reentrant, so the flush there must see it and leave
        // the items alone (it would send them a second time).
        private bool _flushing;

        /// <summary>
        /// SENDONE: the cmdlet's single send of one item with its priority, with its error handling (pipeline thread
        /// only); given a batch of one message, it sends that message (the item as encoded when it was handed over).
        /// STOPPING: whether the pipeline is being stopped (the cmdlet's Stopping, read from any thread).
        /// </summary>
        public SendBatcher(IEncodedBatchChannel channel, int? depth, TimeSpan timeout, CancellationToken cancel, Action<object?, long?, MessageBatch?> sendOne, Func<bool> stopping)
        {
            _channel = channel;
            _depth = depth ?? channel.SerializationDepth;
            _timeout = timeout;
            _cancel = cancel;
            _sendOne = sendOne;
            _stopping = stopping;
            _cap = Math.Max(1, Math.Min(MaxItems, channel.MaxBatch));
            _beforeWait = () => { _hooked = false; FlushQuietly(); };
        }

        /// <summary>One item of the pipeline and its priority (pipeline thread).</summary>
        public void Add(object? item, long? priority)
        {
            bool quick = Stopwatch.GetTimestamp() - _lastReturn < QuickTicks;
            // Pipeline items come wrapped in a PSObject. The codec encodes a wrapped primitive as its base value (its
            // fallback unwraps anything but a custom object, after trying every type it knows); unwrapped here the
            // batch encodes it directly (measured: Send-IpcMessage 0.65 -> 0.8 M items/s sending alone, load ~20).
            if (item is PSObject pso && IsPrimitive(pso.BaseObject)) item = pso.BaseObject;
            bool primitive = item is null || IsPrimitive(item);
            // An item that may be held and is not a primitive is encoded before the gate is taken: a script property may
            // wait on IpcPs, and this thread's BeforeWait then sends what is held (under the gate), which the command
            // after may be waiting for. One that comes slowly with nothing held goes alone, encoded once by its single
            // send (only this thread adds items: a count of 0 read here is still 0 under the gate).
            bool early = !primitive && (quick || _pending.Count > 0);
            bool encoded = !early || Encode(_scratch, item);
            lock (_gate)
            {
                if (_pending.Count > 0 && _priority != priority) FlushLocked();   // a batch holds one priority
                // A lone item: at once, as ever (its bytes if they were made above: the timer sent what was held meanwhile).
                if (!quick && _pending.Count == 0) _sendOne(item, priority, early && encoded ? _scratch : null);
                else if (!encoded)
                {
                    FlushLocked();
                    _sendOne(item, priority, null);   // it cannot be encoded: its single send says why, after what is held
                }
                else
                {
                    if (primitive) _encoded.Append(item, _depth, _channel.SendsRawBytes);
                    else _encoded.AppendEncoded(_scratch, 0);
                    _priority = priority;
                    _pending.Add(item);
                    if (!quick || _pending.Count >= _cap) FlushLocked();
                    else if (_pending.Count == 1) Hold();
                }
            }
            if (early) _scratch.Clear();   // do not keep a large object's bytes
            _lastReturn = Stopwatch.GetTimestamp();
        }

        /// <summary>ITEM encoded as the only message of INTO; false when it cannot be (its single send will report it).</summary>
        private bool Encode(MessageBatch into, object? item)
        {
            into.Clear();
            try
            {
                into.Append(item, _depth, _channel.SendsRawBytes);
                return true;
            }
            catch (Exception e) when (!(e is OutOfMemoryException) && !(e is PipelineStoppedException)) { return false; }
        }

        private static bool IsPrimitive(object value) =>
            value is int || value is long || value is double || value is bool || value is string;

        /// <summary>Sends what is held (pipeline thread: the end of the input).</summary>
        public void Flush()
        {
            lock (_gate) FlushLocked();
        }

        /// <summary>
        /// Pipeline thread, when the command ends however it ended. After EndProcessing nothing is held; without it (the
        /// command before failed, or break, continue or exit left the pipeline) what is held is sent now as Flush sends it
        /// (the batch, then one by one, each waiting as -Timeout says), but quietly: PowerShell lets a command write
        /// nothing while it disposes it, so an item that cannot go (no room within -Timeout, at once with -NoWait; an item
        /// that cannot be encoded; a closed pipe) is dropped without an error record. A stopped pipeline drops what is
        /// held and ends such a wait. PowerShell calls no StopProcessing once it disposes the commands (DisposeCommands
        /// marks the pipeline stopping first, and Stop calls StopProcessing only on a pipeline not yet marked), so the
        /// cmdlet's Stopping is polled meanwhile: checked with a [powershell] BeginStop during a command's Dispose (after
        /// a throw, a break and a normal end alike): the stop token stayed as it was, Stopping turned true.
        /// </summary>
        public void Dispose()
        {
            if (_hooked) BeforeWait.Unregister(_beforeWait);
            _hooked = false;
            if (_stop is null || _disposed) return;   // nothing was ever held, or disposed already
            var stop = _stop!;
            // The gate busy: the timer's flush has it, and without -Timeout it may wait there for room with STOP, which
            // only the poll below cancels (no StopProcessing comes once PowerShell disposes the commands): never wait
            // for the gate before the poll runs (CI run 36: a Stop did not end such a dispose).
            bool held = true;
            if (Monitor.TryEnter(_gate))
            {
                try
                {
                    held = _pending.Count > 0;
                    _disposed |= !held;
                }
                finally { Monitor.Exit(_gate); }
            }
            if (!held)   // the usual end (EndProcessing sent everything): no stop poll to set up
            {
                _timer?.Dispose();   // a callback still running (or the clock) finds the batcher disposed under the gate
                stop.Dispose();
                return;
            }
            using var polled = new ManualResetEvent(false);
            var poll = new Timer(_ => { if (_stopping()) stop.Cancel(); }, null, 0, StopPollMs);
            try
            {
                lock (_gate)   // the timer's flush may hold it, waiting for room with STOP
                {
                    _disposed = true;
                    try { if (_pending.Count > 0 && !stop.IsCancellationRequested) SendPending(SendQuietly, stop.Token); }
                    catch (Exception e) when (e is OperationCanceledException || e is ConnectionClosedException) { }
                    finally { ClearHeld(); }
                }
            }
            finally
            {
                poll.Dispose(polled);
                polled.WaitOne();   // no poll runs any more: STOP can be disposed
                _timer?.Dispose();   // a callback still running (or the clock) finds the batcher disposed under the gate
                stop.Dispose();
            }
        }

        /// <summary>Dispose's single send of one held message: as the cmdlet's, with nowhere to report an item that did not go.</summary>
        private void SendQuietly(object? item, long? priority, MessageBatch? one)
        {
            try { _channel.TrySendEncoded(one!, priority, _timeout, _stop!.Token); }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is InvalidOperationException) { }
        }

        private void Hold()
        {
            _stop ??= CancellationTokenSource.CreateLinkedTokenSource(_cancel);
            if (!_hooked)
            {
                BeforeWait.Register(_beforeWait);
                _hooked = true;
            }
            _lingerMs = LingerMs;
            _heldSince = Stopwatch.GetTimestamp();
            _holds++;
            if (!_watched) _watched = LingerClock.Watch(this, _heldSince + LingerTicks);
            if (!_watched) ArmTimer(LingerMs);
        }

        private void ArmTimer(int ms)
        {
            _timer ??= new Timer(_ => Linger());
            try { _timer.Change(ms, Timeout.Infinite); }
            catch (ObjectDisposedException) { }   // disposed meanwhile: Dispose sends what is held
        }

        /// <summary>
        /// The linger clock's look at this batcher at NOW (its thread; never blocks). Returns when to look again, or
        /// <see cref="Unwatch"/>: nothing held since the last look, the batcher disposed, or a batch held for
        /// <see cref="LingerMs"/> (the producer stalls on something else), which this batcher's timer now sends: on the
        /// thread pool, where a send may wait (for room, for a queue's lock, for a pipe's reader) without holding up the
        /// clock and so every other producer of the process (review: the clock once sent itself, and a pipe's reader that
        /// was another producer of the process then waited for the clock for ever).
        /// </summary>
        internal long Tick(long now)
        {
            if (!Monitor.TryEnter(_gate))
            {
                // The pipeline thread is at it (perhaps waiting for room under the gate: a full queue's back-pressure):
                // look again, backing off from LingerMs to MaxLingerMs.
                return now + Math.Min(LingerTicks << Math.Min(_busyLooks++, 4), MaxLingerTicks);
            }
            _busyLooks = 0;
            try
            {
                if (_disposed) return Unwatched();
                if (_pending.Count == 0)
                {
                    if (_holds == _holdsSeen) return Unwatched();
                    _holdsSeen = _holds;
                    return now + LingerTicks;
                }
                _holdsSeen = _holds;
                if (now - _heldSince < LingerTicks) return _heldSince + LingerTicks;
                ArmTimer(0);
                return Unwatched();
            }
            // The clock's thread must not end (an exception there ends the process): the pipeline thread sends the batch
            // at its next item or its end, and its next held batch registers again.
            catch (Exception) { return Unwatched(); }
            finally { Monitor.Exit(_gate); }
        }

        private long Unwatched()
        {
            _watched = false;
            return Unwatch;
        }

        /// <summary>
        /// Arms the timer to try a batch that found no room again: the delay doubles from <see cref="LingerMs"/> up to
        /// <see cref="MaxLingerMs"/>, and is at least RetryShare times as long as the last try took.
        /// </summary>
        private void RetryLater()
        {
            int ms = _lingerMs = Math.Min(_lingerMs * 2, MaxLingerMs);
            ArmTimer((int)Math.Min(int.MaxValue, Math.Max(ms, _tryTicks * RetryShare * 1000 / Stopwatch.Frequency)));
        }

        /// <summary>Pipeline thread, under the gate: the batch, and whatever did not go whole one by one with its errors.</summary>
        private void FlushLocked()
        {
            if (_pending.Count == 0 || _flushing) return;
            _flushing = true;
            try { SendPending(_sendOne, _cancel); }
            finally { _flushing = false; }
        }

        /// <summary>Pipeline thread, under the gate: the batch, then what did not go whole through SENDONE; nothing is held after it.</summary>
        private void SendPending(Action<object?, long?, MessageBatch?> sendOne, CancellationToken cancel)
        {
            int sent = 0;
            try
            {
                // With a timeout the batch only takes the room there is now; single sends then wait as they always did.
                sent = _channel.TrySendEncoded(_encoded, _priority, _timeout < TimeSpan.Zero ? _timeout : TimeSpan.Zero, cancel);
            }
            catch (Exception e) when (e is IpcException && !(e is ConnectionClosedException) || e is ArgumentException || e is InvalidOperationException)
            {
                sent = 0;   // nothing of it went (a queue's batch is all or nothing; a pipe checks every item before it sends)
            }
            catch
            {
                ClearHeld();
                throw;
            }
            try
            {
                for (int i = Math.Max(sent, 0); i < _pending.Count; i++)
                {
                    _one.Clear();
                    _one.AppendEncoded(_encoded, i);
                    sendOne(_pending[i], _priority, _one);
                }
            }
            finally { ClearHeld(); }
        }

        private void ClearHeld()
        {
            _pending.Clear();
            _encoded.Clear();
        }

        /// <summary>
        /// From a wait of this thread or the linger timer: sends the batch if it goes as it is (with a timeout, if it fits
        /// now; without one, waiting for room); else leaves it to the pipeline thread, which writes its errors. True when
        /// items stay held only for lack of room, or because the pipeline thread had the gate: worth trying again.
        /// </summary>
        private bool FlushQuietly()
        {
            if (!Monitor.TryEnter(_gate)) return true;   // the pipeline thread is at it (it may leave items held)
            bool flushing = _flushing;
            try
            {
                if (flushing) return false;   // inside this thread's own send (the gate is reentrant): it sends them
                _flushing = true;
                if (_disposed || _pending.Count == 0) return false;
                long started = Stopwatch.GetTimestamp();
                int sent = _channel.TrySendEncoded(_encoded, _priority, _timeout < TimeSpan.Zero ? _timeout : TimeSpan.Zero, _stop!.Token);
                _tryTicks = Stopwatch.GetTimestamp() - started;
                if (sent > 0)
                {
                    _pending.RemoveRange(0, Math.Min(sent, _pending.Count));
                    _encoded.DropFirst(sent);   // a pipe's first messages, sent before its timeout
                    _lingerMs = LingerMs;
                }
                return _pending.Count > 0;
            }
            catch (Exception) { return false; }   // sent again, with its errors, by the pipeline thread (nothing of it went)
            finally
            {
                if (!flushing) _flushing = false;
                Monitor.Exit(_gate);
            }
        }

        /// <summary>
        /// The linger timer. Invariant: while items are held and the batcher is not disposed, the linger clock watches it
        /// (Hold registers it for the first item held when it is not watched), or the timer is armed (the clock handed
        /// it a batch that found no room, or the clock has no thread) or this callback runs and re-arms it, so held items
        /// go as soon as there is room even when nothing else would flush them (the hook has run, the producer waits on
        /// something else). Not after a failure other than room: that batch waits for the pipeline thread, which sends
        /// it one by one.
        /// </summary>
        private void Linger()
        {
            if (!FlushQuietly() || _disposed) return;
            RetryLater();
        }
    }
}
