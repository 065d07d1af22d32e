using System;
using System.Globalization;
using System.IO;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs.Tests
{
    /// <summary>
    /// One participant of a platform-layer test (Platform*Tests), run as "platform-worker ROLE ARGS…". It talks to the
    /// test through its standard output (one line per event) and ends when its role is done, or when its standard
    /// input closes (the test is gone). Exit codes: 0 done, 2 bad arguments, 3 a check failed (told on stderr).
    /// </summary>
    public static unsafe class PlatformWorker
    {
        /// <summary>Offsets of the words the wait roles share (in a <see cref="PlatformTesting.WordSegment"/>).</summary>
        public const int Turn = 64, Turns = 68, Inside = 72, Permits = 128, Consumed = 132, Produced = 136, Quiet = 256;

        /// <summary>The value that tells consumers that every unit has been consumed.</summary>
        public const int Finished = -1;

        private static IWordWait Words => Platforms.Current.Words;

        public static int Run(string[] args)
        {
            string role = args.Length > 1 ? args[1] : "";
            try
            {
                switch (role)
                {
                    case "exit": return 0;
                    case "live": Console.WriteLine("ready"); DrainInput(); return 0;
                    case "registry-count": return RegistryCount(args[2], Int(args[3]));
                    case "registry-hold": return RegistryHold(args[2]);
                    case "word-wait": return WordWait(args[2], Int(args[3]), Int(args[4]), Int(args[5]));
                    case "ring": return Ring(args[2], Int(args[3]), Int(args[4]), Int(args[5]), Int(args[6]));
                    case "permits": return PermitsRole(args[2], Int(args[3]), Int(args[4]), Int(args[5]), Int(args[6]));
                    case "timeouts": return Timeouts(args[2], Int(args[3]), Int(args[4]));
                    case "tree": return ProcessTreeWorker.Run(Int(args[2]), args.Length > 3 ? Int(args[3]) : -1);
                    default: Console.Error.WriteLine($"Unknown role '{role}'."); return 2;
                }
            }
            catch (CheckFailed e)
            {
                Console.Error.WriteLine(e.Message);
                return 3;
            }
        }

        private sealed class CheckFailed : Exception
        {
            public CheckFailed(string message) : base(message) { }
        }

        private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

        private static void DrainInput()
        {
            try { while (Console.In.Read() >= 0) { } }
            catch (IOException) { }
        }

        /// <summary>Ends the process when the test closes our standard input (it is gone, or it has seen enough).</summary>
        private static void ExitWithInput() =>
            new Thread(() => { DrainInput(); Environment.Exit(4); }) { IsBackground = true }.Start();

        /// <summary>
        /// N increments of a counter kept in NAME's registry record (its creator's start field), each under the
        /// record's lock: the test checks that no increment of any worker was lost.
        /// </summary>
        private static int RegistryCount(string name, int n)
        {
            ExitWithInput();
            var registry = Platforms.Current.Registry;
            for (int i = 0; i < n; i++)
                registry.Update(name, create: true, current =>
                {
                    long count = current?.Creator.Start ?? 0;
                    return (new RegistryRecord(IpcObjectKind.SharedMemory, new ProcessIdentity(1, count + 1), DateTime.UtcNow), 0);
                });
            Console.WriteLine("done");
            return 0;
        }

        /// <summary>Takes NAME's record lock, says "locked" and keeps it until killed (or its input closes).</summary>
        private static int RegistryHold(string name)
        {
            Platforms.Current.Registry.Update(name, create: true, current =>
            {
                Console.WriteLine("locked");
                DrainInput();
                return (current, 0);
            });
            return 0;
        }

        /// <summary>One wait on the word at OFFSET while it is EXPECTED: says "waiting", then "woke RESULT MILLISECONDS".</summary>
        private static int WordWait(string segment, int offset, int expected, int timeoutMs)
        {
            ExitWithInput();
            using var words = PlatformTesting.WordSegment.Open(segment);
            Console.WriteLine("waiting");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            bool result = Words.Wait(words.Word(offset), expected, timeoutMs, CancellationToken.None);
            Console.WriteLine(FormattableString.Invariant($"woke {result} {clock.ElapsedMilliseconds}"));
            return 0;
        }

        /// <summary>
        /// A token ring: THREADS threads, participants FIRST… of M, each takes ROUNDS turns. A participant waits (with
        /// 10 s timeouts) while the turn word is not its number, checks it is alone inside, passes the turn on and wakes
        /// everyone. A wait that times out although the turn is already its own slept through a wake-up: a lost one.
        /// </summary>
        private static int Ring(string segment, int m, int rounds, int first, int threads)
        {
            ExitWithInput();
            using var words = PlatformTesting.WordSegment.Open(segment);
            int* turn = words.Word(Turn), turns = words.Word(Turns), inside = words.Word(Inside);
            string? failure = null;
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int me = first + t;
                workers[t] = new Thread(() =>
                {
                    for (int r = 0; r < rounds && failure is null; r++)
                    {
                        while (true)
                        {
                            int seen = Volatile.Read(ref *turn);
                            if (seen == me) break;
                            if (!Words.Wait(turn, seen, 10_000, CancellationToken.None) && Volatile.Read(ref *turn) == me)
                            {
                                failure = $"Participant {me} slept 10 s through its turn: a lost wake-up (round {r}).";
                                return;
                            }
                        }
                        if (Interlocked.Exchange(ref *inside, me + 1) != 0) failure = $"Participant {me} found someone inside the ring's turn.";
                        Interlocked.Increment(ref *turns);
                        Interlocked.Exchange(ref *inside, 0);
                        Interlocked.Exchange(ref *turn, (me + 1) % m);
                        Words.Wake(turn, int.MaxValue);
                    }
                });
                workers[t].Start();
            }
            foreach (var w in workers) w.Join();
            if (failure != null) throw new CheckFailed(failure);
            Console.WriteLine("done");
            return 0;
        }

        /// <summary>
        /// Units through a permits word: PRODUCERS threads add UNITS each (one at a time, waking one sleeper each), and
        /// CONSUMERS threads take them, sleeping (no timeout) while there are none, until the consumed count reaches
        /// TOTAL; the consumer that takes the last unit marks the word <see cref="Finished"/> and wakes everyone. A lost
        /// wake-up leaves consumers asleep with units left: the test's deadline fails it.
        /// </summary>
        private static int PermitsRole(string segment, int producers, int consumers, int units, int total)
        {
            ExitWithInput();
            using var words = PlatformTesting.WordSegment.Open(segment);
            int* permits = words.Word(Permits), consumed = words.Word(Consumed), produced = words.Word(Produced);
            var threads = new System.Collections.Generic.List<Thread>();
            for (int p = 0; p < producers; p++)
                threads.Add(new Thread(() =>
                {
                    for (int i = 0; i < units; i++)
                    {
                        while (true)
                        {
                            int v = Volatile.Read(ref *permits);
                            if (v == Finished) throw new CheckFailed("The units were all consumed before every one was produced.");
                            if (Interlocked.CompareExchange(ref *permits, v + 1, v) == v) break;
                        }
                        Interlocked.Increment(ref *produced);
                        Words.Wake(permits, 1);
                    }
                }));
            for (int c = 0; c < consumers; c++)
                threads.Add(new Thread(() =>
                {
                    while (true)
                    {
                        int v = Volatile.Read(ref *permits);
                        if (v == Finished) return;
                        if (v > 0)
                        {
                            if (Interlocked.CompareExchange(ref *permits, v - 1, v) != v) continue;
                            if (Interlocked.Increment(ref *consumed) == total)
                            {
                                Interlocked.Exchange(ref *permits, Finished);
                                Words.Wake(permits, int.MaxValue);
                                return;
                            }
                            continue;
                        }
                        Words.Wait(permits, v, -1, CancellationToken.None);
                    }
                }));
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            Console.WriteLine("done");
            return 0;
        }

        /// <summary>
        /// THREADS threads each make N waits on the word at <see cref="Quiet"/>, which never changes, ended by short
        /// timeouts (0–2 ms) or cancellations, while the test wakes the word again and again: what they leave behind
        /// is checked by the test afterwards.
        /// </summary>
        private static int Timeouts(string segment, int threads, int n)
        {
            ExitWithInput();
            using var words = PlatformTesting.WordSegment.Open(segment);
            int* quiet = words.Word(Quiet);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int seed = t;
                workers[t] = new Thread(() =>
                {
                    var random = new Random(seed);
                    for (int i = 0; i < n; i++)
                    {
                        if (i % 3 == 2)
                        {
                            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(0, 3)));
                            Words.Wait(quiet, 0, 1000, cts.Token);
                        }
                        else Words.Wait(quiet, 0, random.Next(0, 3), CancellationToken.None);
                    }
                });
                workers[t].Start();
            }
            foreach (var w in workers) w.Join();
            Console.WriteLine("done");
            return 0;
        }
    }
}
