using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// A process and its descendants, found from the Toolhelp process list's parent ids (<see cref="IProcessTree"/>).
    /// <list type="bullet">
    /// <item>Each process found is held by a handle: Windows does not reuse a process's id while a handle on it is
    /// open, so the id of a held process names it for as long as the tree lives, and a kill through the handle reaches
    /// it alone.</item>
    /// <item>A process keeps its parent's id after that parent has ended, and the id may by then be another's. A
    /// process is taken as a child of a held one only when its own handle says so (NtQueryInformationProcess: the list
    /// is a snapshot, and its entry's id may have been reused before the handle was opened) and it was created no
    /// earlier than the held process: a process created before it had an earlier holder of the id as its parent.</item>
    /// <item>A process that holds its "left the tree" marker (<see cref="LeftTreeMarker"/>: a -Detached child) is not
    /// taken, nor what it started.</item>
    /// <item>Killing ends each process as it is found (TerminateProcess; there is no SIGSTOP): an ended process starts
    /// nothing, and its children stay linked to it by their parent id. The walk lists the processes again until a
    /// pass finds nothing new.</item>
    /// </list>
    /// </summary>
    internal sealed class WindowsProcessTree : IProcessTree
    {
        private const uint Access = Win32.PROCESS_TERMINATE | Win32.PROCESS_QUERY_LIMITED_INFORMATION | Win32.SYNCHRONIZE;
        private const uint QueryOnly = Win32.PROCESS_QUERY_LIMITED_INFORMATION | Win32.SYNCHRONIZE;

        private readonly List<Held> _held = new List<Held>();   // every process found, the root first
        private readonly ICollection<int>? _passOver;
        private readonly Dictionary<int, Held> _byPid = new Dictionary<int, Held>();
        private readonly bool _killRoot;

        private sealed class Held
        {
            public Held(int pid, long creation, IntPtr handle)
            {
                Pid = pid;
                Creation = creation;
                Handle = handle;
            }

            public int Pid { get; }
            public long Creation { get; }   // FILETIME ticks
            public IntPtr Handle { get; set; }
            public bool Ended { get; set; }
        }

        /// <summary>
        /// The tree under PID (created at START, in the milliseconds of <see cref="WindowsProcesses"/>; 0 when not known),
        /// walked now. KILLROOT: <see cref="Kill"/> ends PID too, and the walk ends every process as it finds it.
        /// </summary>
        public WindowsProcessTree(int pid, long start, bool killRoot, ICollection<int>? passOver = null)
        {
            _killRoot = killRoot;
            _passOver = passOver;
            if (pid <= 0) return;
            IntPtr handle = Open(pid);
            if (handle == IntPtr.Zero) return;
            if (!Win32.GetProcessTimes(handle, out long creation, out _, out _, out _) || (start != 0 && creation / 10_000 != start))
            {
                Win32.CloseHandle(handle);
                return;
            }
            var root = new Held(pid, creation, handle);
            _held.Add(root);
            _byPid[pid] = root;
            if (killRoot) End(root);
            Walk(end: killRoot);
        }

        public int[] Pids
        {
            get
            {
                var pids = new List<int>();
                foreach (var h in _held) if (h != _held[0] || _killRoot) pids.Add(h.Pid);
                return pids.ToArray();
            }
        }

        public void Kill()
        {
            if (_held.Count == 0) return;
            foreach (var h in _held) End(h);
            Walk(end: true);
        }

        private void End(Held h)
        {
            if (h.Ended || (h == _held[0] && !_killRoot)) return;   // a root that is to live is never ended
            h.Ended = true;
            Win32.TerminateProcess(h.Handle, 0xFFFFFFFF);   // refused (ACCESS_DENIED) for one that has ended or is not ours to end
        }

        /// <summary>Adds the children of held processes until a pass over the process list finds none; END ends each as found.</summary>
        private void Walk(bool end)
        {
            bool found = true;
            while (found)
            {
                found = false;
                foreach (var (pid, parentPid) in List())
                {
                    if (_byPid.ContainsKey(pid) || !_byPid.TryGetValue(parentPid, out var parent)) continue;
                    if (_passOver != null && _passOver.Contains(pid)) continue;   // not held: nothing under it is reached
                    IntPtr handle = Open(pid);
                    if (handle == IntPtr.Zero) continue;
                    if (!Win32.GetProcessTimes(handle, out long creation, out _, out _, out _) || creation < parent.Creation
                        || ParentOf(handle) != parent.Pid || HasLeftTree(pid, creation / 10_000))
                    {
                        Win32.CloseHandle(handle);
                        continue;
                    }
                    var child = new Held(pid, creation, handle);
                    _held.Add(child);
                    _byPid[pid] = child;
                    found = true;
                    if (end) End(child);
                }
            }
        }

        /// <summary>
        /// The name of the marker that tells the walks to leave the process PID (created at START, in milliseconds) alone:
        /// a semaphore in the session's namespace, made by <see cref="WindowsProcesses.LeaveParentTree"/>.
        /// </summary>
        public static string LeftTreeMarker(int pid, long start) =>
            $@"Local\IpcPs.LeftTree.{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{start.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

        /// <summary>Whether the process PID created at START (milliseconds) holds its marker (<see cref="LeftTreeMarker"/>).</summary>
        public static bool HasLeftTree(int pid, long start)
        {
            IntPtr marker = Win32.OpenSemaphore(Win32.SYNCHRONIZE, false, LeftTreeMarker(pid, start));
            if (marker == IntPtr.Zero) return false;
            Win32.CloseHandle(marker);
            return true;
        }

        /// <summary>A handle that can end PID, or one that can only query it (not ours to end: walked through all the same); zero when it is gone.</summary>
        private static IntPtr Open(int pid)
        {
            IntPtr handle = Win32.OpenProcess(Access, false, pid);
            return handle != IntPtr.Zero ? handle : Win32.OpenProcess(QueryOnly, false, pid);
        }

        /// <summary>The id of the process that created the one HANDLE names; -1 when it cannot be read.</summary>
        private static int ParentOf(IntPtr handle) =>
            Win32.NtQueryInformationProcess(handle, Win32.ProcessBasicInformation, out var info, Marshal.SizeOf<Win32.PROCESS_BASIC_INFORMATION>(), out _) == 0
                ? (int)info.InheritedFromUniqueProcessId.ToInt64() : -1;

        /// <summary>Every process now, with its parent's id (empty when the list cannot be taken).</summary>
        private static List<(int Pid, int Parent)> List()
        {
            var list = new List<(int, int)>();
            IntPtr snapshot = Win32.CreateToolhelp32Snapshot(Win32.TH32CS_SNAPPROCESS, 0);
            if (snapshot == Win32.InvalidHandle || snapshot == IntPtr.Zero) return list;
            try
            {
                var entry = new Win32.PROCESSENTRY32W { dwSize = (uint)Marshal.SizeOf<Win32.PROCESSENTRY32W>() };
                for (bool more = Win32.Process32FirstW(snapshot, ref entry); more; more = Win32.Process32NextW(snapshot, ref entry))
                    list.Add(((int)entry.th32ProcessID, (int)entry.th32ParentProcessID));
            }
            finally { Win32.CloseHandle(snapshot); }
            return list;
        }

        public void Dispose()
        {
            foreach (var h in _held)
                if (h.Handle != IntPtr.Zero)
                {
                    Win32.CloseHandle(h.Handle);
                    h.Handle = IntPtr.Zero;
                }
        }
    }
}
