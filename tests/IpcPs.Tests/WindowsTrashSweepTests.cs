using System;
using System.IO;
using System.Linq;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The trash sweep of the Windows registry (<see cref="WindowsRegistry.Names"/>): a record being deleted is renamed
    /// into <c>.trash\</c> and then marked delete-on-close by its holder, which keeps it open (FILE_SHARE_DELETE) in
    /// between. A listing in that gap must leave it alone: since Windows 10 1903 DeleteFile of a file open with
    /// FILE_SHARE_DELETE succeeds (POSIX semantics), and the holder's mark could then fail. Only a trash file nobody
    /// holds (its deleter was killed between the rename and the mark) is swept.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
    public sealed unsafe class WindowsTrashSweepTests
    {
        [Fact]
        public void AListingSweepsTrashNobodyHoldsAndLeavesTrashAHolderIsDeleting()
        {
            string root = Path.Combine(Path.GetTempPath(), PlatformTesting.NewName("trashsweep"));
            Directory.CreateDirectory(root);
            try
            {
                var registry = new WindowsRegistry(root);
                string trash = Path.Combine(registry.Folder, ".trash");
                string left = Path.Combine(trash, Guid.NewGuid().ToString("N"));
                string held = Path.Combine(trash, Guid.NewGuid().ToString("N")), marked = Path.Combine(trash, Guid.NewGuid().ToString("N"));
                File.WriteAllText(left, "a record whose deleter was killed after the rename");
                // HELD: its holder is killed before its mark (the handle closes with it); MARKED: its holder marks it.
                IntPtr heldHandle = Hold(held), markedHandle = IntPtr.Zero;
                try
                {
                    markedHandle = Hold(marked);
                    registry.Names().ToList();
                    Assert.False(File.Exists(left), "A trash file nobody holds was not swept.");
                    Assert.True(File.Exists(held) && File.Exists(marked), "The listing deleted a trash file its holder was still deleting.");
                    byte delete = 1;   // the holder's mark, as WindowsRegistry.Delete makes it
                    Assert.True(Win32.SetFileInformationByHandle(markedHandle, Win32.FileDispositionInfo, &delete, 1), $"The holder's delete mark failed: error {Win32.LastError}.");
                }
                finally
                {
                    Win32.CloseHandle(heldHandle);
                    if (markedHandle != IntPtr.Zero) Win32.CloseHandle(markedHandle);
                }
                Assert.False(File.Exists(marked), "The holder's delete left its trash file.");
                // The listing must not have deleted (nor scheduled the deletion of) the file it left: under Wine a
                // DeleteFile of a file open elsewhere takes effect when the last handle closes, on Windows at once.
                Assert.True(File.Exists(held), "The listing deleted a trash file while someone held it open.");
                registry.Names().ToList();
                Assert.Empty(Directory.GetFiles(trash));   // nobody holds it now: swept
            }
            finally { Directory.Delete(root, recursive: true); }
        }

        /// <summary>A new file at PATH, opened as the registry opens a record (and keeps it while deleting it).</summary>
        private static IntPtr Hold(string path)
        {
            IntPtr handle = Win32.CreateFile(ExtendedPath.Of(path), Win32.GENERIC_READ | Win32.GENERIC_WRITE | Win32.DELETE,
                Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE | Win32.FILE_SHARE_DELETE, null, Win32.CREATE_NEW, Win32.FILE_ATTRIBUTE_NORMAL, IntPtr.Zero);
            Assert.True(handle != Win32.InvalidHandle, $"CreateFile {path}: error {Win32.LastError}");
            return handle;
        }
    }
}
