using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// One thread per process that sends what a <see cref="SendBatcher"/> has held for its linger time when the producer
    /// stalls on something that is not IpcPs (docs/design.md, "Batches"). It replaces a System.Threading.Timer re-armed
    /// for every batch: while a pipeline streams, that timer's thread woke about once a millisecond and queued its
    /// timer queue to the thread pool each time, whose workers then spun and yielded beside the two pipelines — thousands
    /// of scheduler slices a second on 2 CPUs, measured as ~20 % more processor time on the producer's pipeline thread
    /// (docs/performance.md). This thread sleeps until the earliest held batch is due, and a batcher that streams is
    /// registered once, not once a batch. It only ever sends what fits now (never waits for room: one batcher's full
    /// queue must not hold up the others); a batch that does not fit goes back to its batcher's own timer, which waits
    /// for room as before.
    /// </summary>
    internal static class LingerClock
    {
        // Guards Watched, _thread and _wakeAt; the thread waits on it. Lock order: a batcher's gate, then this (Watch is
        // called under the gate); the thread, holding this, only ever TryEnters a batcher's gate.
        private static readonly object Gate = new object();
        private static readonly List<SendBatcher> Watched = new List<SendBatcher>();
        private static Thread? _thread;
        private static bool _failed;   // the thread could not be started: batchers use their own timers
        private static long _wakeAt = long.MaxValue;   // the timestamp the thread sleeps until (MaxValue: until a Watch)

        /// <summary>
        /// Watches BATCHER (called under its gate, when it holds its first item and is not watched) from DUE on. False when
        /// the clock's thread cannot run: the batcher then arms its own timer.
        /// </summary>
        public static bool Watch(SendBatcher batcher, long due)
        {
            lock (Gate)
            {
                if (_failed) return false;
                if (_thread is null)
                {
                    var thread = new Thread(Run) { IsBackground = true, Name = "IpcPs send linger" };
                    try { Core.Platform.PlatformErrors.StartThread(thread); }
                    catch (IpcException)
                    {
                        _failed = true;
                        return false;
                    }
                    _thread = thread;
                }
                Watched.Add(batcher);
                if (due < _wakeAt) Monitor.Pulse(Gate);
                return true;
            }
        }

        private static void Run()
        {
            lock (Gate)
            {
                while (true)
                {
                    long now = Stopwatch.GetTimestamp(), next = long.MaxValue;
                    for (int i = Watched.Count - 1; i >= 0; i--)
                    {
                        long due = Watched[i].Tick(now);
                        if (due == SendBatcher.Unwatch) Watched.RemoveAt(i);
                        else if (due < next) next = due;
                    }
                    _wakeAt = next;
                    if (next == long.MaxValue) Monitor.Wait(Gate);
                    else
                    {
                        // Rounded up to whole milliseconds (what Monitor.Wait takes): a batch goes at most ~1 ms late.
                        long ms = (next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1;
                        Monitor.Wait(Gate, (int)Math.Min(Math.Max(ms, 1), int.MaxValue));
                    }
                }
            }
        }
    }
}
