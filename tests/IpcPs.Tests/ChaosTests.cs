using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Chaos: for IPCPS_CHAOS_SECONDS (default 60; build.ps1 -Task Chaos runs longer) worker processes put and get
    /// through a queue, send through a pipe, and take a lock and a semaphore, while the test SIGKILLs one at random
    /// every few hundred milliseconds and starts another. Afterwards: every put a producer completed was got exactly
    /// once (less at most one per consumer killed: a message got by a process that then died dies with it, as in
    /// CPython); every pipe message a sender completed arrived exactly once; no lock or semaphore permit is lost or
    /// doubled; mutual exclusion held; and nothing is left in /dev/shm.
    /// </summary>
    public sealed class ChaosTests
    {
        private static readonly string[] Roles = { "producer", "consumer", "sender", "locker", "semaphore" };
        private const int Workers = 6, Permits = 3;

        private static TimeSpan Duration
        {
            get
            {
                var text = Environment.GetEnvironmentVariable("IPCPS_CHAOS_SECONDS");
                return TimeSpan.FromSeconds(int.TryParse(text, out int s) && s > 0 ? s : 60);
            }
        }

        private sealed class Worker
        {
            public int Id;
            public string Role = "";
            public Process Process = null!;
            public readonly System.Text.StringBuilder Errors = new System.Text.StringBuilder();
            public bool Killed;
        }

        [Fact]
        public void SigkilledParticipantsLoseNothing()
        {
            string prefix = "chaos_" + Guid.NewGuid().ToString("N").Substring(0, 10);
            string logDir = Path.Combine(Path.GetTempPath(), "ipcps-" + prefix);
            Directory.CreateDirectory(logDir);
            int seed = Environment.TickCount;
            var random = new Random(seed);
            var all = new List<Worker>();
            try
            {
                using var queue = IpcQueue.Create(prefix + "_queue", maxSize: 100, capacity: 16384);
                var ends = IpcConnection.CreatePipe(prefix + "_pipe", duplex: false, bufferSize: 4096);
                using var receiveEnd = ends[0];
                using var sendEnd = ends[1];   // held until the end, so the receiver never sees EOF while senders come and go
                using var theLock = IpcLock.Create(prefix + "_lock");
                using var semaphore = IpcSemaphore.Create(prefix + "_semaphore", Permits);
                using var stop = IpcEvent.Create(prefix + "_stop");
                using var wordsSegment = SharedMemory.Create(prefix + "_words", 4096);
                using var words = new ChaosWorker.Words(prefix + "_words");

                var piped = new List<long>();
                Exception? receiveError = null;
                var receiver = new Thread(() =>
                {
                    try { while (true) piped.Add((long)receiveEnd.Recv()!); }
                    catch (ConnectionClosedException) { }   // every sender is gone and this process's send end closed
                    catch (Exception e) { receiveError = e; }
                }) { IsBackground = true };
                receiver.Start();

                var alive = new List<Worker>();
                var kills = Roles.ToDictionary(r => r, _ => 0);
                int nextId = 1;
                Worker Start(string role)
                {
                    var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true };
                    foreach (var a in new[] { "worker", role, nextId.ToString(System.Globalization.CultureInfo.InvariantCulture), prefix, logDir }) psi.ArgumentList.Add(a);
                    var w = new Worker { Id = nextId++, Role = role, Process = Process.Start(psi)! };
                    w.Process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (w.Errors) w.Errors.AppendLine(e.Data); };
                    w.Process.BeginErrorReadLine();
                    all.Add(w);
                    return w;
                }

                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < Duration)
                {
                    // Keep the traffic going: every role present, then random ones up to the target.
                    alive.RemoveAll(w => w.Process.HasExited);
                    foreach (var role in Roles) if (!alive.Any(w => w.Role == role)) alive.Add(Start(role));
                    while (alive.Count < Workers) alive.Add(Start(Roles[random.Next(Roles.Length)]));
                    // The chaos schedule, not synchronisation: a victim every 50-400 ms.
                    Thread.Sleep(random.Next(50, 400));
                    var victim = alive[random.Next(alive.Count)];
                    if (victim.Process.HasExited) continue;
                    victim.Killed = true;
                    victim.Process.Kill();   // SIGKILL
                    victim.Process.WaitForExit();
                    kills[victim.Role]++;
                    alive.Remove(victim);
                }

                stop.Set();
                foreach (var w in alive)
                    if (!w.Process.WaitForExit(30_000)) { w.Process.Kill(); Assert.Fail($"Worker {w.Role}-{w.Id} did not stop within 30 s of the stop event."); }
                foreach (var w in all.Where(w => !w.Killed))
                    Assert.True(w.Process.ExitCode == 0, $"Worker {w.Role}-{w.Id} failed ({w.Process.ExitCode}): {w.Errors}");

                sendEnd.Close();
                Assert.True(receiver.Join(30_000), "The pipe's receiver did not see the end of the stream within 30 s.");
                Assert.Null(receiveError);

                var got = new List<long>();
                while (true)
                {
                    try { got.Add((long)queue.GetNoWait()!); }
                    catch (QueueEmptyException) { break; }
                }

                var workerLogs = all.ToDictionary(w => w, w => ReadLog(logDir, w));
                string summary = $"seed {seed}, {all.Count} workers, kills " + string.Join(", ", kills.Select(k => $"{k.Key} {k.Value}"));

                // The queue: exactly once, but for what died with a killed consumer or in a killed producer's hands.
                foreach (var w in all.Where(w => w.Role == "consumer")) got.AddRange(workerLogs[w]);
                CheckExactlyOnce("queue", all.Where(w => w.Role == "producer"), workerLogs, got, kills["consumer"], summary);
                // The pipe: its receiver is never killed, so nothing may be missing.
                CheckExactlyOnce("pipe", all.Where(w => w.Role == "sender"), workerLogs, piped, 0, summary);

                Assert.True(words[1] == 0, $"Mutual exclusion was violated {words[1]} times under the lock ({summary}).");
                Assert.True(all.Where(w => w.Role == "locker").Sum(w => workerLogs[w].Count) > 0, $"No lock was ever taken ({summary}).");
                Assert.NotEqual(LockAcquisition.TimedOut, theLock.TryAcquire(TimeSpan.FromSeconds(5), CancellationToken.None));
                theLock.Release();
                for (int i = 0; i < Permits; i++)
                    Assert.True(semaphore.TryAcquire(TimeSpan.FromSeconds(5), CancellationToken.None) != LockAcquisition.TimedOut,
                        $"Permit {i + 1} of {Permits} was lost ({summary}).");
                Assert.True(semaphore.TryAcquire(TimeSpan.Zero, CancellationToken.None) == LockAcquisition.TimedOut,
                    $"The semaphore gave a permit more than it has ({summary}).");
                for (int i = 0; i < Permits; i++) semaphore.Release();
                File.AppendAllText(Environment.GetEnvironmentVariable("IPCPS_FUZZ_REPORT") ?? Path.Combine(logDir, "report"),
                    $"chaos: {clock.Elapsed.TotalSeconds:n0} s, {summary}, {got.Count:n0} queue and {piped.Count:n0} pipe messages, "
                    + $"{words[2]} abandoned locks recovered{Environment.NewLine}");
            }
            finally
            {
                foreach (var w in all.Where(w => !w.Process.HasExited)) { w.Process.Kill(); w.Process.WaitForExit(); }
                Directory.Delete(logDir, recursive: true);
            }
            // Every handle is closed: the objects went with the last holder, dead holders pruned.
            if (!PlatformTesting.IsWindows) Assert.Empty(Directory.GetFiles("/dev/shm", prefix + "*"));
            foreach (var suffix in new[] { "_queue", "_pipe", "_lock", "_semaphore", "_stop", "_words" })
                Assert.False(Core.Platform.Platforms.Current.SharedMemory.Exists(prefix + suffix), $"{prefix}{suffix} is left.");
            Assert.Empty(IpcObjects.List(n => n.StartsWith(prefix, StringComparison.Ordinal), includeForeign: true));
        }

        private static List<long> ReadLog(string dir, Worker w)
        {
            var path = Path.Combine(dir, $"{w.Role}-{w.Id}.log");
            if (!File.Exists(path)) return new List<long>();
            // A worker killed in the middle of a write can leave a partial last line: it was not completed.
            var lines = File.ReadAllText(path).Split('\n');
            return lines.Take(lines.Length - 1).Select(l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        }

        /// <summary>
        /// Every message a source logged as completed was received once; nothing twice; a message received that its
        /// source never logged is allowed only as the one a killed source had in hand (its next number); at most
        /// MAYLOSE completed messages may be missing.
        /// </summary>
        private static void CheckExactlyOnce(string what, IEnumerable<Worker> sources, Dictionary<Worker, List<long>> logs, List<long> received, int mayLose, string summary)
        {
            var seen = new HashSet<long>();
            foreach (var m in received) Assert.True(seen.Add(m), $"{what}: message {m >> 32}/{(int)m} was delivered twice ({summary}).");
            int completed = 0, missing = 0;
            var byId = sources.ToDictionary(s => s.Id);
            foreach (var s in byId.Values)
            {
                var done = logs[s];
                completed += done.Count;
                for (int i = 0; i < done.Count; i++)
                {
                    Assert.True(done[i] == i + 1, $"{what}: {s.Role}-{s.Id}'s log is not 1..n ({summary}).");
                    if (!seen.Contains(ChaosWorker.Message(s.Id, i + 1))) missing++;
                }
            }
            foreach (var m in seen)
            {
                int id = (int)(m >> 32), seq = (int)m;
                Assert.True(byId.TryGetValue(id, out var s), $"{what}: message {id}/{seq} has no source ({summary}).");
                if (seq <= logs[s!].Count) continue;
                Assert.True(s!.Killed && seq == logs[s].Count + 1, $"{what}: message {id}/{seq} was delivered though its source never completed it ({summary}).");
            }
            Assert.True(completed > 0, $"{what}: nothing was completed ({summary}).");
            Assert.True(missing <= mayLose, $"{what}: {missing} completed messages were never delivered (at most {mayLose} may die with killed consumers; {summary}).");
        }
    }
}
