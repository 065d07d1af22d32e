using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Helpers of the platform-layer tests (Platform*Tests): worker processes (this very program, run as
    /// "platform-worker ROLE …", see <see cref="PlatformWorker"/>), raw waitable segments, and the trait that keeps a
    /// test to one platform. build.ps1 runs the Linux leg with <c>-trait- Platform=Windows</c> and the Wine leg with
    /// <c>-trait- Platform=Linux</c>: a test that can only mean something on one platform says so with
    /// <c>[Trait("Platform", "Linux")]</c> (or "Windows"); every other test runs on both.
    /// </summary>
    internal static class PlatformTesting
    {
        public const string Trait = "Platform";
        public const string Linux = "Linux", Windows = "Windows";

        public static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>A name no other test (or run) uses.</summary>
        public static string NewName(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N").Substring(0, 12);

        /// <summary>
        /// Starts "platform-worker ROLE ARGS…". Its standard input stays open (its end tells the worker the test is gone)
        /// and its standard output is read line by line (<see cref="Worker.ReadLine"/>).
        /// </summary>
        public static Worker Start(string role, params string[] arguments)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.ArgumentList.Add("platform-worker");
            psi.ArgumentList.Add(role);
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            return new Worker(Process.Start(psi)!);
        }

        /// <summary>A running worker: its process, its output lines, its error text.</summary>
        public sealed class Worker : IDisposable
        {
            private readonly System.Text.StringBuilder _errors = new System.Text.StringBuilder();

            public Worker(Process process)
            {
                Process = process;
                process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_errors) _errors.AppendLine(e.Data); };
                process.BeginErrorReadLine();
            }

            public Process Process { get; }

            public int Pid => Process.Id;

            public string Errors { get { lock (_errors) return _errors.ToString(); } }

            /// <summary>The worker's next output line, waited for at most TIMEOUT; fails the test otherwise.</summary>
            public string ReadLine(TimeSpan timeout)
            {
                var read = Process.StandardOutput.ReadLineAsync();
                if (!read.Wait(timeout)) throw new TimeoutException($"The worker {Pid} wrote nothing within {timeout.TotalSeconds} s. Its errors: {Errors}");
                return read.Result ?? throw new InvalidOperationException($"The worker {Pid} ended ({ExitCodeText()}) before writing. Its errors: {Errors}");
            }

            /// <summary>Waits until the worker ends (at most TIMEOUT) and asserts it ended with 0.</summary>
            public void AssertSucceeds(TimeSpan timeout)
            {
                if (!Process.WaitForExit(timeout)) throw new TimeoutException($"The worker {Pid} did not end within {timeout.TotalSeconds} s. Its errors: {Errors}");
                Process.WaitForExit();
                Assert.True(Process.ExitCode == 0, $"The worker {Pid} failed with {Process.ExitCode}: {Errors}");
            }

            private string ExitCodeText() => Process.HasExited ? "exit code " + Process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";

            public void Dispose()
            {
                try
                {
                    if (!Process.HasExited) { Process.Kill(); Process.WaitForExit(); }
                }
                catch (InvalidOperationException) { /* ended meanwhile */ }
                Process.Dispose();
            }
        }

        /// <summary>
        /// A waitable segment made through the platform layer alone (no registry record: not an IpcPs object), for word
        /// waits between processes. The creator unlinks it on Dispose (Linux; on Windows it goes with its last handle).
        /// </summary>
        public sealed unsafe class WordSegment : IDisposable
        {
            private readonly Segment _segment;
            private readonly bool _created;
            private bool _referenced;

            private WordSegment(Segment segment, bool created)
            {
                _segment = segment;
                _created = created;
                _segment.DangerousAddRef(ref _referenced);
            }

            public static WordSegment Create(string name, long size = 4096) => new WordSegment(Platforms.Current.SharedMemory.Create(name, size, waitable: true), true);

            public static WordSegment Open(string name) => new WordSegment(Platforms.Current.SharedMemory.Open(name, waitable: true), false);

            public string Name => _segment.Name;

            public byte* Base => (byte*)_segment.Address;

            public int* Word(int offset) => (int*)(Base + offset);

            public void Dispose()
            {
                if (_referenced) _segment.DangerousRelease();
                _referenced = false;
                _segment.Dispose();
                if (_created) Platforms.Current.SharedMemory.Unlink(Name);
            }
        }

        /// <summary>Polls CONDITION (every millisecond) until it holds, at most TIMEOUT; fails the test with WHAT otherwise.</summary>
        public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                if (clock.Elapsed > timeout) Assert.Fail($"Timed out after {timeout.TotalSeconds} s waiting for {what}.");
                Thread.Sleep(1);
            }
        }

        /// <summary>Directory for a test's files, in the temp folder (removed by the caller).</summary>
        public static string NewFolder(string prefix)
        {
            string dir = Path.Combine(Path.GetTempPath(), "ipcps-" + NewName(prefix));
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}
