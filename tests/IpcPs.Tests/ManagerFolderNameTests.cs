using System;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Every valid manager name has a folder of its own, on every platform: names are case-sensitive, but Windows file
    /// names are not, Win32 strips a trailing '.', and "nul.x" is the null device. A manager named "foo" must neither be
    /// refused because "Foo" runs, nor be found (and connected to) in the place of "Foo".
    /// </summary>
    public sealed class ManagerFolderNameTests
    {
        /// <summary>How the platform's file system compares paths: Windows ignores case, Linux does not.</summary>
        private static StringComparison SameFolder => PlatformTesting.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

        [Fact]
        public void NamesThatDifferInCaseOrByATrailingDotOrThatNameADeviceHaveFoldersOfTheirOwn()
        {
            string id = PlatformTesting.NewName("mf");
            var names = new[] { id, id.ToUpperInvariant(), id + ".", "nul." + id };
            var dirs = new string?[names.Length];
            try
            {
                for (int i = 0; i < names.Length; i++) dirs[i] = ManagerState.Create(names[i]);
                for (int i = 0; i < names.Length; i++)
                    for (int j = 0; j < i; j++)
                        Assert.False(string.Equals(dirs[i], dirs[j], SameFolder), $"'{names[i]}' and '{names[j]}' share the folder '{dirs[i]}'.");
                for (int i = 0; i < names.Length; i++) Assert.Equal(dirs[i], ManagerState.Find(names[i]));
            }
            finally
            {
                foreach (var dir in dirs) if (dir != null) ManagerState.Remove(dir);
            }
            foreach (var name in names) Assert.Null(ManagerState.Find(name));
        }
    }
}
