using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Tests
{
    /// <summary>
    /// "platform-worker tree DEPTH [LEAVE]": one level of a process tree for <see cref="ProcessTreeTests"/>. It writes
    /// "pid N", starts the next level (DEPTH - 1) and relays its lines; the last level writes "ready". The level whose
    /// DEPTH is LEAVE first takes itself out of its parent's tree (<see cref="IProcessTable.LeaveParentTree"/>). None
    /// reads its standard input (a level must not end when its parent does); each ends by itself after 120 s, so a
    /// failed test leaves nothing running for long.
    /// </summary>
    internal static class ProcessTreeWorker
    {
        public static int Run(int depth, int leave)
        {
            if (depth == leave && !Platforms.Current.Processes.LeaveParentTree())
            {
                Console.Error.WriteLine("LeaveParentTree failed.");
                return 3;
            }
            Console.WriteLine("pid " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
            if (depth > 0)
            {
                var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
                foreach (var a in new[] { "platform-worker", "tree", (depth - 1).ToString(CultureInfo.InvariantCulture), leave.ToString(CultureInfo.InvariantCulture) })
                    psi.ArgumentList.Add(a);
                var next = Process.Start(psi)!;
                new Thread(() =>
                {
                    string? line;
                    while ((line = next.StandardOutput.ReadLine()) != null)
                    {
                        Console.WriteLine(line);
                        Console.Out.Flush();
                    }
                }) { IsBackground = true }.Start();
            }
            else
            {
                Console.WriteLine("ready");
                Console.Out.Flush();
            }
            Thread.Sleep(TimeSpan.FromSeconds(120));
            return 0;
        }
    }
}
