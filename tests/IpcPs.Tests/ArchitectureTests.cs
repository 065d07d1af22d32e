using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The boundaries issue 13 drew: Core's assembly does not reference PowerShell (the compiler keeps it so; this says
    /// it where a reader looks), and no Linux type is used outside Core/Platform — Core/Platform/Linux itself and the
    /// two seams that pick a platform (the Platforms factory, PlatformErrors).
    /// </summary>
    public sealed class ArchitectureTests
    {
        [Fact]
        public void CoreDoesNotReferencePowerShell()
        {
            var references = typeof(IpcQueue).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
            Assert.Equal("IpcPs.Core", typeof(IpcQueue).Assembly.GetName().Name);
            Assert.DoesNotContain(references, n => n != null && n.StartsWith("System.Management.Automation", StringComparison.Ordinal));
        }

        // The Linux layer's types (Core/Platform/Linux), by name or through their namespace.
        private static readonly Regex LinuxType = new Regex(
            @"\b(LibC|Posix|Errno|Futex|LinuxFutex|ProcStat|PrivateFolder|LinuxSharedMemory|LinuxRegistry|LinuxProcesses|LinuxManagerFolders)\s*\.|\bPlatform\.Linux\b|\bLinux\.[A-Z]",
            RegexOptions.Compiled);

        [Fact]
        [Trait("Platform", "Linux")]
        public void NoLinuxTypeIsUsedOutsideCorePlatform()
        {
            string root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Directory.Build.props"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no repository above the test program");
            string src = Path.Combine(root, "src"), platform = Path.Combine(src, "IpcPs.Core", "Platform") + Path.DirectorySeparatorChar;
            var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .ToList();
            Assert.True(files.Count > 100, $"found only {files.Count} source files under {src}");
            var offenders = files.Where(f => !f.StartsWith(platform, StringComparison.Ordinal))
                .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
                .Where(x => !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal) && LinuxType.IsMatch(x.line))
                .Select(x => $"{Path.GetRelativePath(root, x.f)}:{x.i + 1}: {x.line.Trim()}")
                .ToList();
            Assert.True(offenders.Count == 0, "Linux types used outside Core/Platform:\n" + string.Join("\n", offenders));
            Assert.Matches(LinuxType, "        LibC.close(fd);");   // the pattern sees a use written the usual way
        }
    }
}
