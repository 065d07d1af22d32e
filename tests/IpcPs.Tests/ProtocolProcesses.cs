using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A copy of this test program started as another process (Program.cs dispatches its first argument), its standard
    /// output read line by line, its standard input held open (a worker ends when it closes, so none outlives the
    /// test) and writable for commands. Dispose kills what is still running.
    /// </summary>
    internal sealed class WorkerProcess : IDisposable
    {
        private readonly List<string> _lines = new List<string>();
        private readonly StringBuilder _errors = new StringBuilder();
        private bool _outputEnded;
        private int _read;

        public Process Process { get; }

        private WorkerProcess(Process process) => Process = process;

        /// <summary>
        /// Process.Start, tried again (at most twice more, 100 ms apart) when the system fails to start the process at
        /// all. Under Wine on a loaded machine CreateProcess has been seen to fail once in hundreds of starts with
        /// "Internal error"; a start that failed ran nothing, so trying again changes no test's outcome.
        /// </summary>
        internal static Process StartProcess(ProcessStartInfo psi)
        {
            for (int attempt = 0; ; attempt++)
            {
                try { return Process.Start(psi)!; }
                catch (System.ComponentModel.Win32Exception) when (attempt < 2 && OperatingSystem.IsWindows()) { System.Threading.Thread.Sleep(100); }
            }
        }

        /// <summary>Starts the program with ARGS; CRASHPOINTS sets IPCPS_CRASH_POINTS=1 in its environment.</summary>
        public static WorkerProcess Start(IEnumerable<string> args, bool crashPoints = false)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!)
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            if (crashPoints) psi.Environment["IPCPS_CRASH_POINTS"] = "1";
            // A killed .NET process would leave its diagnostics socket in the temp folder.
            psi.Environment["DOTNET_EnableDiagnostics"] = "0";
            var p = StartProcess(psi);
            var w = new WorkerProcess(p);
            p.OutputDataReceived += (_, e) =>
            {
                lock (w._lines)
                {
                    if (e.Data is null) w._outputEnded = true;
                    else w._lines.Add(e.Data);
                    System.Threading.Monitor.PulseAll(w._lines);
                }
            };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (w._errors) w._errors.AppendLine(e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return w;
        }

        public int Id => Process.Id;

        /// <summary>What the worker wrote to standard error so far (for failure messages).</summary>
        public string Errors { get { lock (_errors) return _errors.ToString(); } }

        /// <summary>Every line read so far.</summary>
        public List<string> Lines { get { lock (_lines) return _lines.ToList(); } }

        /// <summary>Sends one command line to the worker.</summary>
        public void Send(string line)
        {
            Process.StandardInput.WriteLine(line);
            Process.StandardInput.Flush();
        }

        /// <summary>The next line not yet taken, waiting at most TIMEOUT; fails the test if none comes.</summary>
        public string Next(TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            lock (_lines)
            {
                while (_read >= _lines.Count)
                {
                    if (_outputEnded) Assert.Fail($"Worker {Id} ended (exit {ExitCodeText()}) without answering. Its errors: {Errors}");
                    var left = timeout - deadline.Elapsed;
                    if (left <= TimeSpan.Zero) Assert.Fail($"Worker {Id} did not answer within {timeout.TotalSeconds} s. Its errors: {Errors}");
                    System.Threading.Monitor.Wait(_lines, left);
                }
                return _lines[_read++];
            }
        }

        /// <summary>Sends COMMAND and returns the answer line, which must start with "ok" (the rest is returned).</summary>
        public string Call(string command, double seconds = 30)
        {
            Send(command);
            string answer = Next(TimeSpan.FromSeconds(seconds));
            Assert.True(answer.StartsWith("ok", StringComparison.Ordinal), $"Worker {Id}: '{command}' answered '{answer}'. Errors: {Errors}");
            return answer.Length > 3 ? answer.Substring(3) : "";
        }

        /// <summary>Waits for the process to end (at most TIMEOUT) and for its output to be read; returns its exit code.</summary>
        public int WaitForExit(TimeSpan timeout)
        {
            if (!Process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                Kill();
                Assert.Fail($"Worker {Id} did not end within {timeout.TotalSeconds} s. Its errors: {Errors}");
            }
            Process.WaitForExit();   // the asynchronous readers have seen the end of both streams
            return Process.ExitCode;
        }

        /// <summary>Ends the process at once (SIGKILL; TerminateProcess) and reaps it.</summary>
        public void Kill()
        {
            try { if (!Process.HasExited) Process.Kill(); }
            catch (InvalidOperationException) { }
            Process.WaitForExit();
        }

        private string ExitCodeText() => Process.HasExited ? Process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";

        public void Dispose()
        {
            Kill();
            Process.Dispose();
        }
    }

    /// <summary>Polling with a deadline: how the tests wait for another thread or process to reach a state (never a bare sleep).</summary>
    internal static class Eventually
    {
        /// <summary>Waits until CONDITION holds, at most SECONDS; fails the test with WHAT otherwise.</summary>
        public static void True(Func<bool> condition, string what, double seconds = 10)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                if (clock.Elapsed.TotalSeconds > seconds) Assert.Fail($"Not within {seconds} s: {what}.");
                System.Threading.Thread.Sleep(1);
            }
        }

        /// <summary>Runs ACTION on a new thread; the returned task ends with it.</summary>
        public static System.Threading.Tasks.Task<T> OnThread<T>(Func<T> action)
        {
            var done = new System.Threading.Tasks.TaskCompletionSource<T>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
            new System.Threading.Thread(() =>
            {
                try { done.SetResult(action()); }
                catch (Exception e) { done.SetException(e); }
            }) { IsBackground = true }.Start();
            return done.Task;
        }

        /// <summary>The task's result, waiting at most SECONDS (a hang fails the test instead of the run).</summary>
        public static T Within<T>(System.Threading.Tasks.Task<T> task, double seconds, string what)
        {
            try
            {
                if (!task.Wait(TimeSpan.FromSeconds(seconds))) Assert.Fail($"{what} did not end within {seconds} s.");
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
            }
            return task.Result;
        }
    }
}
