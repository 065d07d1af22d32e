using System;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A child's standard input is its parent's control pipe (the stop request, the parent's end): once IpcPs takes it
    /// (<see cref="StandardInput.Detach"/>) no program the child's script starts may inherit a handle on it, as on Linux
    /// (close-on-exec). A worker stands for the child: it detaches its standard input and starts a grandchild (as a
    /// script's program: Process.Start, which inherits handles), giving it the pipe's handle value; the grandchild peeks
    /// at that handle for the marker the test wrote into the pipe.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
    public sealed class WindowsStandardInputTests
    {
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(90);

        [Fact]
        public void AProgramTheChildStartsDoesNotInheritTheParentsPipe()
        {
            string marker = "marker-" + Guid.NewGuid().ToString("N");
            using var child = new PlatformTesting.Worker(Process.Start(Info("child", marker, redirectInput: true))!);
            try
            {
                child.Process.StandardInput.WriteLine(marker);   // stays in the pipe: the child never reads it
                child.Process.StandardInput.Flush();
                Assert.Equal("not inherited", child.ReadLine(Line));
                child.Process.StandardInput.Close();
                child.AssertSucceeds(Line);
            }
            finally { if (!child.Process.HasExited) child.Process.Kill(); }
        }

        private static ProcessStartInfo Info(string role, string marker, bool redirectInput, string? handle = null)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!)
            {
                UseShellExecute = false, RedirectStandardInput = redirectInput, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var a in new[] { "stdin-worker", role, marker }) psi.ArgumentList.Add(a);
            if (handle != null) psi.ArgumentList.Add(handle);
            return psi;
        }

        /// <summary>"stdin-worker child MARKER" or "stdin-worker grandchild MARKER HANDLE": see the class.</summary>
        public static unsafe int Run(string[] args)
        {
            string marker = args[2];
            if (args[1] == "child")
            {
                IntPtr pipe = Win32.GetStdHandle(Win32.STD_INPUT_HANDLE);
                var kept = StandardInput.Detach(Console.OpenStandardInput());
                using var grandchild = Process.Start(Info("grandchild", marker, redirectInput: false, pipe.ToInt64().ToString(CultureInfo.InvariantCulture)))!;
                string? said = grandchild.StandardOutput.ReadLine();
                grandchild.WaitForExit();
                Console.WriteLine(said ?? "the grandchild said nothing: " + grandchild.StandardError.ReadToEnd());
                kept.ReadByte();   // the marker; then the test's close: the end
                return 0;
            }
            // The grandchild: the handle value is the child's; the same value names the same pipe here only if inherited.
            var handle = new IntPtr(long.Parse(args[3], CultureInfo.InvariantCulture));
            var buffer = new byte[marker.Length];
            fixed (byte* b = buffer)
            {
                bool peeked = Win32.PeekNamedPipe(handle, b, buffer.Length, out int read, out _, out _);
                Console.WriteLine(peeked && Encoding.ASCII.GetString(buffer, 0, read) == marker ? "inherited" : "not inherited");
            }
            return 0;
        }
    }
}
