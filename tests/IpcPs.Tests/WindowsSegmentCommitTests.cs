using IpcPs.Core.Platform;
using IpcPs.Core.Platform.Windows;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A Windows segment is committed whole when it is made (SEC_COMMIT, as CPython's): a size memory and the paging
    /// file cannot hold is refused by CreateFileMapping (ERROR_COMMITMENT_LIMIT, ERROR_NOT_ENOUGH_MEMORY,
    /// ERROR_OUTOFMEMORY), where Linux and Wine allocate lazily and succeed. The refusal must be a resource limit
    /// (ErrorCategory LimitsExceeded) that names the size and says why. Wine does not refuse such a mapping (an absurd
    /// size hangs it instead), so the error's making is tested.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Windows)]
    public sealed class WindowsSegmentCommitTests
    {
        [Theory]
        [InlineData(1455)]   // ERROR_COMMITMENT_LIMIT
        [InlineData(8)]      // ERROR_NOT_ENOUGH_MEMORY
        [InlineData(14)]     // ERROR_OUTOFMEMORY
        public void AWantOfCommitIsAResourceLimit(int error) =>   // (no message made: under Wine, error 8's hung the test)
            Assert.True(PlatformErrors.IsResourceLimit(error), $"Win32 error {error} is not taken for a resource limit.");

        [Fact]
        public void AMappingRefusedForWantOfCommitNamesItsSizeAndWhy()
        {
            var e = WindowsSharedMemory.CommitRefused("seg", 3L << 32, 1455);
            Assert.True(e.IsResourceLimit);
            Assert.Equal(1455, e.ErrorNumber);
            Assert.Equal("seg", e.ObjectName);
            Assert.Contains("12884901888 bytes", e.Message);
            Assert.Contains("commits a segment whole", e.Message);
        }
    }
}
