using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The Win32 calls IpcPs makes (kernel32, advapi32). Every caller checks the result and turns a failure into an
    /// <see cref="IpcPlatformException"/> carrying the Win32 error code; nothing outside Platform/Windows calls these.
    /// Handles are raw IntPtr values owned by the type that opened them (closed exactly once, in a finally or a
    /// SafeHandle's ReleaseHandle).
    /// </summary>
    internal static unsafe class Win32
    {
        public const int ERROR_FILE_NOT_FOUND = 2, ERROR_PATH_NOT_FOUND = 3, ERROR_ACCESS_DENIED = 5, ERROR_INVALID_HANDLE = 6,
            ERROR_NOT_ENOUGH_MEMORY = 8, ERROR_SHARING_VIOLATION = 32, ERROR_FILE_EXISTS = 80, ERROR_INVALID_PARAMETER = 87,
            ERROR_BROKEN_PIPE = 109, ERROR_ALREADY_EXISTS = 183, ERROR_TOO_MANY_POSTS = 298, ERROR_NOT_OWNER = 288,
            ERROR_OPERATION_ABORTED = 995, ERROR_IO_PENDING = 997;

        public static readonly IntPtr InvalidHandle = new IntPtr(-1);

        // Pages and file mappings.
        public const uint PAGE_READWRITE = 0x04;
        public const uint FILE_MAP_WRITE = 0x0002, FILE_MAP_READ = 0x0004;
        public const uint READ_CONTROL = 0x00020000, SYNCHRONIZE = 0x00100000, DELETE = 0x00010000;

        // Processes.
        public const uint PROCESS_TERMINATE = 0x0001, PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
        public const int STILL_ACTIVE = 259;

        // Waits.
        public const uint INFINITE = 0xFFFFFFFF, WAIT_OBJECT_0 = 0, WAIT_ABANDONED = 0x80, WAIT_TIMEOUT = 0x102, WAIT_FAILED = 0xFFFFFFFF;
        public const uint SEMAPHORE_MODIFY_STATE = 0x0002, SEMAPHORE_ALL_ACCESS = 0x1F0003;

        // Files.
        public const uint GENERIC_READ = 0x80000000, GENERIC_WRITE = 0x40000000, FILE_READ_ATTRIBUTES = 0x80;
        public const uint FILE_SHARE_READ = 1, FILE_SHARE_WRITE = 2, FILE_SHARE_DELETE = 4;
        public const uint CREATE_NEW = 1, OPEN_EXISTING = 3, OPEN_ALWAYS = 4;
        public const uint FILE_ATTRIBUTE_NORMAL = 0x80, FILE_ATTRIBUTE_DIRECTORY = 0x10, FILE_ATTRIBUTE_REPARSE_POINT = 0x400;
        public const uint FILE_FLAG_BACKUP_SEMANTICS = 0x02000000, FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000,
            FILE_FLAG_DELETE_ON_CLOSE = 0x04000000;
        public const uint LOCKFILE_EXCLUSIVE_LOCK = 2;
        public const int FileRenameInfo = 3, FileDispositionInfo = 4;

        // Security.
        public const int SE_KERNEL_OBJECT = 6, SE_FILE_OBJECT = 1;
        public const uint OWNER_SECURITY_INFORMATION = 1;
        public const uint SDDL_REVISION_1 = 1;

        [StructLayout(LayoutKind.Sequential)]
        public struct SECURITY_ATTRIBUTES
        {
            public int nLength;
            public IntPtr lpSecurityDescriptor;
            public int bInheritHandle;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct MEMORY_BASIC_INFORMATION
        {
            public IntPtr BaseAddress;
            public IntPtr AllocationBase;
            public uint AllocationProtect;
            public uint PartitionId;
            public UIntPtr RegionSize;
            public uint State;
            public uint Protect;
            public uint Type;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct OVERLAPPED
        {
            public UIntPtr Internal;
            public UIntPtr InternalHigh;
            public uint Offset;
            public uint OffsetHigh;
            public IntPtr hEvent;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct BY_HANDLE_FILE_INFORMATION
        {
            public uint FileAttributes;
            public long CreationTime, LastAccessTime, LastWriteTime;
            public uint VolumeSerialNumber;
            public uint FileSizeHigh, FileSizeLow;
            public uint NumberOfLinks;
            public uint FileIndexHigh, FileIndexLow;
        }

        [DllImport("kernel32", SetLastError = true)] public static extern bool CloseHandle(IntPtr handle);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateFileMappingW")]
        public static extern IntPtr CreateFileMapping(IntPtr file, SECURITY_ATTRIBUTES* attributes, uint protect, uint sizeHigh, uint sizeLow, string? name);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "OpenFileMappingW")]
        public static extern IntPtr OpenFileMapping(uint access, bool inherit, string name);

        [DllImport("kernel32", SetLastError = true)]
        public static extern IntPtr MapViewOfFile(IntPtr mapping, uint access, uint offsetHigh, uint offsetLow, UIntPtr bytes);

        [DllImport("kernel32", SetLastError = true)] public static extern bool UnmapViewOfFile(IntPtr address);

        [DllImport("kernel32", SetLastError = true)]
        public static extern UIntPtr VirtualQuery(IntPtr address, MEMORY_BASIC_INFORMATION* buffer, UIntPtr length);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateSemaphoreExW")]
        public static extern IntPtr CreateSemaphoreEx(SECURITY_ATTRIBUTES* attributes, int initial, int maximum, string name, uint flags, uint access);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "OpenSemaphoreW")]
        public static extern IntPtr OpenSemaphore(uint access, bool inherit, string name);

        [DllImport("kernel32", SetLastError = true)] public static extern bool ReleaseSemaphore(IntPtr semaphore, int count, int* previous);

        [DllImport("kernel32", SetLastError = true)] public static extern uint WaitForSingleObject(IntPtr handle, uint milliseconds);

        [DllImport("kernel32", SetLastError = true)]
        public static extern uint WaitForMultipleObjects(uint count, IntPtr* handles, bool waitAll, uint milliseconds);

        [DllImport("kernel32")] public static extern uint GetCurrentProcessId();

        [DllImport("kernel32")] public static extern IntPtr GetCurrentProcess();

        [DllImport("kernel32", SetLastError = true)] public static extern IntPtr OpenProcess(uint access, bool inherit, int pid);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool GetProcessTimes(IntPtr process, out long creation, out long exit, out long kernel, out long user);

        [DllImport("kernel32", SetLastError = true)] public static extern bool GetExitCodeProcess(IntPtr process, out int code);

        [DllImport("kernel32", SetLastError = true)] public static extern bool TerminateProcess(IntPtr process, uint exitCode);

        // The process list (Toolhelp) and a process's parent (ntdll): the process tree (WindowsProcessTree).
        public const uint TH32CS_SNAPPROCESS = 0x2;
        public const int ProcessBasicInformation = 0;

        /// <summary>PROCESSENTRY32W.</summary>
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        public struct PROCESSENTRY32W
        {
            public uint dwSize;
            public uint cntUsage;
            public uint th32ProcessID;
            public IntPtr th32DefaultHeapID;
            public uint th32ModuleID;
            public uint cntThreads;
            public uint th32ParentProcessID;
            public int pcPriClassBase;
            public uint dwFlags;
            [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 260)] public string szExeFile;
        }

        /// <summary>PROCESS_BASIC_INFORMATION: six pointer-sized fields (the NTSTATUS and the priority padded on 64 bits).</summary>
        [StructLayout(LayoutKind.Sequential)]
        public struct PROCESS_BASIC_INFORMATION
        {
            public IntPtr ExitStatus;
            public IntPtr PebBaseAddress;
            public IntPtr AffinityMask;
            public IntPtr BasePriority;
            public IntPtr UniqueProcessId;
            public IntPtr InheritedFromUniqueProcessId;
        }

        [DllImport("kernel32", SetLastError = true)] public static extern IntPtr CreateToolhelp32Snapshot(uint flags, uint pid);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)] public static extern bool Process32FirstW(IntPtr snapshot, ref PROCESSENTRY32W entry);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)] public static extern bool Process32NextW(IntPtr snapshot, ref PROCESSENTRY32W entry);

        /// <summary>Returns an NTSTATUS: 0 on success.</summary>
        [DllImport("ntdll")]
        public static extern int NtQueryInformationProcess(IntPtr process, int infoClass, out PROCESS_BASIC_INFORMATION info, int length, out int returned);

        public const uint PROCESS_DUP_HANDLE = 0x0040, DUPLICATE_CLOSE_SOURCE = 1, DUPLICATE_SAME_ACCESS = 2;

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool DuplicateHandle(IntPtr sourceProcess, IntPtr source, IntPtr targetProcess, out IntPtr target, uint access, bool inherit, uint options);

        [DllImport("kernel32", SetLastError = true)] public static extern bool ProcessIdToSessionId(uint pid, out uint session);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateFileW")]
        public static extern IntPtr CreateFile(string path, uint access, uint share, SECURITY_ATTRIBUTES* attributes, uint disposition, uint flags, IntPtr template);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateDirectoryW")]
        public static extern bool CreateDirectory(string path, SECURITY_ATTRIBUTES* attributes);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool LockFileEx(IntPtr file, uint flags, uint reserved, uint bytesLow, uint bytesHigh, OVERLAPPED* overlapped);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool ReadFile(IntPtr file, byte* buffer, int count, out int read, OVERLAPPED* overlapped);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool WriteFile(IntPtr file, byte* buffer, int count, out int written, OVERLAPPED* overlapped);

        [DllImport("kernel32", SetLastError = true)] public static extern bool SetFilePointerEx(IntPtr file, long distance, out long position, uint method);

        [DllImport("kernel32", SetLastError = true)] public static extern bool SetEndOfFile(IntPtr file);

        public const int STD_INPUT_HANDLE = -10;

        [DllImport("kernel32", SetLastError = true)] public static extern IntPtr GetStdHandle(int which);
        [DllImport("kernel32", SetLastError = true)] public static extern bool SetStdHandle(int which, IntPtr handle);

        public const uint HANDLE_FLAG_INHERIT = 1;

        [DllImport("kernel32", SetLastError = true)] public static extern bool SetHandleInformation(IntPtr handle, uint mask, uint flags);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool PeekNamedPipe(IntPtr pipe, byte* buffer, int size, out int read, out int available, out int leftThisMessage);

        [DllImport("kernel32", SetLastError = true)] public static extern bool GetFileSizeEx(IntPtr file, out long size);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool GetFileInformationByHandle(IntPtr file, out BY_HANDLE_FILE_INFORMATION information);

        [DllImport("kernel32", SetLastError = true)]
        public static extern bool SetFileInformationByHandle(IntPtr file, int informationClass, void* information, int size);

        [DllImport("advapi32", SetLastError = true)]
        public static extern uint GetSecurityInfo(IntPtr handle, int objectType, uint information, out IntPtr owner, out IntPtr group,
            out IntPtr dacl, out IntPtr sacl, out IntPtr securityDescriptor);

        [DllImport("advapi32", SetLastError = true)] public static extern bool EqualSid(IntPtr sid1, IntPtr sid2);

        [DllImport("advapi32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "ConvertSidToStringSidW")]
        public static extern bool ConvertSidToStringSid(IntPtr sid, out IntPtr text);

        [DllImport("advapi32", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "ConvertStringSecurityDescriptorToSecurityDescriptorW")]
        public static extern bool ConvertStringSecurityDescriptorToSecurityDescriptor(string sddl, uint revision, out IntPtr descriptor, out uint size);

        [DllImport("advapi32", SetLastError = true)]
        public static extern bool OpenProcessToken(IntPtr process, uint access, out IntPtr token);

        [DllImport("advapi32", SetLastError = true)]
        public static extern bool GetTokenInformation(IntPtr token, int informationClass, byte* information, int length, out int returned);

        [DllImport("kernel32")] public static extern IntPtr LocalFree(IntPtr memory);

        public static int LastError => Marshal.GetLastWin32Error();
    }
}
