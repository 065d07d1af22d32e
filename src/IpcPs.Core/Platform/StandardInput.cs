using System.Runtime.InteropServices;
using IpcPs.Core.Platform.Linux;
using IpcPs.Core.Platform.Windows;

namespace IpcPs.Core.Platform
{
    /// <summary>This process's standard input, as a spare watches it: its parent closes it to end the spare.</summary>
    internal static class StandardInput
    {
        /// <summary>
        /// Whether the writing end of this process's standard input (a pipe) is closed, without reading from it: false
        /// when that cannot be told (a terminal, a file).
        /// </summary>
        public static bool Closed() =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? WindowsProcesses.StandardInputClosed() : Posix.PeerClosed(0);
    }
}
