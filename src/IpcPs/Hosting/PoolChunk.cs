using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A pool worker's run of one chunk of items: the chunk goes through the worker's pipeline as one input
    /// (<c>ForEach-Object { [IpcPs.Hosting.PoolChunk]::Next(); &amp; $__ipcScript @__ipcArgs }</c>), and
    /// <see cref="Next"/>, called as each item begins, closes the previous item's result (its output and records so
    /// far) and writes the new item's input index into the worker's progress word (a shared 8-byte segment the
    /// parent reads if the worker dies: the item it was running). Results go back in order, several per message: at
    /// the chunk's end, and from a heartbeat every <see cref="HeartbeatMs"/> ms while the chunk runs (so they stream
    /// back while a long chunk runs). A terminating error ends its item only: the pipeline starts again with the items
    /// after it.
    /// Message: ["done", callId, results, ticks], each result [index, output[], records[], terminating], ticks the
    /// Stopwatch ticks the items of these results took.
    /// </summary>
    public sealed class PoolChunk
    {
        /// <summary>How often the heartbeat looks at a running chunk.</summary>
        public const int HeartbeatMs = 2;

        private static PoolChunk? _current;

        private readonly Action<object?[]> _send;   // sends one message; callers hold _gate
        private readonly object _gate = new object();
        private readonly int _callId;
        private readonly long[] _indexes;
        private readonly List<object?> _output;
        private readonly List<object?> _records;
        private readonly List<object?> _finished = new List<object?>();   // results not sent yet
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _ticksOfFinished;
        private long _itemStart;
        private int _position = -1;   // the item running (index into the chunk), -1 before the first
        private bool _ended;

        private readonly SharedMemory? _progress;

        private PoolChunk(int callId, long[] indexes, List<object?> output, List<object?> records, Action<object?[]> send, SharedMemory? progress)
        {
            _progress = progress;
            _callId = callId;
            _indexes = indexes;
            _output = output;
            _records = records;
            _send = send;
        }

        /// <summary>Called by the pipeline as each item begins (see the class summary).</summary>
        public static void Next() => _current?.Begin();

        /// <summary>Runs ITEMS (whose input indexes are INDEXES) through SHELL; every result is sent by the time it returns.</summary>
        internal static void Run(PowerShell shell, ChildHost host, PSDataCollection<PSObject> outputs, List<object?> output, List<object?> records,
            int callId, long[] indexes, object?[] items, Action<object?[]> send, SharedMemory? progress)
        {
            var chunk = new PoolChunk(callId, indexes, output, records, send, progress);
            _current = chunk;
            using (var heartbeat = new Timer(_ => chunk.Beat(), null, HeartbeatMs, HeartbeatMs))
            {
                int next = 0;
                while (next < items.Length)
                {
                    int first = next;
                    object? terminating = null;
                    try { shell.Invoke(first == 0 ? items : items.Skip(first).ToArray(), outputs); }
                    catch (RuntimeException e) { terminating = ChildProtocol.DescribeError(e.ErrorRecord); }
                    catch (Exception e) { terminating = Describe(e, items[Math.Max(chunk._position, first)]); }   // the engine's own
                    host.ExitCode = null;   // `exit` in an item ends the item, not the worker
                    if (chunk._position < first) chunk.Begin();   // failed before its first item began: that item failed
                    chunk.Close(terminating);
                    next = chunk._position + 1;
                    outputs.Clear();
                    shell.Streams.ClearStreams();
                }
                lock (chunk._gate) chunk._ended = true;
            }
            _current = null;
            chunk.Flush();
        }

        /// <summary>An item has begun and not finished.</summary>
        private bool IsRunning => _position >= 0 && _position < _indexes.Length && _indexes[_position] >= 0;

        /// <summary>An item begins: the one before it (if any) is finished.</summary>
        private void Begin()
        {
            long now = _clock.ElapsedTicks;
            lock (_gate)
            {
                if (IsRunning) Finish(null, now);
                _position++;
                _itemStart = now;
                // Before the item runs: a worker that dies from now on was running this item (or had finished it).
                if (_position < _indexes.Length) _progress?.WriteInt64(0, _indexes[_position]);
            }
        }

        /// <summary>The running item ended (TERMINATING: the error that ended it); the pipeline has ended.</summary>
        private void Close(object? terminating)
        {
            long now = _clock.ElapsedTicks;
            lock (_gate)
            {
                if (IsRunning) Finish(terminating, now);
            }
        }

        private void Finish(object? terminating, long now)
        {
            _finished.Add(new object?[] { _indexes[_position], _output.ToArray(), _records.ToArray(), terminating });
            _ticksOfFinished += now - _itemStart;
            _output.Clear();
            _records.Clear();
            _itemStart = now;
            // Marks the item finished, so the heartbeat does not announce it or send it twice.
            _indexes[_position] = -1 - _indexes[_position];
        }

        /// <summary>The heartbeat: sends the results finished since the last message.</summary>
        private void Beat()
        {
            lock (_gate)
            {
                if (!_ended) FlushLocked();
            }
        }

        private void Flush()
        {
            lock (_gate) FlushLocked();
        }

        private void FlushLocked()
        {
            if (_finished.Count == 0) return;
            var results = _finished.ToArray();
            _finished.Clear();
            long ticks = _ticksOfFinished;
            _ticksOfFinished = 0;
            try { _send(new object?[] { "done", _callId, results, ticks }); }
            catch (Exception e) when (!(e is ConnectionClosedException) && !(e is ObjectDisposedException))
            {
                // A result the codec cannot encode fails its item, not the others nor the worker: one at a time.
                foreach (object?[] r in results.OfType<object?[]>())
                {
                    try { _send(new object?[] { "done", _callId, new object?[] { r }, 0L }); }
                    catch (Exception one) when (!(one is ConnectionClosedException) && !(one is ObjectDisposedException))
                    {
                        _send(new object?[] { "done", _callId, new object?[] { new object?[] { r[0], Array.Empty<object?>(), r[2], Describe(one, null) } }, 0L });
                    }
                }
            }
        }

        private static Hashtable Describe(Exception e, object? item) =>
            ChildProtocol.DescribeError(new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, item));
    }
}
