using System;
using System.Diagnostics;
using System.Linq;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// ShareableList against CPython itself (docs/design.md, "Shared data"): the segment IpcPs makes is byte for byte the
    /// one CPython's shared_memory.ShareableList makes of the same items, CPython reads (and writes) a list made here, and
    /// a list CPython made opens here. Linux only: it runs python3, which a Windows (Wine) run of these tests does not have.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // byte for byte against python3 (CPython), which runs on the Linux side
    public sealed class LayoutShareableListTests
    {
        private const string LinuxOnly = "CPython interop is tested against python3 on Linux; a Windows run has no CPython.";

        // Python 3.11 registers a segment it merely attaches with its resource tracker, which unlinks it when Python
        // exits (bpo-39959): every script that attaches unregisters it first.
        private const string Prelude = "import sys\nfrom multiprocessing import shared_memory, resource_tracker\n";

        private static Process Python(string script)
        {
            var psi = new ProcessStartInfo("python3")
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Prelude + script);
            psi.Environment["PYTHONIOENCODING"] = "utf-8";
            return Process.Start(psi)!;
        }

        private static string RunPython(string script)
        {
            using var p = Python(script);
            p.StandardInput.Close();
            string output = p.StandardOutput.ReadToEnd();
            string errors = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), "python3 did not end within 60 s.");
            Assert.True(p.ExitCode == 0, $"python3 failed ({p.ExitCode}): {errors}");
            return output.Replace("\r", "");
        }

        private static string NewName() => "sl_" + Guid.NewGuid().ToString("N").Substring(0, 12);

        // ASCII strings: CPython sizes a str slot by characters, IpcPs by UTF-8 bytes (gh-88336), the same here.
        private static readonly object?[] Items =
            { 42L, -7L, 2.5, true, false, null, "hello", "a string longer than eight", new byte[] { 1, 2, 3 }, Array.Empty<byte>(), "" };
        private const string PythonItems = "[42, -7, 2.5, True, False, None, 'hello', 'a string longer than eight', b'\\x01\\x02\\x03', b'', '']";

        [Fact]
        public void AListMadeHereIsByteForByteTheListCPythonMakes()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), LinuxOnly);
            using var list = ShareableList.Create(null, Items);
            try
            {
                string name = NewName();
                var lines = RunPython(
                    $"sl = shared_memory.ShareableList({PythonItems}, name='{name}')\n" +
                    "print(bytes(sl.shm.buf[:sl.shm.size]).hex())\nprint(sl.format)\nsl.shm.close()\nsl.shm.unlink()\n").Split('\n');
                var cpython = Convert.FromHexString(lines[0]);
                var ours = list.SharedMemory.ToArray();
                Assert.Equal(cpython.Length, ours.Length);
                int differs = Enumerable.Range(0, ours.Length).FirstOrDefault(i => ours[i] != cpython[i], -1);
                Assert.True(differs < 0, $"Byte {differs} differs: CPython {(differs < 0 ? 0 : cpython[differs]):X2}, IpcPs {(differs < 0 ? 0 : ours[differs]):X2}.");
                Assert.Equal(lines[1], list.Format);
            }
            finally { list.Unlink(); }
        }

        [Fact]
        public void CPythonReadsAndWritesAListMadeHere()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), LinuxOnly);
            using var list = ShareableList.Create(null, new object?[] { 42L, 2.5, true, null, "ü€", new byte[] { 1, 2, 3 } });
            try
            {
                string output = RunPython(
                    $"sl = shared_memory.ShareableList(name='{list.Name}')\nresource_tracker.unregister(sl.shm._name, 'shared_memory')\n" +
                    "print(repr(list(sl)))\nsl[0] = 99\nsl[4] = 'ab'\nsl.shm.close()\n");
                Assert.Equal("[42, 2.5, True, None, 'ü€', b'\\x01\\x02\\x03']\n", output);
                Assert.Equal(99L, list[0]);
                Assert.Equal("ab", list[4]);
            }
            finally { list.Unlink(); }
        }

        [Fact]
        public void AListCPythonMadeOpensHere()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), LinuxOnly);
            string name = NewName();
            using var p = Python(
                $"sl = shared_memory.ShareableList({PythonItems}, name='{name}')\nprint('ready', flush=True)\n" +
                "sys.stdin.readline()\nprint(sl[0], sl[6], flush=True)\nsys.stdin.readline()\nsl.shm.close()\nsl.shm.unlink()\n");
            try
            {
                Assert.Equal("ready", p.StandardOutput.ReadLine());
                using (var list = ShareableList.Open(name))
                {
                    Assert.Equal(Items.Length, list.Count);
                    for (int i = 0; i < Items.Length; i++) Assert.Equal(Items[i], list[i]);
                    list[0] = 7L;
                    list[6] = "bye";
                }
                p.StandardInput.WriteLine();
                p.StandardInput.Flush();
                Assert.Equal("7 bye", p.StandardOutput.ReadLine());
            }
            finally
            {
                p.StandardInput.Close();
                if (!p.WaitForExit(30_000)) p.Kill();
                p.WaitForExit();
            }
            Assert.False(Core.Platform.Platforms.Current.SharedMemory.Exists(name));
        }
    }
}
