using System;
using System.Collections.Generic;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Process liveness from process handles, failing closed as on Linux. A process's identity is its pid and its
    /// creation time (GetProcessTimes), in milliseconds since 1601 (FILETIME / 10,000): the registry keeps all of it;
    /// shared words keep the low 32 bits, which wrap every 49.7 days (raw FILETIME's low 32 bits would wrap every
    /// 7 minutes). Windows does not reuse a pid while a handle on its process is open, and reuses it soon after.
    /// <list type="bullet">
    /// <item>Gone: OpenProcess fails with ERROR_INVALID_PARAMETER (no process has the id; thread ids share the id
    /// space, so a thread's id is refused so too); or the process has exited (its object lives on while someone holds
    /// a handle: a wait on it is already signalled); or its creation time differs from the recorded one.</item>
    /// <item>Unknown, treated as alive: every other failure (ERROR_ACCESS_DENIED for a protected or other user's
    /// process, out of handles or memory, GetProcessTimes failing).</item>
    /// </list>
    /// There is no pid namespace (<see cref="PidNamespace"/> is 0) and no polite stop request (a pinned child's
    /// RequestStop is false: the caller asks through the child's channel); <see cref="Kill"/> is TerminateProcess; a tree is walked by
    /// <see cref="WindowsProcessTree"/>.
    /// </summary>
    internal sealed class WindowsProcesses : IProcessTable
    {
        /// <summary>FILETIME ticks (100 ns) per unit of start time.</summary>
        private const long TicksPerStartUnit = 10_000;

        private ProcessIdentity? _current;

        public ProcessIdentity Current
        {
            get
            {
                if (_current is ProcessIdentity known) return known;
                if (!Win32.GetProcessTimes(Win32.GetCurrentProcess(), out long creation, out _, out _, out _))
                    throw new IpcPlatformException("GetProcessTimes", Win32.LastError, null);
                _current = new ProcessIdentity((int)Win32.GetCurrentProcessId(), creation / TicksPerStartUnit);
                return _current.Value;
            }
        }

        public uint PidNamespace => 0;

        public ProcessState Check(int pid, long start, long startMask)
        {
            if (pid <= 0) return ProcessState.Gone;
            IntPtr process = Win32.OpenProcess(Win32.PROCESS_QUERY_LIMITED_INFORMATION | Win32.SYNCHRONIZE, false, pid);
            if (process == IntPtr.Zero)
                return Win32.LastError == Win32.ERROR_INVALID_PARAMETER ? ProcessState.Gone : ProcessState.Unknown;
            try
            {
                uint exited = Win32.WaitForSingleObject(process, 0);
                if (exited == Win32.WAIT_OBJECT_0) return ProcessState.Gone;
                if (exited != Win32.WAIT_TIMEOUT) return ProcessState.Unknown;
                if (!Win32.GetProcessTimes(process, out long creation, out _, out _, out _)) return ProcessState.Unknown;
                return ((creation / TicksPerStartUnit ^ start) & startMask) != 0 ? ProcessState.Gone : ProcessState.Running;
            }
            finally { Win32.CloseHandle(process); }
        }

        public ProcessIdentity? Find(int pid)
        {
            if (pid <= 0) return null;
            IntPtr process = Win32.OpenProcess(Win32.PROCESS_QUERY_LIMITED_INFORMATION | Win32.SYNCHRONIZE, false, pid);
            if (process == IntPtr.Zero) return null;
            try
            {
                if (Win32.WaitForSingleObject(process, 0) != Win32.WAIT_TIMEOUT) return null;
                if (!Win32.GetProcessTimes(process, out long creation, out _, out _, out _)) return null;
                return new ProcessIdentity(pid, creation / TicksPerStartUnit);
            }
            finally { Win32.CloseHandle(process); }
        }

        /// <summary>Whether this process's stdin is a pipe whose writing end is closed (false when that cannot be told).</summary>
        public static unsafe bool StandardInputClosed()
        {
            IntPtr stdin = Win32.GetStdHandle(Win32.STD_INPUT_HANDLE);
            if (stdin == IntPtr.Zero || stdin == Win32.InvalidHandle) return false;
            if (Win32.PeekNamedPipe(stdin, null, 0, out _, out _, out _)) return false;
            return Win32.LastError == Win32.ERROR_BROKEN_PIPE;
        }

        /// <summary>A child, held by its Process (<see cref="WindowsChild"/>). Windows has no SIGTERM: its RequestStop is false.</summary>
        public IChildProcess Pin(System.Diagnostics.Process child, long start = 0) => new WindowsChild(child, start, this);

        public IProcessTree FindDescendants(int pid, long start, ICollection<int>? passOver = null) =>
            new WindowsProcessTree(pid, start, killRoot: false, passOver);

        private static IntPtr _leftTree;   // the marker of LeaveParentTree, held (never closed) for the process's life

        public unsafe bool LeaveParentTree()
        {
            if (_leftTree != IntPtr.Zero) return true;
            var me = Current;
            _leftTree = Win32.CreateSemaphoreEx(null, 0, 1, WindowsProcessTree.LeftTreeMarker(me.Pid, me.Start), 0, Win32.SEMAPHORE_ALL_ACCESS);
            return _leftTree != IntPtr.Zero;
        }

        /// <summary>The marker of PID, made here and moved into PID (DUPLICATE_CLOSE_SOURCE): it lives as long as PID does.</summary>
        public unsafe bool PutOutOfTree(int pid, long start)
        {
            if (start == 0) return false;
            IntPtr process = Win32.OpenProcess(Win32.PROCESS_DUP_HANDLE, false, pid);
            if (process == IntPtr.Zero) return false;
            try
            {
                IntPtr marker = Win32.CreateSemaphoreEx(null, 0, 1, WindowsProcessTree.LeftTreeMarker(pid, start), 0, Win32.SEMAPHORE_ALL_ACCESS);
                if (marker == IntPtr.Zero) return false;
                // DUPLICATE_CLOSE_SOURCE closes ours whatever the result.
                return Win32.DuplicateHandle(Win32.GetCurrentProcess(), marker, process, out _, 0, false, Win32.DUPLICATE_SAME_ACCESS | Win32.DUPLICATE_CLOSE_SOURCE);
            }
            finally { Win32.CloseHandle(process); }
        }

        public bool HasLeftTree(int pid, long start) => start != 0 && WindowsProcessTree.HasLeftTree(pid, start);

        /// <summary>None needed: <see cref="PutOutOfTree"/> marks a child as soon as it has started.</summary>
        public string? OutOfTreeLauncher => null;

        public void KillTree(int pid, long start)
        {
            using var tree = new WindowsProcessTree(pid, start, killRoot: true);
            tree.Kill();
            // PID could not be held (its /proc entry or a handle could not be read): killed alone unless known to be another's.
            if (tree.Pids.Length == 0 && Check(pid, start, start == 0 ? 0 : -1) != ProcessState.Gone) Kill(pid);
        }

        /// <summary>TerminateProcess with exit code 0xFFFFFFFF (-1, as .NET's Process.Kill). An ended process is no error.</summary>
        public void Kill(int pid)
        {
            IntPtr process = Win32.OpenProcess(Win32.PROCESS_TERMINATE | Win32.SYNCHRONIZE, false, pid);
            if (process == IntPtr.Zero)
            {
                int error = Win32.LastError;
                if (error == Win32.ERROR_INVALID_PARAMETER) return;   // no such process: it has ended already
                throw new IpcPlatformException("OpenProcess", error, null);
            }
            try
            {
                if (Win32.TerminateProcess(process, 0xFFFFFFFF)) return;
                int error = Win32.LastError;
                // A process that is exiting (or has exited) refuses with ACCESS_DENIED: what was asked has happened.
                if (Win32.WaitForSingleObject(process, 0) == Win32.WAIT_OBJECT_0) return;
                throw new IpcPlatformException("TerminateProcess", error, null);
            }
            finally { Win32.CloseHandle(process); }
        }
    }
}
