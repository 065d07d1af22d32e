using System;
using System.IO;
using System.Threading;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The Windows registry in a profile folder whose own path is long: every Win32 file call it makes (CreateDirectory,
    /// CreateFile, the rename into the trash) gets an extended-length path (\\?\), so folders and records work past
    /// MAX_PATH without LongPathsEnabled. Wine has no MAX_PATH limit: RegistryTestHooks.RecordOpenError emulates Windows'
    /// rule for record opens (tests/pester/WindowsLongPath.Tests.ps1 does the same end to end through the cmdlets).
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
    public sealed class WindowsLongPathTests
    {
        private static readonly TimeSpan Line = TimeSpan.FromSeconds(60);

        private static RegistryRecord Counter(long count) =>
            new RegistryRecord(IpcObjectKind.SharedMemory, new ProcessIdentity(1, count), DateTime.UtcNow);

        [Theory]
        [InlineData(@"C:\a\.\b\..\c/d", @"\\?\C:\a\c\d")]   // normalised first: \\?\ turns Win32's normalisation off
        [InlineData(@"\\server\share\p\x", @"\\?\UNC\server\share\p\x")]   // a UNC profile
        [InlineData(@"\\?\C:\already", @"\\?\C:\already")]
        public void AnExtendedPathIsFullNormalisedAndPrefixed(string path, string extended) => Assert.Equal(extended, ExtendedPath.Of(path));

        [Fact]
        public void ARegistryWhoseFolderIsPastMaxPathCreatesRewritesListsAndDeletesRecords()
        {
            string root = Path.Combine(Path.GetTempPath(), PlatformTesting.NewName("lpdeep"));
            string deep = root;
            while (deep.Length < 280) deep = Path.Combine(deep, new string('d', 60));   // the folder alone is past MAX_PATH
            Directory.CreateDirectory(deep);   // the user's profile folder, which the registry makes its folders in
            string name = PlatformTesting.NewName("lprec") + "_" + new string('x', 200);
            var registry = new WindowsRegistry(deep);
            // Windows' rule, for this test's paths only: 260 characters or more without \\?\ do not resolve.
            RegistryTestHooks.RecordOpenError = p => p.Contains("lpdeep_") && p.Length >= 260 && !p.StartsWith(@"\\?\", StringComparison.Ordinal) ? 3 : 0;
            Exception? failed = null;
            var run = new Thread(() =>
            {
                try
                {
                    Assert.True(Path.Combine(registry.Folder, name).Length > 500);
                    registry.Update(name, create: true, current => (Counter(1), 0));
                    registry.Update(name, create: true, current => (Counter(current!.Creator.Start + 1), 0));
                    Assert.Equal(2, registry.Read(name)!.Creator.Start);
                    Assert.Contains(name, registry.Names());
                    registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0));
                    Assert.Null(registry.Read(name));
                    Assert.DoesNotContain(name, registry.Names());
                }
                catch (Exception e) { failed = e; }
            }) { IsBackground = true };   // the registry once retried ERROR_PATH_NOT_FOUND for ever: a hang fails the test
            try
            {
                run.Start();
                Assert.True(run.Join(Line), "The registry did not finish within 60 s (an endless retry).");
                Assert.True(failed is null, failed?.ToString());
            }
            finally
            {
                RegistryTestHooks.RecordOpenError = null;
                if (!run.IsAlive) Directory.Delete(root, recursive: true);
            }
        }
    }
}
