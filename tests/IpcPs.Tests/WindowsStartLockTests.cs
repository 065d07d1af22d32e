using System;
using System.Diagnostics;
using System.Threading;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// <see cref="WindowsChildStart"/> holds .NET's own process start lock over its start (no Process.Start of the
    /// session may take a child's inheritable pipe ends): found on this runtime, and where no known lock is found, none
    /// is made up (a lock of IpcPs's own excludes nothing: the child is then started by Process.Start).
    /// </summary>
    public sealed class WindowsStartLockTests
    {
        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
        public void TheRuntimesStartLockIsFoundOnWindows()
        {
            Assert.True(WindowsChildStart.StartLockFound, "no known process start lock in this runtime's System.Diagnostics.Process");
            Assert.NotNull(WindowsChildStart.FindStartLock(typeof(Process), typeof(Process).Assembly.GetType("System.Diagnostics.ProcessUtils")));
        }

        [Fact]
        public void NoKnownLockIsNoLock()
        {
            Assert.Null(WindowsChildStart.FindStartLock(typeof(NoLock), null));
            Assert.Null(WindowsChildStart.FindStartLock(null, null));
            Assert.Null(WindowsChildStart.FindStartLock(typeof(OtherTypeLock), typeof(OtherTypeLock)));   // a Monitor on it excludes nothing
        }

        [Fact]
        public void TheOldAndTheNextRuntimesLocksAreFound()
        {
            Assert.Same(MonitorLock.s_createProcessLock, WindowsChildStart.FindStartLock(typeof(MonitorLock), null));
            Assert.Same(ProcessUtils.s_processStartLock, WindowsChildStart.FindStartLock(typeof(NoLock), typeof(ProcessUtils)));
        }

#pragma warning disable IDE1006, CA1823, CS0414, SA1300, SA1311   // the runtime's own field names
        private static class NoLock { }

        private static class MonitorLock { internal static readonly object s_createProcessLock = new object(); }

        private static class ProcessUtils { internal static readonly ReaderWriterLockSlim s_processStartLock = new ReaderWriterLockSlim(); }

        private static class OtherTypeLock
        {
            internal static readonly string s_createProcessLock = "not a lock";
            internal static readonly SemaphoreSlim s_processStartLock = new SemaphoreSlim(1);
        }
#pragma warning restore IDE1006, CA1823, CS0414, SA1300, SA1311
    }
}
