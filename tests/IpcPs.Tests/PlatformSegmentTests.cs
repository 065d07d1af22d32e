using System;
using System.IO;
using System.Runtime.InteropServices;
using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Named segments through the platform layer (<see cref="ISharedMemoryPlatform"/>): create, open, "exists", sizes,
    /// another user's segment, and the lifecycle rules that differ on Windows (a name lives while a handle on it does:
    /// closing frees it, removing a name others hold hides it behind a tombstone until they close it).
    /// </summary>
    public sealed unsafe class PlatformSegmentTests
    {
        private static ISharedMemoryPlatform Shm => Platforms.Current.SharedMemory;

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void ACreatedSegmentOpensWithItsBytesAndSize(bool waitable)
        {
            string name = PlatformTesting.NewName("ps_bytes");
            using var created = Shm.Create(name, 5000, waitable);
            try
            {
                for (int i = 0; i < 5000; i++) ((byte*)created.Address)[i] = (byte)(i * 7);
                using var opened = Shm.Open(name, waitable);
                // Linux: exactly the size asked for; Windows: whole pages, as CPython reads it (VirtualQuery), except
                // that a plain segment's creator sees the size it asked for (so New-SharedMemory -Size 10 says 10).
                if (PlatformTesting.IsWindows) Assert.Equal(8192, opened.Size);
                else Assert.Equal(5000, opened.Size);
                Assert.Equal(PlatformTesting.IsWindows && !waitable ? 5000 : opened.Size, created.Size);
                for (int i = 0; i < 5000; i++) Assert.Equal((byte)(i * 7), ((byte*)opened.Address)[i]);
                ((byte*)opened.Address)[4999] = 42;
                Assert.Equal(42, ((byte*)created.Address)[4999]);
                Assert.True(Shm.Exists(name));
                Assert.Equal(waitable && PlatformTesting.IsWindows ? 8192 + WaitTable.Size : opened.Size, Shm.SizeOf(name));
                var head = Shm.Peek(name, 16);
                Assert.Equal(16, head.Length);
                Assert.Equal((byte)(3 * 7), head[3]);
            }
            finally { Shm.Unlink(name); }
        }

        [Fact]
        public void ANameThatExistsIsNotCreatedAgain()
        {
            string name = PlatformTesting.NewName("ps_exists");
            using var created = Shm.Create(name, 4096);
            try
            {
                Assert.Throws<IpcObjectExistsException>(() => Shm.Create(name, 4096));
                Assert.Throws<IpcObjectExistsException>(() => Shm.Create(name, 8192, waitable: true));
                Assert.IsType<IpcObjectExistsException>(Shm.Taken(name));
            }
            finally { Shm.Unlink(name); }
        }

        [Fact]
        public void AMissingNameIsNotFound()
        {
            string name = PlatformTesting.NewName("ps_missing");
            Assert.Throws<IpcObjectNotFoundException>(() => Shm.Open(name));
            Assert.Throws<IpcObjectNotFoundException>(() => Shm.Peek(name, 8));
            Assert.False(Shm.Exists(name));
            Assert.Null(Shm.SizeOf(name));
            Assert.False(Shm.Unlink(name));
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void AWindowsSegmentOwnedByAnotherIsRefused()
        {
            // Owned by the Administrators group (which this test may name as owner), readable by us: only the owner differs.
            string name = PlatformTesting.NewName("ps_owner");
            IntPtr mapping = CreateMappingWith(name, $"O:BAD:P(A;;GA;;;{PrivateSecurity.UserSid})");
            try
            {
                var e = Assert.Throws<IpcObjectOwnerException>(() => Shm.Open(name));
                Assert.Equal("S-1-5-32-544", e.Owner);
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Peek(name, 8));
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Create(name, 4096));
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Unlink(name));
                Assert.IsType<IpcObjectOwnerException>(Shm.Taken(name));
                Assert.True(Shm.Exists(name));
            }
            finally { Win32.CloseHandle(mapping); }
            // One whose owner keeps this user out entirely is someone else's too.
            string denied = PlatformTesting.NewName("ps_denied");
            IntPtr closed = CreateMappingWith(denied, $"O:{PrivateSecurity.UserSid}D:P(A;;GA;;;SY)");
            try
            {
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Open(denied));
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Create(denied, 4096));
                Assert.True(Shm.Exists(denied));
            }
            finally { Win32.CloseHandle(closed); }
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void AWindowsSegmentIsPrivateToItsUser()
        {
            string name = PlatformTesting.NewName("ps_dacl");
            using var created = Shm.Create(name, 4096, waitable: true);
            IntPtr mapping = Win32.OpenFileMapping(Win32.READ_CONTROL, false, name);
            Assert.NotEqual(IntPtr.Zero, mapping);
            try
            {
                string sddl = SddlOf(mapping);
                string user = PrivateSecurity.UserSid;
                Assert.StartsWith($"O:{user}", sddl, StringComparison.Ordinal);
                Assert.Contains("D:P(", sddl, StringComparison.Ordinal);   // protected: nothing inherited
                // One access entry, for the user.
                int aces = sddl.Split("(A;").Length - 1;
                Assert.True(aces == 1 && sddl.Contains($";;;{user})", StringComparison.Ordinal), $"The DACL is not the user's alone: {sddl}");
            }
            finally { Win32.CloseHandle(mapping); }
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void AWindowsPlainSegmentIsNotOpenedAsWaitable()
        {
            string name = PlatformTesting.NewName("ps_plain");
            using var plain = Shm.Create(name, 8192);
            Assert.Throws<IpcObjectKindException>(() => Shm.Open(name, waitable: true));
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
        public void ALinuxSegmentOwnedByAnotherIsRefused()
        {
            string name = PlatformTesting.NewName("ps_owner");
            string path = "/dev/shm/" + name;
            File.WriteAllBytes(path, new byte[4096]);
            try
            {
                Assert.Equal(0, chown(path, 65534, 65534));
                var e = Assert.Throws<IpcObjectOwnerException>(() => Shm.Open(name));
                Assert.Equal(65534, e.OwnerUid);
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Peek(name, 8));
                Assert.Throws<IpcObjectOwnerException>(() => Shm.Unlink(name));
                Assert.IsType<IpcObjectOwnerException>(Shm.Taken(name));
                Assert.True(File.Exists(path), "Another user's segment was removed.");
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void ClosingTheLastHandleFreesTheName()
        {
            // Windows: a synchronisation object keeps its mapping until collected, so its Close must give the name up.
            string name = PlatformTesting.NewName("ps_reuse");
            IpcLock.Create(name).Close();
            using (var again = IpcLock.Create(name)) Assert.Equal(name, again.Name);
            SharedMemory.Create(name, 100).Close();
            using var memory = SharedMemory.Create(name, 100);
            memory.Close();
            Assert.False(Shm.Exists(name));
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void AWindowsNameRemovedWhileHeldIsHiddenUntilItsLastClose()
        {
            string name = PlatformTesting.NewName("ps_tomb");
            var first = IpcLock.Create(name);
            var second = (IpcLock)IpcObjects.Open(name);
            try
            {
                Assert.True(IpcObjects.Remove(name));
                // The mapping lives (both handles), but the name is gone for IpcPs: no open, no listing, no create.
                Assert.True(Shm.Exists(name));
                Assert.Throws<IpcObjectNotFoundException>(() => IpcObjects.Open(name));
                Assert.Empty(IpcObjects.List(n => n == name, includeForeign: true));
                var e = Assert.Throws<IpcObjectExistsException>(() => IpcLock.Create(name));
                Assert.Contains("was removed", e.Message, StringComparison.Ordinal);
                Assert.Equal(IpcObjectStatus.Removed, first.Status);
                // Handles of a removed object say so when used, as on Linux (the memory stays theirs until closed).
                Assert.Throws<IpcObjectRemovedException>(() => second.TryAcquire(TimeSpan.Zero, System.Threading.CancellationToken.None));
                first.Close();
                Assert.Throws<IpcObjectExistsException>(() => IpcLock.Create(name));
            }
            finally
            {
                first.Close();
                second.Close();
            }
            // The last close freed the name and dropped the tombstone: the name is new again.
            Assert.False(Shm.Exists(name));
            Assert.Null(Platforms.Current.Registry.Read(name));
            using var fresh = IpcLock.Create(name);
            Assert.Equal(IpcObjectStatus.Active, fresh.Status);
            fresh.Unlink();
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
        public void ALinuxNameRemovedWhileHeldIsFreeAtOnce()
        {
            string name = PlatformTesting.NewName("ps_unlink");
            using var held = IpcLock.Create(name);
            Assert.True(IpcObjects.Remove(name));
            Assert.False(Shm.Exists(name));
            using var again = IpcLock.Create(name);
            again.Unlink();
        }

        [DllImport("libc", SetLastError = true)] private static extern int chown(string path, uint owner, uint group);

        [DllImport("advapi32", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool ConvertSecurityDescriptorToStringSecurityDescriptorW(IntPtr descriptor, uint revision, uint information, out IntPtr text, out uint length);

        private static IntPtr CreateMappingWith(string name, string sddl)
        {
            Assert.True(Win32.ConvertStringSecurityDescriptorToSecurityDescriptor(sddl, 1, out IntPtr descriptor, out _), "SDDL " + sddl);
            try
            {
                var sa = new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), lpSecurityDescriptor = descriptor };
                IntPtr mapping = Win32.CreateFileMapping(Win32.InvalidHandle, &sa, Win32.PAGE_READWRITE, 0, 4096, name);
                Assert.True(mapping != IntPtr.Zero, $"CreateFileMapping failed ({Marshal.GetLastWin32Error()})");
                return mapping;
            }
            finally { Win32.LocalFree(descriptor); }
        }

        private static string SddlOf(IntPtr handle)
        {
            // Owner and DACL.
            Assert.Equal(0u, Win32.GetSecurityInfo(handle, Win32.SE_KERNEL_OBJECT, 1 | 4, out _, out _, out _, out _, out IntPtr descriptor));
            try
            {
                Assert.True(ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, 1, 1 | 4, out IntPtr text, out _));
                try { return Marshal.PtrToStringUni(text)!; }
                finally { Win32.LocalFree(text); }
            }
            finally { Win32.LocalFree(descriptor); }
        }
    }
}
