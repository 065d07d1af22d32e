using System;
using System.Collections.Generic;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Every valid name has a record of its own, on every platform. Names are case-sensitive (as /dev/shm's files and
    /// Windows' kernel object names are), but Windows file names are not, Win32 strips a trailing '.', and a last path
    /// component such as "nul.x" is the null device: the Windows registry's file names must encode names
    /// (Platform/Windows/RecordFileName), or two names share one record (a create of one replaces the other's holders, a
    /// removal of one hides the other) and some names have none.
    /// </summary>
    public sealed class RegistryRecordNameTests
    {
        private static IObjectRegistry Registry => Platforms.Current.Registry;

        private static RegistryRecord Marked(long mark) =>
            new RegistryRecord(IpcObjectKind.SharedMemory, new ProcessIdentity(1, mark), DateTime.UtcNow);

        private static void Delete(string name) => Registry.Update(name, create: false, _ => ((RegistryRecord?)null, 0));

        [Fact]
        public void NamesThatDifferInCaseOrByATrailingDotOrThatNameADeviceHaveRecordsOfTheirOwn()
        {
            string id = PlatformTesting.NewName("rn");
            var names = new[] { id, id.ToUpperInvariant(), "Rn" + id.Substring(2), id + ".", id + "..", "nul." + id, "NUL." + id, "con." + id, "lpt1." + id };
            try
            {
                for (int i = 0; i < names.Length; i++)
                {
                    long mark = i + 1;
                    Registry.Update(names[i], create: true, current => (Marked(mark), 0));
                }
                for (int i = 0; i < names.Length; i++)
                    Assert.True(Registry.Read(names[i])?.Creator.Start == i + 1, $"The record of '{names[i]}' is not its own: {Registry.Read(names[i])?.Creator.Start}.");
                var listed = new HashSet<string>(Registry.Names(), StringComparer.Ordinal);
                foreach (var name in names) Assert.Contains(name, listed);
                Delete(names[1]);
                Assert.Null(Registry.Read(names[1]));
                Assert.Equal(1, Registry.Read(names[0])?.Creator.Start);
            }
            finally
            {
                foreach (var name in names) Delete(name);
            }
            foreach (var name in names) Assert.Null(Registry.Read(name));
            Assert.DoesNotContain(Registry.Names(), n => n.IndexOf(id.Substring(3), StringComparison.OrdinalIgnoreCase) >= 0);
        }
    }
}
