using System;
using System.IO;
using System.Threading;

namespace IpcPs.Tests
{
    /// <summary>
    /// One participant of the chaos test (<see cref="ChaosTests"/>), run as "worker ROLE ID PREFIX LOGDIR". It works until
    /// the test's stop event is set (exit 0), its stdin closes (the test is gone), or it is SIGKILLed — at any
    /// instruction, which is the point. Whatever it has completed it records in LOGDIR/ROLE-ID.log, one line per
    /// completed operation, written (a write(2) per line) only after the operation returned.
    /// </summary>
    public static unsafe class ChaosWorker
    {
        public static int Run(string[] args)
        {
            string role = args[1], prefix = args[3], logDir = args[4];
            int id = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
            var parentGone = new Thread(() =>
            {
                try { while (Console.In.Read() >= 0) { } } catch (IOException) { }
                Environment.Exit(3);
            }) { IsBackground = true };
            parentGone.Start();
            using var stop = (IpcEvent)IpcObjects.Open(prefix + "_stop", IpcObjectKind.Event);
            using var log = new StreamWriter(new FileStream(Path.Combine(logDir, $"{role}-{id}.log"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1))
                { AutoFlush = true };
            switch (role)
            {
                case "producer": Producer(prefix, id, stop, log); break;
                case "consumer": Consumer(prefix, stop, log); break;
                case "sender": Sender(prefix, id, stop, log); break;
                case "locker": Locker(prefix, id, stop, log); break;
                case "semaphore": Semaphore(prefix, stop, log); break;
                default: Console.Error.WriteLine($"Unknown role {role}."); return 2;
            }
            return 0;
        }

        /// <summary>A message: the worker's id and its sequence number.</summary>
        public static long Message(int id, int seq) => (long)id << 32 | (uint)seq;

        private static void Producer(string prefix, int id, IpcEvent stop, StreamWriter log)
        {
            using var q = (IpcQueue)IpcObjects.Open(prefix + "_queue", IpcObjectKind.Queue);
            for (int seq = 1; !stop.IsSet();)
            {
                try { q.Put(Message(id, seq), true, 0.2); }
                catch (QueueFullException) { continue; }   // not put: the same number again
                log.WriteLine(seq);
                seq++;
            }
        }

        private static void Consumer(string prefix, IpcEvent stop, StreamWriter log)
        {
            using var q = (IpcQueue)IpcObjects.Open(prefix + "_queue", IpcObjectKind.Queue);
            while (!stop.IsSet())
            {
                object? got;
                try { got = q.Get(true, 0.2); }
                catch (QueueEmptyException) { continue; }
                log.WriteLine((long)got!);
            }
        }

        private static void Sender(string prefix, int id, IpcEvent stop, StreamWriter log)
        {
            using var pipe = IpcConnection.Open(prefix + "_pipe", 1);
            for (int seq = 1; !stop.IsSet(); seq++)
            {
                pipe.Send(Message(id, seq));
                log.WriteLine(seq);
            }
        }

        /// <summary>
        /// Mutual exclusion, checked: the words' [0] names the worker inside the critical section. A worker that gets
        /// the lock normally must find it 0; one told the lock was abandoned takes over whatever a dead holder left.
        /// [1] counts violations, [2] abandoned acquisitions.
        /// </summary>
        private static void Locker(string prefix, int id, IpcEvent stop, StreamWriter log)
        {
            using var l = (IpcLock)IpcObjects.Open(prefix + "_lock", IpcObjectKind.Lock);
            using var words = new Words(prefix + "_words");
            while (!stop.IsSet())
            {
                var got = l.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None);
                if (got == LockAcquisition.TimedOut) continue;
                if (got == LockAcquisition.Abandoned)
                {
                    Interlocked.Increment(ref words[2]);
                    Interlocked.Exchange(ref words[0], id);
                }
                else if (Interlocked.CompareExchange(ref words[0], id, 0) != 0) Interlocked.Increment(ref words[1]);
                Thread.SpinWait(200);   // the critical section: long enough for a SIGKILL to land inside it
                if (Interlocked.Exchange(ref words[0], 0) != id) Interlocked.Increment(ref words[1]);
                l.Release();
                log.WriteLine(1);
            }
        }

        private static void Semaphore(string prefix, IpcEvent stop, StreamWriter log)
        {
            using var s = (IpcSemaphore)IpcObjects.Open(prefix + "_semaphore", IpcObjectKind.Semaphore);
            while (!stop.IsSet())
            {
                if (s.TryAcquire(TimeSpan.FromSeconds(0.5), CancellationToken.None) == LockAcquisition.TimedOut) continue;
                Thread.SpinWait(200);
                s.Release();
                log.WriteLine(1);
            }
        }

        /// <summary>32-bit words of a segment, mapped raw (<see cref="RawSegment"/>, not as an IpcPs holder) for atomic use.</summary>
        public sealed class Words : IDisposable
        {
            private readonly RawSegment _raw;

            public Words(string name) => _raw = new RawSegment(name);

            public ref int this[int index] => ref _raw.Int(index * 4);

            public void Dispose() => _raw.Dispose();
        }
    }
}
