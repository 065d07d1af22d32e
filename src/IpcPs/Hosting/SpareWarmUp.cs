using System;
using System.Threading;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>
    /// What a warm spare does while it waits for its request: a few short rounds of encoding and decoding objects as
    /// messages, from a PowerShell loop, with pauses between them. A fresh .NET process runs its code at tier 0 until
    /// the runtime has seen each method called 30 times *after* a quiet spell (the tiering delay, 100 ms without new
    /// compilation); the pauses give it those spells while nobody waits, so the message paths of the spare's first
    /// script already run optimised code (one process putting 50,000 objects: 3.1-3.3 µs each in its first round
    /// without, 1.0 with four rounds of 1,000 and 500 ms pauses; docs/performance.md). A request stops it within an
    /// item (<see cref="Stop"/>); only spares do it, never a cold child, which has its request already.
    /// </summary>
    public static class SpareWarmUp
    {
        internal const int Rounds = 4, Items = 1000;
        internal static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

        private const string Script = @"param($n)
$o = [pscustomobject]@{ Id = 1; Name = 'item 1'; Size = 3; Ok = $true }
$h = @{ Id = 1; Name = 'item 1' }
for ($i = 0; $i -lt $n; $i++) {
    if ([IpcPs.Hosting.SpareWarmUp]::Requested) { break }
    $null = [IpcPs.Hosting.SpareWarmUp]::RoundTrip($o).Id
    $null = [IpcPs.Hosting.SpareWarmUp]::RoundTrip($h)
    $null = [IpcPs.Hosting.SpareWarmUp]::RoundTrip(""item $i"")
}";

        private static readonly ManualResetEventSlim Stopped = new ManualResetEventSlim(false);
        private static volatile bool _requested;
        private static Thread? _thread;

        /// <summary>True once the request has come: the warm-up's loop ends at its next item.</summary>
        public static bool Requested => _requested;

        /// <summary>VALUE encoded as a message and decoded back (a put's and a get's work, without a queue); null if it cannot be.</summary>
        public static object? RoundTrip(object? value)
        {
            try
            {
                var w = MessageCodec.Encode(value, 2);
                try { return MessageCodec.Decode(w.Buffer, 0, w.Length); }
                finally { MessageCodec.Recycle(w); }
            }
            catch (Exception) { return null; }   // never an error in the spare's runspace ($Error is the user's)
        }

        /// <summary>
        /// Runs the script once for one item, before the spare says it is ready: compiling it took the first round
        /// ~10 ms, which a request coming then would have waited for.
        /// </summary>
        internal static void Prepare(ChildRunspace runspace)
        {
            try { RunRound(runspace, 1); }
            catch (Exception) { /* as in Run */ }
        }

        /// <summary>Starts the rounds in RUNSPACE on a thread of their own (the main thread waits on stdin meanwhile).</summary>
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
                }
            }
            catch (Exception) { /* a warm-up that fails leaves a spare as it was */ }
        }

        private static void RunRound(ChildRunspace runspace, int items)
        {
            using (var ps = runspace.Shell())
            {
                ps.AddScript(Script, true).AddArgument(items);
                ps.Invoke();
            }
        }
    }
}
