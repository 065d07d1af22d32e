using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Starts an IpcPs child on Windows as .NET's Process.Start does (its three standard handles on new pipes,
    /// bInheritHandles), with two differences:
    /// <list type="bullet">
    /// <item>PROC_THREAD_ATTRIBUTE_HANDLE_LIST names the child's three pipe ends: it inherits those and nothing else.
    /// Process.Start hands a child every inheritable handle of this process: the session's own standard handles (a CI
    /// agent's or a test runner's output pipe, which a -Detached child then held for its whole life, so the reader of
    /// the session's output never saw its end), and whatever another thread made inheritable at that moment.</item>
    /// <item>A child meant to outlive this process (LEAVEJOB) is created with CREATE_BREAKAWAY_FROM_JOB when this process
    /// runs in a job object: a job with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (CI agents, Task Scheduler, some terminals)
    /// ends every process in it when it closes. A job that refuses the breakaway (no JOB_OBJECT_LIMIT_BREAKAWAY_OK:
    /// ERROR_ACCESS_DENIED) and kills on close: <see cref="IpcNotSupportedException"/>, nothing started; one that
    /// refuses it and does not kill on close: started in the job, which it then outlives this process in.</item>
    /// </list>
    /// The parent's ends are never inheritable; the child's ends are inheritable only from their creation to the
    /// CreateProcess, under the lock .NET's Process.Start holds over the same steps, so no Process.Start of this process
    /// takes them (another thread's own CreateProcess could: a brief window, as .NET's own). Everything opened is closed
    /// on every failure.
    /// </summary>
    internal static unsafe class WindowsChildStart
    {
        /// <summary>A started child: its id, its process handle and the parent's ends of its pipes, all owned by the caller.</summary>
        internal readonly struct Started
        {
            public Started(int pid, IntPtr process, IntPtr input, IntPtr output, IntPtr error, bool stillInJob)
            {
                StillInJob = stillInJob;
                Pid = pid;
                Process = process;
                Input = input;
                Output = output;
                Error = error;
            }

            public int Pid { get; }
            public IntPtr Process { get; }
            public IntPtr Input { get; }
            public IntPtr Output { get; }
            public IntPtr Error { get; }

            /// <summary>Created with the breakaway, yet still in a job: an enclosing job (nested jobs) kept it.</summary>
            public bool StillInJob { get; }
        }

        /// <summary>
        /// .NET's own lock over a start, held around ours: Process.s_createProcessLock (a Monitor; s_CreateProcessLock
        /// on .NET Framework), or ProcessUtils.s_processStartLock (a ReaderWriterLockSlim, whose write lock a start
        /// takes). Null when this runtime has neither in that shape: then no lock of ours would keep a Process.Start
        /// from taking the child's inheritable ends, and <see cref="StartLockFound"/> is false (no start here).
        /// </summary>
        private static readonly object? StartLock = FindStartLock(typeof(System.Diagnostics.Process),
            typeof(System.Diagnostics.Process).Assembly.GetType("System.Diagnostics.ProcessUtils", throwOnError: false));

        /// <summary>Whether .NET's lock over a process start was found on this runtime: <see cref="Start"/> may be used.</summary>
        public static bool StartLockFound => StartLock != null;

        /// <summary>
        /// The start lock in PROCESS or UTILS (either may be null), or null. Only a plain object (a Monitor) or a
        /// ReaderWriterLockSlim is taken: any other type (System.Threading.Lock, say) is locked otherwise by .NET, so
        /// a Monitor on it would exclude nothing.
        /// </summary>
        internal static object? FindStartLock(Type? process, Type? utils)
        {
            const BindingFlags Static = BindingFlags.NonPublic | BindingFlags.Static;
            foreach (var field in new[] { process?.GetField("s_createProcessLock", Static), process?.GetField("s_CreateProcessLock", Static),
                utils?.GetField("s_processStartLock", Static), process?.GetField("s_processStartLock", Static) })
            {
                object? value = field?.GetValue(null);
                if (value is ReaderWriterLockSlim || (value != null && value.GetType() == typeof(object))) return value;
            }
            return null;
        }

        /// <summary>Whether this process runs in a job object (any: nested jobs included).</summary>
        public static bool InJob() => Win32Launch.IsProcessInJob(Win32.GetCurrentProcess(), IntPtr.Zero, out bool inJob) && inJob;

        /// <summary>
        /// Starts COMMANDLINE (the executable quoted, then its arguments) in FOLDER (null: this process's) with ENVIRONMENT
        /// (the whole block; null values left out). WHAT names the child for messages.
        /// </summary>
        public static Started Start(string commandLine, string? folder, IEnumerable<KeyValuePair<string, string?>> environment, bool noWindow,
            bool leaveJob, string what)
        {
            IntPtr inRead = IntPtr.Zero, inWrite = IntPtr.Zero, outRead = IntPtr.Zero, outWrite = IntPtr.Zero, errRead = IntPtr.Zero, errWrite = IntPtr.Zero;
            bool started = false;
            try
            {
                uint flags = Win32Launch.EXTENDED_STARTUPINFO_PRESENT | Win32Launch.CREATE_UNICODE_ENVIRONMENT | (noWindow ? Win32Launch.CREATE_NO_WINDOW : 0);
                bool breakaway = leaveJob && InJob();
                char[] block = EnvironmentBlock(environment);
                Win32Launch.PROCESS_INFORMATION info;
                bool refused = false;   // the job refused the breakaway: started in it
                object startLock = StartLock ?? throw new InvalidOperationException("This runtime's process start lock was not found.");
                var writeLock = startLock as ReaderWriterLockSlim;
                if (writeLock != null) writeLock.EnterWriteLock();
                else Monitor.Enter(startLock);
                try
                {
                    Pipe(out inRead, out inWrite, parentWrites: true, what);
                    Pipe(out outRead, out outWrite, parentWrites: false, what);
                    Pipe(out errRead, out errWrite, parentWrites: false, what);
                    int error = Create(commandLine, folder, block, flags | (breakaway ? Win32Launch.CREATE_BREAKAWAY_FROM_JOB : 0), inRead, outWrite, errWrite, out info);
                    if (error == Win32.ERROR_ACCESS_DENIED && breakaway && JobRefusesBreakaway())
                    {
                        // The job refuses the breakaway. A job that ends its processes as it closes would end this one with
                        // this session: no start. Else it starts in the job (Wine 8 reports no limits at all: this way).
                        // (A job that allows it: the denial is not the job's, AppLocker or the file's permissions, and is
                        // reported as it is, below.)
                        if (JobKillsOnClose(out string reason))
                            throw new IpcNotSupportedException($"The {what} cannot be started detached: {reason}.");
                        refused = true;
                        error = Create(commandLine, folder, block, flags, inRead, outWrite, errWrite, out info);
                    }
                    if (error != 0) throw new IpcPlatformException($"Starting the {what}", error, null);
                }
                finally
                {
                    if (writeLock != null) writeLock.ExitWriteLock();
                    else Monitor.Exit(startLock);
                }
                Win32.CloseHandle(info.hThread);
                started = true;
                // Out of the innermost job, but an enclosing one that refuses the breakaway keeps it (nested jobs).
                bool inJob = false;
                bool stillInJob = breakaway && !refused && Win32Launch.IsProcessInJob(info.hProcess, IntPtr.Zero, out inJob) && inJob;
                return new Started(info.dwProcessId, info.hProcess, inWrite, outRead, errRead, stillInJob);
            }
            finally
            {
                // The child's ends always (it holds its own copies now); the parent's only when nothing started.
                foreach (IntPtr h in new[] { inRead, outWrite, errWrite }) if (h != IntPtr.Zero) Win32.CloseHandle(h);
                if (!started) foreach (IntPtr h in new[] { inWrite, outRead, errRead }) if (h != IntPtr.Zero) Win32.CloseHandle(h);
            }
        }

        /// <summary>A pipe whose child end alone is inheritable (the parent's end is made not so at once).</summary>
        private static void Pipe(out IntPtr read, out IntPtr write, bool parentWrites, string what)
        {
            var inherit = new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), bInheritHandle = 1 };
            if (!Win32Launch.CreatePipe(out read, out write, &inherit, 0)) throw new IpcPlatformException($"Starting the {what} (CreatePipe)", Win32.LastError, null);
            if (!Win32.SetHandleInformation(parentWrites ? write : read, Win32.HANDLE_FLAG_INHERIT, 0))
                throw new IpcPlatformException($"Starting the {what} (SetHandleInformation)", Win32.LastError, null);
        }

        /// <summary>CreateProcess with the three handles as the only ones inherited; the Win32 error, or 0.</summary>
        private static int Create(string commandLine, string? folder, char[] environment, uint flags, IntPtr input, IntPtr output, IntPtr error,
            out Win32Launch.PROCESS_INFORMATION info)
        {
            info = default;
            IntPtr size = IntPtr.Zero;
            Win32Launch.InitializeProcThreadAttributeList(IntPtr.Zero, 1, 0, ref size);   // fails by design: the size
            IntPtr list = Marshal.AllocHGlobal(size);
            try
            {
                if (!Win32Launch.InitializeProcThreadAttributeList(list, 1, 0, ref size)) return Win32.LastError;
                try
                {
                    IntPtr* handles = stackalloc IntPtr[3];   // read by CreateProcess: lives until the list is deleted
                    handles[0] = input;
                    handles[1] = output;
                    handles[2] = error;
                    if (!Win32Launch.UpdateProcThreadAttribute(list, 0, Win32Launch.PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles,
                        new IntPtr(3 * IntPtr.Size), IntPtr.Zero, IntPtr.Zero)) return Win32.LastError;
                    var startup = new Win32Launch.STARTUPINFOEX
                    {
                        cb = sizeof(Win32Launch.STARTUPINFOEX),
                        dwFlags = Win32Launch.STARTF_USESTDHANDLES,
                        hStdInput = input,
                        hStdOutput = output,
                        hStdError = error,
                        lpAttributeList = list,
                    };
                    char[] line = (commandLine + "\0").ToCharArray();   // CreateProcessW may write into its command line
                    fixed (char* l = line)
                    fixed (char* e = environment)
                    {
                        return Win32Launch.CreateProcess(null, l, IntPtr.Zero, IntPtr.Zero, true, flags, e, folder, &startup, out info) ? 0 : Win32.LastError;
                    }
                }
                finally { Win32Launch.DeleteProcThreadAttributeList(list); }
            }
            finally { Marshal.FreeHGlobal(list); }
        }

        /// <summary>
        /// Whether this process's job refuses a breakaway: no JOB_OBJECT_LIMIT_BREAKAWAY_OK, or limits that cannot be read.
        /// Where it allows one, an ERROR_ACCESS_DENIED is another refusal's (AppLocker, permissions), not the job's.
        /// </summary>
        private static bool JobRefusesBreakaway() =>
            !Win32Launch.QueryInformationJobObject(IntPtr.Zero, Win32Launch.JobObjectExtendedLimitInformation, out var limits,
                sizeof(Win32Launch.JOBOBJECT_EXTENDED_LIMIT_INFORMATION), IntPtr.Zero)
            || (limits.LimitFlags & Win32Launch.JOB_OBJECT_LIMIT_BREAKAWAY_OK) == 0;

        /// <summary>
        /// For a start that cannot ask for the breakaway (Process.Start, where <see cref="StartLockFound"/> or the
        /// runtime's members are missing): whether a child meant to outlive this session would end with this process's
        /// job (it kills on close, or its limits cannot be read, and children do not leave it silently), REASON saying so.
        /// </summary>
        public static bool DetachedWouldEndWithJob(out string reason)
        {
            reason = "";
            if (!InJob()) return false;
            if (!Win32Launch.QueryInformationJobObject(IntPtr.Zero, Win32Launch.JobObjectExtendedLimitInformation, out var limits,
                sizeof(Win32Launch.JOBOBJECT_EXTENDED_LIMIT_INFORMATION), IntPtr.Zero))
            {
                reason = "this session runs in a Windows job object whose limits cannot be read (QueryInformationJobObject: Win32 error "
                    + Win32.LastError + "), and this runtime's process start cannot ask to leave it";
                return true;
            }
            reason = "this session runs in a Windows job object that ends every process in it when it closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE), "
                + "and this runtime's process start cannot ask to leave it: a detached process would end with the job";
            return (limits.LimitFlags & Win32Launch.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) != 0
                && (limits.LimitFlags & Win32Launch.JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK) == 0;
        }

        /// <summary>
        /// Whether the job of this process ends its processes as it closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE), REASON
        /// saying so. A job that cannot be read is taken to (nothing is promised that cannot be told).
        /// </summary>
        private static bool JobKillsOnClose(out string reason)
        {
            if (!Win32Launch.QueryInformationJobObject(IntPtr.Zero, Win32Launch.JobObjectExtendedLimitInformation, out var limits,
                sizeof(Win32Launch.JOBOBJECT_EXTENDED_LIMIT_INFORMATION), IntPtr.Zero))
            {
                reason = $"this session runs in a Windows job object that does not allow its processes to leave it (no JOB_OBJECT_LIMIT_BREAKAWAY_OK), "
                    + $"and whether the job ends its processes when it closes cannot be told (QueryInformationJobObject: Win32 error {Win32.LastError})";
                return true;
            }
            reason = "this session runs in a Windows job object that ends every process in it when it closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) "
                + "and does not allow a process to leave it (no JOB_OBJECT_LIMIT_BREAKAWAY_OK): a detached process would end with the job";
            return (limits.LimitFlags & Win32Launch.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) != 0;
        }

        /// <summary>A Unicode environment block: NAME=VALUE\0 sorted by name without case (as CreateProcess wants), then \0.</summary>
        private static char[] EnvironmentBlock(IEnumerable<KeyValuePair<string, string?>> environment)
        {
            var names = new List<KeyValuePair<string, string?>>();
            foreach (var kv in environment) if (kv.Value != null) names.Add(kv);
            names.Sort((a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Key, b.Key));
            var text = new StringBuilder();
            foreach (var kv in names) text.Append(kv.Key).Append('=').Append(kv.Value).Append('\0');
            if (names.Count == 0) text.Append('\0');
            return text.Append('\0').ToString().ToCharArray();
        }
    }
}
