using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs.Tests
{
    /// <summary>
    /// A participant of the protocol tests in another process ("protocol"), driven by one command per line on its
    /// standard input and answering one line each: "ok [RESULT]" or "error TYPE: MESSAGE". It ends when its input
    /// closes (the test is done or gone) or on "exit"; the tests kill it to make a holder die. Commands:
    /// <code>
    /// holder                       this process's holder id (as lock words and slots record it)
    /// acquire NAME SECONDS|inf     TryAcquire on a Lock, RLock, Semaphore (or a Condition's lock): Acquired, Abandoned, TimedOut
    /// release NAME                 Release
    /// count LOCK SEGMENT N         N increments of the int at SEGMENT[0] under LOCK, read and written apart; answers the
    ///                              times SEGMENT[4] (a flag claimed inside) was found already claimed
    /// event-wait NAME SECONDS|inf  Event.Wait: True or False
    /// cond-wait NAME SECONDS|inf   takes the condition's lock, waits, releases: True or False
    /// barrier NAME SECONDS|inf     Barrier.Wait: the arrival index, or Broken
    /// put QUEUE ID N               puts ID &lt;&lt; 32 | seq for seq 1..N
    /// pong SEGMENT ROUNDS          SignalWord ping-pong (see ProtocolSignalWordTests)
    /// </code>
    /// </summary>
    public static unsafe class ProtocolWorker
    {
        private static readonly Dictionary<string, IpcObject> Objects = new Dictionary<string, IpcObject>();

        public static int Run(string[] args)
        {
            string? line;
            while ((line = Console.In.ReadLine()) != null)
            {
                var words = line.Split(' ');
                if (words[0] == "exit") break;
                string answer;
                try { answer = "ok " + Execute(words); }
                catch (Exception e) { answer = $"error {e.GetType().Name}: {e.Message.Replace('\n', ' ')}"; }
                Console.Out.WriteLine(answer.TrimEnd());
            }
            return 0;
        }

        private static T Get<T>(string name) where T : class
        {
            if (!Objects.TryGetValue(name, out var o)) Objects[name] = o = IpcObjects.Open(name);
            return o as T ?? throw new InvalidCastException($"'{name}' is a {o.Kind}.");
        }

        private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

        private static TimeSpan Span(string s) =>
            s == "inf" ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(double.Parse(s, CultureInfo.InvariantCulture));

        private static string Execute(string[] w)
        {
            switch (w[0])
            {
                case "holder": return HolderId.Me.ToString(CultureInfo.InvariantCulture);
                case "acquire": return Get<ILockable>(w[1]).TryAcquire(Span(w[2]), CancellationToken.None).ToString();
                case "release": Get<ILockable>(w[1]).Release(); return "";
                case "count": return Count(Get<ILockable>(w[1]), w[2], Int(w[3])).ToString(CultureInfo.InvariantCulture);
                case "event-wait": return Get<IpcEvent>(w[1]).Wait(Span(w[2]), CancellationToken.None).ToString();
                case "cond-wait":
                {
                    var c = Get<IpcCondition>(w[1]);
                    c.Acquire();
                    try { return c.Wait(Span(w[2]), CancellationToken.None).ToString(); }
                    finally { c.Release(); }
                }
                case "barrier":
                    try { return Get<IpcBarrier>(w[1]).Wait(Span(w[2]), CancellationToken.None).ToString(CultureInfo.InvariantCulture); }
                    catch (BrokenBarrierException) { return "Broken"; }
                case "put":
                {
                    var q = Get<IpcQueue>(w[1]);
                    int id = Int(w[2]), n = Int(w[3]);
                    for (int seq = 1; seq <= n; seq++) q.Put(ChaosWorker.Message(id, seq));
                    return "";
                }
                case "pong": ProtocolSignalWordTests.Pong(w[1], Int(w[2])); return "";
                default: throw new ArgumentException($"Unknown command {w[0]}.");
            }
        }

        /// <summary>
        /// The critical section of the mutual-exclusion test: a plain read, a pause, a plain write of the counter, and a
        /// flag claimed on entry and cleared on exit (a claim that finds it taken is a violation, counted).
        /// </summary>
        public static int Count(ILockable l, string segment, int n)
        {
            using var raw = new RawSegment(segment);
            int violations = 0;
            for (int i = 0; i < n; i++)
            {
                var got = l.TryAcquire(Timeout.InfiniteTimeSpan, CancellationToken.None);
                if (got == LockAcquisition.TimedOut) throw new InvalidOperationException("An infinite wait timed out.");
                if (Interlocked.CompareExchange(ref raw.Int(4), 1, 0) != 0) violations++;
                int v = Volatile.Read(ref raw.Int(0));
                Thread.SpinWait(4);
                Volatile.Write(ref raw.Int(0), v + 1);
                Volatile.Write(ref raw.Int(4), 0);
                l.Release();
            }
            return violations;
        }
    }
}
