using System;
using System.IO;
using System.Runtime.InteropServices;
using IpcPs.Core.Platform.Linux;
using IpcPs.Core.Platform.Windows;
using Microsoft.Win32.SafeHandles;

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

        /// <summary>
        /// Gives the parent's pipe on standard input to IpcPs alone: answers a stream on it (CURRENT, a stream opened on
        /// standard input before, on Windows, where that stream keeps the pipe's handle) and points standard input at the
        /// null device, so that the user's script and every program it starts read end-of-input at once (as a Start-Job
        /// job does) instead of waiting on the parent's pipe, which stays open for the child's whole life and carries the
        /// stop request. A step that fails leaves standard input as it was (CURRENT is answered).
        /// </summary>
        public static Stream Detach(Stream current)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return DetachWindows(current);
            // The pipe first on a descriptor of its own (close-on-exec: programs the script starts never hold it), then
            // descriptor 0 replaced; the null device's own descriptor goes.
            int pipe = LibC.fcntl(0, LibC.F_DUPFD_CLOEXEC, 3);
            if (pipe < 0) return current;
            int nul = Posix.TryOpen("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            if (nul < 0 || LibC.dup2(nul, 0) < 0)
            {
                if (nul >= 0) Posix.Close(nul);
                Posix.Close(pipe);
                return current;
            }
            Posix.Close(nul);
            return new FileStream(new SafeFileHandle((IntPtr)pipe, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        }

        private static unsafe Stream DetachWindows(Stream current)
        {
            // The pipe (CURRENT's handle is the standard handle) no longer inheritable, Linux's close-on-exec: else every
            // program the script starts (Process.Start and cmd inherit handles) would hold the parent's control pipe.
            IntPtr pipe = Win32.GetStdHandle(Win32.STD_INPUT_HANDLE);
            if (pipe != IntPtr.Zero && pipe != Win32.InvalidHandle) Win32.SetHandleInformation(pipe, Win32.HANDLE_FLAG_INHERIT, 0);
            // Inheritable: a program started without redirected input gets the standard handle through inheritance.
            var inherit = new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), bInheritHandle = 1 };
            IntPtr nul = Win32.CreateFile("NUL", Win32.GENERIC_READ, Win32.FILE_SHARE_READ | Win32.FILE_SHARE_WRITE, &inherit, Win32.OPEN_EXISTING, 0, IntPtr.Zero);
            if (nul == Win32.InvalidHandle || nul == IntPtr.Zero) return current;
            if (!Win32.SetStdHandle(Win32.STD_INPUT_HANDLE, nul)) Win32.CloseHandle(nul);
            return current;   // holds the pipe's handle, which stays open: only the standard slot changed
        }
    }
}
