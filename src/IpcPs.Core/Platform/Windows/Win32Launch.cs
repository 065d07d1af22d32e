using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>The Win32 calls of <see cref="WindowsChildStart"/>: pipes, CreateProcess with an attribute list, job objects.</summary>
    internal static unsafe class Win32Launch
    {
        public const uint CREATE_BREAKAWAY_FROM_JOB = 0x01000000, CREATE_NO_WINDOW = 0x08000000, CREATE_UNICODE_ENVIRONMENT = 0x00000400,
            EXTENDED_STARTUPINFO_PRESENT = 0x00080000;
        public const int STARTF_USESTDHANDLES = 0x100;
        public static readonly IntPtr PROC_THREAD_ATTRIBUTE_HANDLE_LIST = new IntPtr(0x20002);

        // Job objects: JobObjectExtendedLimitInformation's class, and the limits that decide a detached child's start.
        public const int JobObjectExtendedLimitInformation = 9;
        public const uint JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x800, JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x1000,
            JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;

        [StructLayout(LayoutKind.Sequential)]
        public struct STARTUPINFOEX
        {
            public int cb;
            public IntPtr lpReserved, lpDesktop, lpTitle;
            public int dwX, dwY, dwXSize, dwYSize, dwXCountChars, dwYCountChars, dwFillAttribute, dwFlags;
            public short wShowWindow, cbReserved2;
            public IntPtr lpReserved2, hStdInput, hStdOutput, hStdError;
            public IntPtr lpAttributeList;   // STARTUPINFOEX's one addition
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct PROCESS_INFORMATION
        {
            public IntPtr hProcess, hThread;
            public int dwProcessId, dwThreadId;
        }

        /// <summary>JOBOBJECT_EXTENDED_LIMIT_INFORMATION (144 bytes on x64); only LimitFlags is read.</summary>
        [StructLayout(LayoutKind.Sequential)]
        public struct JOBOBJECT_EXTENDED_LIMIT_INFORMATION
        {
            public long PerProcessUserTimeLimit, PerJobUserTimeLimit;
            public uint LimitFlags;
            public UIntPtr MinimumWorkingSetSize, MaximumWorkingSetSize;
            public uint ActiveProcessLimit;
            public UIntPtr Affinity;
            public uint PriorityClass, SchedulingClass;
            public ulong ReadOperationCount, WriteOperationCount, OtherOperationCount, ReadTransferCount, WriteTransferCount, OtherTransferCount;
            public UIntPtr ProcessMemoryLimit, JobMemoryLimit, PeakProcessMemoryUsed, PeakJobMemoryUsed;
        }

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool CreatePipe(out IntPtr read, out IntPtr write, Win32.SECURITY_ATTRIBUTES* attributes, int size);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool InitializeProcThreadAttributeList(IntPtr list, int count, int flags, ref IntPtr size);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool UpdateProcThreadAttribute(IntPtr list, uint flags, IntPtr attribute, IntPtr* value, IntPtr size, IntPtr previous, IntPtr returnSize);

        [DllImport("kernel32")] public static extern void DeleteProcThreadAttributeList(IntPtr list);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateProcessW")]
        public static extern bool CreateProcess(string? application, char* commandLine, IntPtr processAttributes, IntPtr threadAttributes,
            bool inheritHandles, uint flags, char* environment, string? directory, STARTUPINFOEX* startup, out PROCESS_INFORMATION information);

        [DllImport("kernel32", SetLastError = true)] public static extern bool IsProcessInJob(IntPtr process, IntPtr job, out bool result);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool QueryInformationJobObject(IntPtr job, int informationClass, out JOBOBJECT_EXTENDED_LIMIT_INFORMATION information,
            int length, IntPtr returned);
    }
}
