using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>The shared redis-server of the Redis tests (one per test class that uses it), and worker processes.</summary>
    public sealed class RedisFixture : IDisposable
    {
        public RedisFixture()
        {
            if (!RedisServer.Available) return;
            Server = new RedisServer();
            Backend = RedisBackend.ConnectPrivate(Server.Uri, TimeSpan.FromSeconds(5));
        }

        public RedisServer? Server { get; }
        public RedisBackend? Backend { get; }

        public void Dispose()
        {
            Backend?.Dispose();
            Server?.Dispose();
        }
    }

    /// <summary>A worker process of the test program (RedisWorker), its stdout lines queued as they come.</summary>
    public sealed class RedisWorkerProcess : IDisposable
    {
        private readonly BlockingCollection<string> _lines = new BlockingCollection<string>();
        private readonly System.Text.StringBuilder _errors = new System.Text.StringBuilder();

        public RedisWorkerProcess(string role, string address, string name, params string[] args)
            : this(new Dictionary<string, string>(), role, address, name, args) { }

        /// <summary>A worker with ENVIRONMENT added to this process's.</summary>
        public RedisWorkerProcess(IReadOnlyDictionary<string, string> environment, string role, string address, string name, params string[] args)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var e in environment) psi.Environment[e.Key] = e.Value;
            foreach (var a in new[] { "redis-worker", role, address, name }) psi.ArgumentList.Add(a);
            foreach (var a in args) psi.ArgumentList.Add(a);
            Process = Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => { if (e.Data != null) _lines.Add(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_errors) _errors.AppendLine(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
            Process.StandardInput.WriteLine(RedisServer.Password);   // the credential, over the private channel
            Process.StandardInput.Flush();
        }

        public Process Process { get; }
        public int Pid => Process.Id;

        public void Send(string line)
        {
            Process.StandardInput.WriteLine(line);
            Process.StandardInput.Flush();
        }

        /// <summary>The next line, waiting at most SECONDS; fails the test with the worker's stderr otherwise.</summary>
        public string Next(double seconds = 60)
        {
            if (_lines.TryTake(out var line, TimeSpan.FromSeconds(seconds))) return line;
            string errors;
            lock (_errors) errors = _errors.ToString();
            Assert.Fail($"The worker {Process.Id} said nothing within {seconds} s (exited: {Process.HasExited}). stderr: {errors}");
            return "";
        }

        public void WaitExit(double seconds = 60)
        {
            if (!Process.WaitForExit(TimeSpan.FromSeconds(seconds))) Assert.Fail($"The worker {Process.Id} did not exit within {seconds} s.");
            string errors;
            lock (_errors) errors = _errors.ToString();
            Assert.True(Process.ExitCode == 0, $"The worker {Process.Id} exited with {Process.ExitCode}: {errors}");
        }

        public void Dispose()
        {
            if (!Process.HasExited) { Process.Kill(); Process.WaitForExit(); }
            Process.Dispose();
        }
    }
}
