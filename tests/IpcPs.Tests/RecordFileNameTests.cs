using System;
using System.Collections.Generic;
using IpcPs.Core;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The file names of the Windows registry's records (<see cref="RecordFileName"/>): one to one with names even when
    /// compared ignoring case, never a DOS device, never ending with '.', and only the canonical form decodes. Pure
    /// string logic: runs on both legs.
    /// </summary>
    public sealed class RecordFileNameTests
    {
        [Fact]
        public void FileNamesAreOneToOneEvenIgnoringCaseAndAreNeverDevicesOrEndWithADot()
        {
            var names = new[] { "a", "A", "ab", "aB", "Ab", "AB", "a.", "A.", "a..", "a.b", "nul", "NUL", "Nul", "nul.txt", "con", "aux.x.y",
                "com1", "COM9.a", "lpt0", "com10", "prn_", "a-b_c.d", "ipc_3f09a1c2e4b7" };
            var folded = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in names)
            {
                string file = RecordFileName.Encode(name);
                Assert.True(folded.TryAdd(file, name), $"'{name}' and '{(folded.TryGetValue(file, out var other) ? other : "")}' share the file name '{file}' ignoring case.");
                Assert.False(file.EndsWith(".", StringComparison.Ordinal), file);
                string stem = file.Split('.')[0].ToUpperInvariant();
                Assert.DoesNotContain(stem, new[] { "CON", "PRN", "AUX", "NUL", "COM1", "COM9", "LPT0" });
                Assert.Equal(name, RecordFileName.Decode(file));
            }
            Assert.Equal("ipc_3f09a1c2e4b7", RecordFileName.Encode("ipc_3f09a1c2e4b7"));   // generated names are their own file names
            foreach (var notOurs in new[] { "Foo", "^foo", "a^", "^", "~", "~foo", ".trash", "a.^^", "^^A" })
                Assert.Null(RecordFileName.Decode(notOurs));
            // 255-character file names that decode to a valid name whose own file name would be 256 characters (a device
            // name without its '~', a trailing '.' without its '^'): not ours, and no exception (Names() lists on).
            Assert.Null(RecordFileName.Decode("nul." + new string('a', 251)));
            Assert.Null(RecordFileName.Decode(new string('a', 254) + "."));
            Assert.Throws<InvalidIpcNameException>(() => RecordFileName.Encode(new string('A', 128)));
            Assert.Equal(255, RecordFileName.Encode(new string('a', 255)).Length);
        }
    }
}
