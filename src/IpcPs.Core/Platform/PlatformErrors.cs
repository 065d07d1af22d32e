using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// What an operating-system error number means, on the platform that raised it: errno on Linux (and macOS), a
    /// Win32 error code on Windows. <see cref="IpcPlatformException"/> keeps the number and asks here.
    /// </summary>
    internal static class PlatformErrors
    {
        private static readonly bool Windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        public static string Describe(int code) =>
            Windows ? new System.ComponentModel.Win32Exception(code).Message : Linux.Errno.Describe(code);

        /// <summary>True for "permission denied" errors (EACCES, EPERM; ERROR_ACCESS_DENIED).</summary>
        public static bool IsPermissionDenied(int code) =>
            Windows ? code == 5 : code == Linux.Errno.EACCES || code == Linux.Errno.EPERM;

        /// <summary>The word for the number in messages: errno or error.</summary>
        public static string Label => Windows ? "error" : "errno";
    }
}
