using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// A child held by a pidfd (<see cref="IChildProcess"/>). The pidfd is taken first and the child's Process asked
    /// afterwards whether it has exited: .NET reaps a child (waitpid, in its SIGCHLD handling) and marks it exited in
    /// one step under one lock, and a pid stays its process's until that process is reaped, so "not exited" after the
    /// pidfd means the pidfd is the child's. A signal through it reaches the child or, once reaped, nobody (ESRCH).
    /// Where no pidfd can be had (ENOSYS before Linux 5.3, EPERM from a seccomp filter, EMFILE), the Process is asked
    /// again right before each kill(2), the narrow check of before (microseconds in which a reap and a reuse would have
    /// to fall). Signals and Dispose are ordered by one lock, so a descriptor is never used after its close.
    /// </summary>
    internal sealed class LinuxChild : IChildProcess
    {
        private readonly object _gate = new object();
        private readonly LinuxProcesses _table;
        private readonly Process? _unpinned;   // no pidfd: asked before each signal
        private readonly long _start;          // the child's start (clock ticks since boot); 0 when not read
        private int _fd = -1;
        private bool _ended;                   // reaped when pinned, or disposed: nothing is sent

        public LinuxChild(Process child, LinuxProcesses table)
        {
            _table = table;
            try { Pid = child.Id; }
            catch (InvalidOperationException) { _ended = true; return; }   // disposed: its owner is done with it
            int fd = (int)LibC.syscall(LibC.SYS_pidfd_open, Pid, 0, 0, 0);
            int errno = fd < 0 ? Posix.LastErrno : 0;
            _start = table.Find(Pid)?.Start ?? 0;   // read while the pid is still the child's (checked just below)
            if (HasExited(child) || (fd < 0 && errno == Errno.ESRCH))
            {
                if (fd >= 0) Posix.Close(fd);   // reaped: the pidfd (if any) may be another process's
                _ended = true;
                return;
            }
            if (fd >= 0) _fd = fd;
            else _unpinned = child;
        }

        public int Pid { get; }

        public bool RequestStop()
        {
            Signal(LibC.SIGTERM);
            return true;
        }

        public void Kill() => Signal(LibC.SIGKILL);

        public void KillTree()
        {
            lock (_gate)
            {
                if (_ended) return;
                if (_fd < 0)
                {
                    if (!HasExited(_unpinned!)) _table.KillTree(Pid, _start);
                    return;
                }
                using var tree = new LinuxProcessTree(Pid, _start, killRoot: true, _table.ProcIsOurs(), rootPidFd: _fd);
                tree.Kill();
                // The root could not be held by the tree (no descriptor left for its copy): killed through ours.
                if (tree.Pids.Length == 0) LibC.syscall(LibC.SYS_pidfd_send_signal, _fd, LibC.SIGKILL, 0, 0);
            }
        }

        public IProcessTree FindDescendants(ICollection<int>? passOver = null)
        {
            lock (_gate)
            {
                if (_ended) return new LinuxProcessTree(0, 0, killRoot: false, procIsOurs: false);
                if (_fd < 0) return HasExited(_unpinned!) ? new LinuxProcessTree(0, 0, false, false) : _table.FindDescendants(Pid, _start, passOver);
                return new LinuxProcessTree(Pid, _start, killRoot: false, _table.ProcIsOurs(), passOver, _fd);
            }
        }

        private void Signal(int signal)
        {
            lock (_gate)
            {
                if (_ended) return;
                if (_fd >= 0)
                {
                    SignalSeam.Reached(Pid);
                    LibC.syscall(LibC.SYS_pidfd_send_signal, _fd, signal, 0, 0);   // ESRCH: it has been reaped since
                }
                else if (!HasExited(_unpinned!))
                {
                    SignalSeam.Reached(Pid);
                    LibC.kill(Pid, signal);
                }
            }
        }

        private static bool HasExited(Process p)
        {
            try { return p.HasExited; }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception) { return true; }   // disposed, or not ours
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _ended = true;
                if (_fd >= 0) Posix.Close(_fd);
                _fd = -1;
            }
        }
    }
}
