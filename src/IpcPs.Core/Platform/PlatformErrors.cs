using System;
using System.ComponentModel;
using System.IO;
using System.Net.Sockets;
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

        /// <summary>
        /// True for "no descriptor left": EMFILE (this process's RLIMIT_NOFILE reached), ENFILE (the system's file table
        /// full); ERROR_TOO_MANY_OPEN_FILES on Windows. Nothing was made: the caller goes on once descriptors are free.
        /// </summary>
        public static bool IsOutOfDescriptors(int code) =>
            Windows ? code == TooManyOpenFiles : code == Linux.Errno.EMFILE || code == Linux.Errno.ENFILE;

        private const int TooManyOpenFiles = 4;   // ERROR_TOO_MANY_OPEN_FILES

        /// <summary>
        /// True when a resource limit refused: no descriptor (<see cref="IsOutOfDescriptors"/>), no process or thread
        /// (EAGAIN: RLIMIT_NPROC, the system's task limit), no memory (ENOMEM); on Windows ERROR_NOT_ENOUGH_MEMORY,
        /// ERROR_OUTOFMEMORY, ERROR_NO_SYSTEM_RESOURCES, ERROR_COMMITMENT_LIMIT (the paging file cannot back what was
        /// asked). The same call may work once something is freed.
        /// </summary>
        public static bool IsResourceLimit(int code) =>
            IsOutOfDescriptors(code) || (Windows ? IsOutOfMemoryWindows(code) || code == 1450 : code == Linux.Errno.EAGAIN || code == Linux.Errno.ENOMEM);

        /// <summary>The Win32 errors of memory that cannot be committed: ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT.</summary>
        public static bool IsOutOfMemoryWindows(int code) => code == 8 || code == 14 || code == 1455;

        /// <summary>
        /// The error number when .NET raised E for lack of descriptors (Process.Start's Win32Exception: its pipes; a
        /// socket's SocketException; a file's IOException, whose HResult is the errno on Unix); null for anything else.
        /// </summary>
        public static int? OutOfDescriptors(Exception e)
        {
            int code;
            switch (e)
            {
                case SocketException s:   // a Win32Exception too, whose NativeErrorCode is .NET's guess back from SocketError
                    if (s.SocketErrorCode != SocketError.TooManyOpenSockets) return null;
                    code = Windows ? TooManyOpenFiles : Linux.Errno.EMFILE;
                    break;
                case Win32Exception w: code = w.NativeErrorCode; break;
                case IOException io: code = Windows && (io.HResult & 0xFFFF0000) == 0x80070000 ? io.HResult & 0xFFFF : io.HResult; break;
                default: return null;
            }
            return IsOutOfDescriptors(code) ? code : (int?)null;
        }

        /// <summary>
        /// The errno (EMFILE, ENFILE) when this process cannot open two descriptors now; else null, and always null on
        /// Windows. For the failure .NET does not explain: on Linux a thread's start needs two descriptors, and without
        /// them Thread.Start throws OutOfMemoryException.
        /// </summary>
        public static int? DescriptorsExhausted()
        {
            if (Windows) return null;
            int a = Linux.Posix.TryOpen("/dev/null", Linux.LibC.O_RDONLY, 0);
            int b = a >= 0 ? Linux.Posix.TryOpen("/dev/null", Linux.LibC.O_RDONLY, 0) : a;
            if (a >= 0) Linux.Posix.Close(a);
            if (b >= 0) Linux.Posix.Close(b);
            return b < 0 && IsOutOfDescriptors(-b) ? -b : (int?)null;
        }

        /// <summary>
        /// The error number of a thread the system would not start (Thread.Start's OutOfMemoryException, which names no
        /// cause): EMFILE/ENFILE when no descriptor is left (<see cref="DescriptorsExhausted"/>), else on Linux EAGAIN,
        /// what pthread_create answers for RLIMIT_NPROC, the system's task limit or no memory for a stack; on Windows
        /// ERROR_NOT_ENOUGH_MEMORY.
        /// </summary>
        public static int ThreadStartFailure() => DescriptorsExhausted() ?? (Windows ? 8 : Linux.Errno.EAGAIN);

        /// <summary>
        /// Thread.Start of THREAD. The system may refuse a thread (on Linux its start needs two descriptors; RLIMIT_NPROC,
        /// the system's task limit, no memory for a stack): .NET says OutOfMemoryException, which becomes an
        /// <see cref="IpcPlatformException"/> saying why (<see cref="ThreadStartFailure"/>), naming OBJECTNAME if given.
        /// </summary>
        public static void StartThread(System.Threading.Thread thread, string? objectName = null)
        {
            try { thread.Start(); }
            catch (OutOfMemoryException e)
            {
                throw new IpcPlatformException($"Starting a thread ({thread.Name})", ThreadStartFailure(), objectName, e);
            }
        }

        /// <summary>The word for the number in messages: errno or error.</summary>
        public static string Label => Windows ? "error" : "errno";
    }
}
