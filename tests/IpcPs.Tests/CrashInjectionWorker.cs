using System;
using System.IO;
using System.Threading;
using IpcPs.Core.Messaging;

namespace IpcPs.Tests
{
    /// <summary>
    /// The worker side of the crash-injection matrix: "crash SCENARIO NAME N" (started with IPCPS_CRASH_POINTS=1) opens the
    /// scenario's object, then runs its operation with every shared write written to standard output as it happens (one
    /// line per site: a write(2) each, so the lines before a death are all out) and, when N &gt; 0, the process killed
    /// right after the Nth. "completed" follows an operation that ran to its end. N = 0 only lists the sites.
    /// </summary>
    public static class CrashInjectionWorker
    {
        public static int Run(string[] args)
        {
            string id = args[1], name = args[2];
            int n = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
            var parentGone = new Thread(() =>
            {
                try { while (Console.In.Read() >= 0) { } } catch (IOException) { }
                Environment.Exit(3);
            }) { IsBackground = true };
            parentGone.Start();
            var scenario = CrashScenarios.Get(id);
            using var handle = scenario.Open(name);
            var output = Console.Out;
            output.Flush();
            CrashPoints.Record(site => output.WriteLine(site));
            if (n > 0) CrashPoints.Arm(n);
            scenario.Operate(handle);
            CrashPoints.Arm(0);
            CrashPoints.Record(null);
            output.WriteLine("completed");
            return 0;
        }
    }
}
