using System;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// Crash injection for the tests of Core (docs/design.md, "Tests of Core"). Every shared write of a queue operation
    /// (the lock, the blocks of a message, each word of the redo log's commit, the signal, the unlock) and of a pipe's
    /// send and receive (the lock, the frame's bytes, tail and head, the mid-frame flags, the signals, the unlock) is
    /// followed by <c>if (CrashPoints.Enabled) CrashPoints.Hit(site)</c>. A test worker started with
    /// IPCPS_CRASH_POINTS=1 arms a countdown on its thread (<see cref="Arm"/>); the Nth hit after it kills the process
    /// at once (SIGKILL, TerminateProcess: a real death, so the locks it held stay held by a dead process), and another
    /// process recovers. <see cref="Record"/> reports the sites an operation passes, as it passes them.
    /// Cost when off: <see cref="Enabled"/> is a static readonly false, which the JIT's optimised code treats as a
    /// constant, so every check is compiled away (measured with bench/IpcPs.Bench msg-local: docs/design.md). Arming
    /// needs internal access (the tests): the variable alone only enables counting that nothing has asked for.
    /// </summary>
    internal static class CrashPoints
    {
        /// <summary>Whether the process started with IPCPS_CRASH_POINTS=1; read once, before any shared write.</summary>
        public static readonly bool Enabled = Environment.GetEnvironmentVariable("IPCPS_CRASH_POINTS") == "1";

        // The sites (what was just written).
        public const string QueueLock = "queue.lock", QueueBlock = "queue.block", QueuePayload = "queue.payload",
            LogOffset = "log.offset", LogValue = "log.value", LogPublish = "log.publish", LogApply = "log.apply",
            LogClear = "log.clear", QueueSignal = "queue.signal", QueueUnlock = "queue.unlock",
            PipeLock = "pipe.lock", PipeData = "pipe.data", PipeMid = "pipe.mid", PipePosition = "pipe.position",
            PipeSignal = "pipe.signal", PipeMidClear = "pipe.mid-clear", PipeBroken = "pipe.broken", PipeUnlock = "pipe.unlock";

        [ThreadStatic] private static int _countdown;
        [ThreadStatic] private static Action<string>? _trace;

        /// <summary>Kills this process right after the Nth shared write this thread makes from now on (0: never).</summary>
        public static void Arm(int n)
        {
            if (!Enabled) throw new InvalidOperationException("Crash points are off: start the process with IPCPS_CRASH_POINTS=1.");
            _countdown = n;
        }

        /// <summary>Calls TRACE with the site of every shared write this thread makes, as it is made (null: stops).</summary>
        public static void Record(Action<string>? trace)
        {
            if (!Enabled) throw new InvalidOperationException("Crash points are off: start the process with IPCPS_CRASH_POINTS=1.");
            _trace = trace;
        }

        /// <summary>After a shared write at SITE: counts it, and ends the process if it was the armed one.</summary>
        public static void Hit(string site)
        {
            _trace?.Invoke(site);
            if (_countdown > 0 && --_countdown == 0) Die();
        }

        private static void Die()
        {
            var processes = Platforms.Current.Processes;
            processes.Kill(processes.Current.Pid);
            Thread.Sleep(Timeout.Infinite);   // never reached: the kill does not return to a live process
        }
    }
}
