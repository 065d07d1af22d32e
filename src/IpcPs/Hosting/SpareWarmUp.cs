using System;
using System.Management.Automation;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// What a warm spare does while it waits for its request: a few short rounds of a PowerShell loop that makes
    /// objects (a [pscustomobject] and a hashtable literal, a string with a variable in it) and puts each into a queue
    /// and gets it back (`$s.Put(...)`, `$s.Get()`, as a script does: PowerShell's binding of the calls, the queue's
    /// code and the codec), with pauses between them. The queue is in the spare's own memory, with no name
    /// (IpcQueue.CreateUnnamed): a spare killed mid-round leaves nothing in /dev/shm or the registry. A fresh .NET process runs its code at tier 0 until
    /// the runtime has seen each method called 30 times *after* a quiet spell (the tiering delay, 100 ms without new
    /// compilation); the pauses give it those spells while nobody waits, so the message paths of the spare's first
    /// script already run optimised code (one process putting 50,000 objects: 3.1-3.3 µs each in its first round
    /// without, 1.0 with four rounds of 1,000 and 500 ms pauses; docs/performance.md). Making the objects in the loop
    /// does the same for PowerShell's own code that builds them, which a script's loop pays first (a fresh spare
    /// making 50,000 [pscustomobject]s: ~13 µs each before, ~3.1 in the bench run of record; docs/performance.md). A request stops it within an
    /// item (<see cref="Stop"/>); only spares do it, never a cold child, which has its request already. It costs a
    /// spare ~0.6 s of processor time in its first seconds (the recompiled code), on top of its ~0.7 s boot:
    /// IPCPS_SPARE_WARMUP=0 in the session turns it off for the spares started after.
    /// </summary>
    public static class SpareWarmUp
    {
        /// <summary>The rounds of a whole warm-up, and the items of each.</summary>
        public const int Rounds = 4, Items = 1000;

        /// <summary>The environment variable that turns the warm-up off ("0"), read by the spare as it boots.</summary>
        public const string SettingVariable = "IPCPS_SPARE_WARMUP";

        /// <summary>Whether this process warms up while it waits: a spare, unless IPCPS_SPARE_WARMUP is 0.</summary>
        internal static bool Wanted => SpareWatch.IsSpare && Environment.GetEnvironmentVariable(SettingVariable)?.Trim() != "0";

        private static int _roundsRun;

        /// <summary>How many rounds this process ran before its request came (0 to <see cref="Rounds"/>).</summary>
        public static int RoundsRun => Volatile.Read(ref _roundsRun);
        internal static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

        // The queue is unnamed (IpcQueue.CreateUnnamed): the same Put and Get, bound by PowerShell as a script's
        // `$q.Put(...)` is, on the same queue code, but nothing in /dev/shm or the registry that a spare killed mid-round
        // could leave behind. Each item is got back at once, so no round ever waits or wakes; the trap ends the round
        // at its first error, so a get never follows a put that failed (it would wait for ever on the empty queue, and
        // the request's Stop with it).
        private const string Script = @"param($n, $s)
trap { break }
for ($i = 0; $i -lt $n; $i++) {
    if ([IpcPs.Hosting.SpareWarmUp]::Requested) { break }
    $o = [pscustomobject]@{ Name = ""warm $i""; Value = $i; Half = $i / 2; Done = $false }
    $h = @{ Key = ""k$i""; Count = $i + 1 }
    $s.Put($o); $null = $s.Get().Value
    $s.Put($h); $null = $s.Get().Key
    $s.Put(""item $i""); $null = $s.Get()
}";

        /// <summary>Bytes of the warm-up's queue: one item at a time is in it.</summary>
        private const long QueueCapacity = 64 << 10;

        private static int _errors;

        /// <summary>How many rounds of this process ended with an error (a put or get that failed): 0 unless broken.</summary>
        public static int Errors => Volatile.Read(ref _errors);

        private static readonly ManualResetEventSlim Stopped = new ManualResetEventSlim(false);
        private static volatile bool _requested;
        private static Thread? _thread;

        /// <summary>True once the request has come: the warm-up's loop ends at its next item.</summary>
        public static bool Requested => _requested;

        /// <summary>
        /// Runs the script once for one item, before the spare says it is ready: compiling it took the first round
        /// ~10 ms, which a request coming then would have waited for.
        /// </summary>
        internal static void Prepare(ChildRunspace runspace)
        {
            try { RunRound(runspace, 1); }
            catch (Exception) { /* as in Run */ }
        }

        /// <summary>
        /// Starts the rounds in RUNSPACE on a thread of their own, before the spare says it is ready (the main thread
        /// then waits on stdin; a thread's start would otherwise be on the path of a request already waiting). The
        /// thread waits a pause before each round.
        /// </summary>
        internal static void Start(ChildRunspace runspace)
        {
            _thread = new Thread(() => Run(runspace)) { IsBackground = true, Name = "IpcPs spare warm-up" };
            _thread.Start();
        }

        /// <summary>The request has come: ends the rounds and waits until the runspace is free again.</summary>
        internal static void Stop()
        {
            _requested = true;
            Stopped.Set();
            _thread?.Join();
        }

        private static void Run(ChildRunspace runspace)
        {
            try
            {
                for (int round = 0; round < Rounds; round++)
                {
                    if (Stopped.Wait(Pause)) return;
                    RunRound(runspace, Items);
                    if (!_requested) Interlocked.Increment(ref _roundsRun);   // a round cut short by the request does not count
                }
            }
            catch (Exception) { /* a warm-up that fails leaves a spare as it was */ }
        }

        private static void RunRound(ChildRunspace runspace, int items)
        {
            var queue = IpcQueue.CreateUnnamed(QueueCapacity);
            try
            {
                using (var ps = runspace.Shell()) RunItems(ps, items, queue);
            }
            finally { queue.Close(); }
        }

        /// <summary>
        /// Runs the script for ITEMS items through QUEUE on PS's runspace; true when the round failed (counted in
        /// <see cref="Errors"/>, and $Error cleared: nothing of the user's has run in the runspace yet, since a request
        /// first stops the rounds). Throws what the round threw.
        /// </summary>
        internal static bool RunItems(PowerShell ps, int items, object queue)
        {
            bool failed = true;
            try
            {
                // A local scope ($true): the round's variables stay out of the script's.
                ps.AddScript(Script, true).AddArgument(items).AddArgument(queue);
                ps.Invoke();
                failed = ps.HadErrors;
            }
            finally
            {
                if (failed)
                {
                    Interlocked.Increment(ref _errors);
                    try
                    {
                        ps.Commands.Clear();
                        ps.AddScript("$global:Error.Clear()").Invoke();
                    }
                    catch (Exception) { /* the round's error is what the caller sees */ }
                }
            }
            return failed;
        }
    }
}
