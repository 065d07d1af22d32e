using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using IpcPs.Core.Managers;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The manager process's side (started by <see cref="ManagerLauncher"/>): reads its settings from the first line
    /// of stdin, listens, prints "READY nonce address" (or "FAILED nonce reason address" when it cannot listen) and
    /// serves until shut down, or until stdin ends (the session that started it has gone) unless detached.
    /// </summary>
    public static class ManagerHost
    {
        internal const string ReadyLine = "READY", FailedLine = "FAILED", AddressInUse = "ManagerAddressInUse";

        /// <summary>The settings line: a CLIXML hashtable, base64 (the key never appears on a command line).</summary>
        public static Hashtable ReadSettings()
        {
            string line = Console.In.ReadLine() ?? throw new InvalidOperationException("The manager got no settings.");
            return (Hashtable)Unwrap(ClixmlGuard.Deserialize(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(line))))!;
        }

        /// <summary>Serves until shutdown. TYPES: type id → [type, exposed names or null], resolved by the bootstrap script.</summary>
        public static void Run(Hashtable settings, Hashtable types)
        {
            var host = new ManagerTypeHost();
            foreach (DictionaryEntry e in types)
            {
                var pair = (object?[])Unwrap(e.Value)!;
                var exposed = Unwrap(pair.Length > 1 ? pair[1] : null) is IEnumerable names && !(names is string)
                    ? names.Cast<object?>().Select(n => Convert.ToString(Unwrap(n), System.Globalization.CultureInfo.InvariantCulture)!).ToArray()
                    : null;
                host.Register((string)e.Key, (Type)Unwrap(pair[0])!, exposed);
            }
            var key = Convert.FromBase64String((string)settings["Key"]!);
            var dir = (string)settings["StateDir"]!;
            string nonce = settings["Nonce"] as string ?? "";
            ManagerServer server;
            try { server = new ManagerServer(settings["Address"] as string, dir, key, host); }
            catch (ManagerAddressInUseException e)
            {
                // Told to the launcher on stdout, so it reports ManagerAddressInUse rather than a generic failure.
                Console.Out.WriteLine($"{FailedLine} {nonce} {AddressInUse} {e.Address}");
                Console.Out.Flush();
                throw;
            }
            server.Start();
            // SIGTERM (kill, a service manager): shut down, so the directory and the shared-memory objects go with the
            // process as with Stop-IpcManager (before the module's own detach-everything, which was added earlier).
            Core.Platform.TerminationSignal.Add(server.Shutdown);
            if (!(settings["Detached"] is true))
                new Thread(() => { WatchParent(); server.Shutdown(); }) { IsBackground = true, Name = "IpcPs manager lifetime" }.Start();
            else Core.Platform.Platforms.Current.Processes.LeaveParentTree();   // a stop of an ancestor's job leaves it alone
            // Once shut down, the process ends even when the pipeline thread is stuck in a custom method that never
            // returns (it would otherwise outlive its session as an orphan): a short grace for the normal path, then exit.
            var pumped = new ManualResetEventSlim();
            new Thread(() =>
            {
                server.Stopped.WaitOne();
                if (!pumped.Wait(TimeSpan.FromSeconds(5))) Environment.Exit(0);
            }) { IsBackground = true, Name = "IpcPs manager exit" }.Start();
            Console.Out.WriteLine($"{ReadyLine} {nonce} {server.Address}");
            Console.Out.Flush();
            host.Pump(server.Stopped);
            pumped.Set();
        }

        // The starting session holds our stdin open; EOF means it has ended (or let go of us). A read that fails in any
        // way (IOException, UnauthorizedAccessException for EBADF, OperationCanceledException, ObjectDisposedException)
        // ends the same: the manager shuts down, rather than crash on this thread (its folder and objects left behind).
        private static void WatchParent()
        {
            try { while (Console.In.ReadLine() != null) { } }
            catch (Exception) { }
        }

        private static object? Unwrap(object? o) => o is PSObject p ? p.BaseObject : o;
    }
}
