using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// One thread per process that sees when a <see cref="SendBatcher"/> has held a batch for its linger time (the
    /// producer stalls on something that is not IpcPs) and hands it to that batcher's timer, which sends it
    /// (docs/design.md, "Batches"). It replaces the timer re-armed for every batch: while a pipeline streamed, the
    /// runtime's timer thread woke about once a millisecond and queued its timer queue to the thread pool each time,
    /// whose workers then spun and yielded beside the two pipelines — thousands of scheduler slices a second on 2 CPUs,
    /// and more processor time on the producer's pipeline thread (docs/performance.md). This thread sleeps until the
    /// earliest held batch is due, a batcher that streams is registered once, not once a batch, and the thread pool only
    /// runs when a producer really stalls. It never sends nor waits on anything but its own lock (<see
    /// cref="SendBatcher.Tick"/> only TryEnters a batcher's gate): a send may wait for room, a queue's lock or a pipe's
    /// reader, and that reader may be another producer of this process, waiting in <see cref="Watch"/> for this lock.
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
                    // Not the first caller's execution context (its AsyncLocals) for the life of the process.
                    using (ExecutionContext.SuppressFlow())
                    {
                        try { Core.Platform.PlatformErrors.StartThread(thread); }
                        catch (IpcException)
                        {
                            _failed = true;
                            return false;
                        }
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
