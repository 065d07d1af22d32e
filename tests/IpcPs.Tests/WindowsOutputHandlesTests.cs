using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A child's standard output and error are pipes its parent reads (the job's records and text): no program the
    /// child's script starts may hold them (Linux: close-on-exec and dup2), and one started without redirection still
    /// writes to them (<see cref="OutputRelay"/>). A worker stands for the child: it starts the relay as IpcPs's child
    /// does, then a grandchild with output of its own (as a script's program: Process.Start, which inherits handles)
    /// that runs on after the child, and a grandchild without redirection that speaks. The parent (the test) must see
    /// the child's output and error end when the child exits, while the first grandchild still runs, with the second's
    /// line in it.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
    public sealed class WindowsOutputHandlesTests
    {
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(90);
        private const string Spoken = "spoken by the grandchild";

        [Fact]
        public async Task TheChildsOutputEndsWithItWhileAProgramItStartedRunsOn()
        {
            var cancel = TestContext.Current.CancellationToken;
            string release = @"Local\ipcps-test-" + Guid.NewGuid().ToString("N");
            using var released = new EventWaitHandle(false, EventResetMode.ManualReset, release);
            using var child = Process.Start(Info(redirect: true, "child", release))!;
            try
            {
                var output = child.StandardOutput.ReadToEndAsync(cancel);
                var errors = child.StandardError.ReadToEndAsync(cancel);
                await child.WaitForExitAsync(cancel).WaitAsync(Line, cancel);
                try { await Task.WhenAll(output, errors).WaitAsync(TimeSpan.FromSeconds(60), cancel); }
                catch (TimeoutException) { Assert.Fail("The child's output and error did not end within 60 s of its exit: the program it started holds them."); }
                string text = await output, errorText = await errors;
                Assert.True(child.ExitCode == 0, $"the child failed ({child.ExitCode}): {errorText}");
                var lines = text.Split(new[] { "\r\n", "\n" }, StringSplitOptions.RemoveEmptyEntries);
                Assert.Contains(Spoken, lines);   // through the relay
                int pid = int.Parse(lines.Single(l => l.StartsWith("grandchild ", StringComparison.Ordinal)).Substring(11), CultureInfo.InvariantCulture);
                using var grandchild = Process.GetProcessById(pid);
                Assert.False(grandchild.HasExited, "the grandchild runs on (it waits for the test's event)");
            }
            finally
            {
                released.Set();   // the grandchild ends
                if (!child.HasExited) child.Kill();
            }
        }

        private static ProcessStartInfo Info(bool redirect, params string[] args)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!)
            {
                UseShellExecute = false, RedirectStandardInput = redirect, RedirectStandardOutput = redirect, RedirectStandardError = redirect,
            };
            psi.ArgumentList.Add("output-worker");
            foreach (var a in args) psi.ArgumentList.Add(a);
            return psi;
        }

        /// <summary>"output-worker child EVENT", "output-worker sleeper EVENT" or "output-worker speaker": see the class.</summary>
        public static int Run(string[] args)
        {
            switch (args[1])
            {
                case "child":
                    Console.Out.Flush();   // Console.Out on the parent's pipe, as IpcPs's child has it before the relay
                    OutputRelay.Start();
                    var sleeper = Process.Start(Info(redirect: true, "sleeper", args[2]))!;
                    using (var speaker = Process.Start(Info(redirect: false, "speaker"))!) speaker.WaitForExit();
                    OutputRelay.Drain(Line);
                    Console.WriteLine("grandchild " + sleeper.Id.ToString(CultureInfo.InvariantCulture));
                    Console.Out.Flush();
                    return 0;
                case "sleeper":
                    if (!OperatingSystem.IsWindows()) return 2;
                    using (var release = EventWaitHandle.OpenExisting(args[2])) release.WaitOne(TimeSpan.FromSeconds(300));
                    return 0;
                default:
                    Console.WriteLine(Spoken);
                    return 0;
            }
        }
    }
}
