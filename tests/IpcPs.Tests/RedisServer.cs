using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace IpcPs.Tests
{
    /// <summary>
    /// A real redis-server for the tests: on a free loopback port, in a temporary folder removed when it is disposed,
    /// with no persistence files unless a test asks for an append-only file (then in that folder). Killed with SIGKILL
    /// (<see cref="Kill"/>) and started again on the same port and folder (<see cref="Start"/>) by the fault tests.
    /// </summary>
    public sealed class RedisServer : IDisposable
    {
        public const string Password = "ipcps-test-password-0123456789";
        private readonly bool _appendOnly;
        private Process? _process;

        /// <param name="firstPort">The port of the first attempt (tests of this class; else a pick of <see cref="FreePort"/>).</param>
        public RedisServer(bool appendOnly = false, int? firstPort = null)
        {
            _appendOnly = appendOnly;
            Folder = Path.Combine(Path.GetTempPath(), "ipcps-redis-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(Folder);
            // Two picks at once (another test, another process of the suite) may still choose one port: the one whose
            // server cannot bind it starts again on another.
            for (int attempt = 1; ; attempt++)
            {
                Port = attempt == 1 && firstPort.HasValue ? firstPort.Value : FreePort();
                try
                {
                    Start();
                    return;
                }
                catch (RedisServerExitedException) when (attempt < 5) { }
            }
        }

        public int Port { get; private set; }
        public string Folder { get; }
        public int Pid => _process?.Id ?? 0;

        /// <summary>The address with the password (what a user gives Connect-IpcBackend).</summary>
        public string Uri => $"redis://:{Password}@127.0.0.1:{Port}/0";

        /// <summary>The address without it (what descriptors carry).</summary>
        public string Address => $"redis://127.0.0.1:{Port}/0";

        public static bool Available => File.Exists("/usr/bin/redis-server") || File.Exists("/usr/local/bin/redis-server");

        /// <summary>
        /// A loopback port free now, BELOW the kernel's ephemeral range: a port picked inside it (as binding port 0 does)
        /// can be taken, between the pick and the server's bind, as the local port of any outgoing connection — the suite
        /// makes thousands — and the server then fails to start (a rare failure of the whole C# leg).
        /// </summary>
        public static int FreePort()
        {
            int low = EphemeralLow();
            for (int attempt = 1; ; attempt++)
            {
                int port = Random.Shared.Next(Math.Max(1024, low - 12_000), low);
                try
                {
                    var l = new TcpListener(IPAddress.Loopback, port);
                    l.Start();
                    l.Stop();
                    return port;
                }
                catch (SocketException) when (attempt < 100) { }   // in use: another
            }
        }

        /// <summary>The first port of the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range; Linux's default 32768).</summary>
        private static int EphemeralLow()
        {
            try
            {
                var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
                int low = int.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
                return low >= 8192 ? low : 32768;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException || e is IndexOutOfRangeException) { return 32768; }
        }

        public void Start()
        {
            var psi = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder };
            foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--requirepass", Password, "--save", "", "--dir", Folder,
                                      "--appendonly", _appendOnly ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--logfile", "" })
                psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, __) => { };
            _process.ErrorDataReceived += (_, __) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            // Wait (with a deadline) until it accepts connections.
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var c = new TcpClient();
                    c.Connect(IPAddress.Loopback, Port);
                    using var s = c.GetStream();
                    var ping = System.Text.Encoding.ASCII.GetBytes($"AUTH {Password}\r\nPING\r\n");
                    s.Write(ping);
                    var buf = new byte[64];
                    int n = 0;
                    s.ReadTimeout = 2000;
                    while (n < 12) { int r = s.Read(buf, n, buf.Length - n); if (r <= 0) break; n += r; }
                    if (System.Text.Encoding.ASCII.GetString(buf, 0, n).Contains("+PONG")) return;
                }
                catch (Exception) when (deadline.Elapsed < TimeSpan.FromSeconds(20)) { }
                if (_process.HasExited)
                {
                    int code = _process.ExitCode;
                    _process.Dispose();
                    _process = null;
                    throw new RedisServerExitedException($"redis-server exited with {code} on port {Port}.");
                }
                if (deadline.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException("redis-server did not start within 20 s.");
                Thread.Sleep(20);   // startup: poll with a deadline
            }
        }

        /// <summary>How many scripts the server has run (EVAL and EVALSHA calls, from INFO commandstats), asked on a connection of its own.</summary>
        public long ScriptCalls()
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, Port);
            using var s = c.GetStream();
            s.ReadTimeout = 5000;
            s.Write(System.Text.Encoding.ASCII.GetBytes($"AUTH {Password}\r\nINFO commandstats\r\nQUIT\r\n"));
            using var reader = new StreamReader(s, System.Text.Encoding.ASCII);
            string all = reader.ReadToEnd();   // the server closes the connection after QUIT
            long calls = 0;
            foreach (var line in all.Split('\n'))
            {
                if (!(line.StartsWith("cmdstat_eval:", StringComparison.Ordinal) || line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal))) continue;
                int at = line.IndexOf("calls=", StringComparison.Ordinal), end = line.IndexOf(',', at);
                calls += long.Parse(line.Substring(at + 6, end - at - 6), System.Globalization.CultureInfo.InvariantCulture);
            }
            return calls;
        }

        /// <summary>SIGKILL, as a crash: nothing is flushed that was not already.</summary>
        public void Kill()
        {
            if (_process is null || _process.HasExited) return;
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            _process = null;
        }

        public void Dispose()
        {
            Kill();
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);

        public static void Signal(int pid, int signal)
        {
            if (kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: {Marshal.GetLastWin32Error()}");
        }

        public const int SIGSTOP = 19, SIGCONT = 18, SIGKILL = 9;
    }

    /// <summary>The test server ended while it started (e.g. its port was taken).</summary>
    public sealed class RedisServerExitedException : Exception
    {
        public RedisServerExitedException(string message) : base(message) { }
    }
}
