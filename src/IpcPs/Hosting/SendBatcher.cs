using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Send-IpcMessage's batches (docs/design.md, "Batches"). An item that comes in right after the previous one (its
    /// producer took less than <see cref="QuickTicks"/>: the pipeline is streaming) is held and sent with the next ones
    /// as one batch — one lock, one wake-up call; any other item goes at once, as a single send, so a lone message is
    /// never held back. What is held goes out when the batch is full, when an item comes slowly, at the end of the
    /// input, before this thread waits on anything of IpcPs (<see cref="BeforeWait"/>: the command before it may be
    /// waiting for a reply to it), and after <see cref="LingerMs"/> at most if the producer stalls on something else.
    /// Order is kept: items go in the order given, a batch is sent before any later item.
    /// <para>
    /// Errors stay those of single sends: a batch with a timeout (-Timeout, -NoWait) is tried without waiting, and if it
    /// does not go whole (no room now, a message too large, an item that cannot be encoded) its items are sent one by
    /// one through the cmdlet's own single send, each with its timeout and its own error record.
    /// </para>
    /// </summary>
    internal sealed class SendBatcher : IDisposable
    {
        /// <summary>Items that follow within this (20 µs) are streaming; one of them never waits for later ones longer than the rest of the input takes.</summary>
        private static readonly long QuickTicks = Stopwatch.Frequency / 50_000;

        /// <summary>The most a held item waits when its producer stalls on something that is not IpcPs.</summary>
        private const int LingerMs = 1;

        private const int MaxItems = 1000;

        private readonly IBatchChannel _channel;
        private readonly int? _depth;
        private readonly TimeSpan _timeout;
        private readonly CancellationToken _cancel;
        private readonly Action<object?, long?> _sendOne;
        private readonly int _cap;
        private readonly List<object?> _pending = new List<object?>();
        private long? _priority;   // of the items held: a batch has one priority (Send-IpcMessage takes it per item)
        private readonly object _gate = new object();
        private readonly Action _beforeWait;
        private Timer? _timer;
        private long _lastReturn;
        private bool _hooked, _disposed;
        // True while the pipeline thread sends under the gate: a wait inside that send (for room, for the queue's lock)
        // runs this thread's BeforeWait actions, and the gate is reentrant, so the flush there must see it and leave
        // the items alone (it would send them a second time).
        private bool _flushing;

        /// <summary>SENDONE: the cmdlet's single send of one item with its priority, with its error handling (pipeline thread only).</summary>
        public SendBatcher(IBatchChannel channel, int? depth, TimeSpan timeout, CancellationToken cancel, Action<object?, long?> sendOne)
        {
            _channel = channel;
            _depth = depth;
            _timeout = timeout;
            _cancel = cancel;
            _sendOne = sendOne;
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
            lock (_gate)
            {
                if (_pending.Count > 0 && _priority != priority) FlushLocked();   // a batch holds one priority
                if (!quick && _pending.Count == 0) _sendOne(item, priority);   // a lone item: at once, as ever
                else
                {
                    _priority = priority;
                    _pending.Add(item);
                    if (!quick || _pending.Count >= _cap) FlushLocked();
                    else if (_pending.Count == 1) Hold();
                }
            }
            _lastReturn = Stopwatch.GetTimestamp();
        }

        private static bool IsPrimitive(object value) =>
            value is int || value is long || value is double || value is bool || value is string;

        /// <summary>Sends what is held (pipeline thread: the end of the input).</summary>
        public void Flush()
        {
            lock (_gate) FlushLocked();
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                _pending.Clear();
            }
            if (_hooked) BeforeWait.Unregister(_beforeWait);
            _hooked = false;
            _timer?.Dispose();
        }

        private void Hold()
        {
            if (!_hooked)
            {
                BeforeWait.Register(_beforeWait);
                _hooked = true;
            }
            _timer ??= new Timer(_ => Linger());
            _timer.Change(LingerMs, Timeout.Infinite);
        }

        /// <summary>Pipeline thread, under the gate: the batch, and whatever did not go whole one by one with its errors.</summary>
        private void FlushLocked()
        {
            if (_pending.Count == 0 || _flushing) return;
            _flushing = true;
            try { SendPending(); }
            finally { _flushing = false; }
        }

        private void SendPending()
        {
            int sent = 0;
            try
            {
                // With a timeout the batch only takes the room there is now; single sends then wait as they always did.
                sent = _channel.TrySendMany(_pending, _priority, _depth, _timeout < TimeSpan.Zero ? _timeout : TimeSpan.Zero, _cancel);
            }
            catch (Exception e) when (e is IpcException && !(e is ConnectionClosedException) || e is ArgumentException || e is InvalidOperationException)
            {
                sent = 0;   // nothing of it went (a queue's batch is all or nothing; a pipe checks every item before it sends)
            }
            catch
            {
                _pending.Clear();
                throw;
            }
            try
            {
                for (int i = Math.Max(sent, 0); i < _pending.Count; i++) _sendOne(_pending[i], _priority);
            }
            finally { _pending.Clear(); }
        }

        /// <summary>From a wait of this thread or the linger timer: sends the batch if it goes as it is; else leaves it to the pipeline thread.</summary>
        private void FlushQuietly()
        {
            if (!Monitor.TryEnter(_gate)) return;   // the pipeline thread is at it
            bool flushing = _flushing;
            try
            {
                if (flushing) return;   // inside this thread's own send (the gate is reentrant)
                _flushing = true;
                if (_disposed || _pending.Count == 0) return;
                int sent = _channel.TrySendMany(_pending, _priority, _depth, _timeout < TimeSpan.Zero ? _timeout : TimeSpan.Zero, _cancel);
                if (sent > 0) _pending.RemoveRange(0, Math.Min(sent, _pending.Count));
            }
            catch (Exception) { }   // sent again, with its errors, by the pipeline thread (nothing of it went)
            finally
            {
                if (!flushing) _flushing = false;
                Monitor.Exit(_gate);
            }
        }

        private void Linger() => FlushQuietly();
    }
}
