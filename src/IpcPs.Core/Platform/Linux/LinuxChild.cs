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
    /// to fall); so too where the pidfd was had but pidfd_send_signal is refused (ENOSYS, EPERM: a sandbox's seccomp
    /// profile), else every signal would be lost and a stop would wait for ever. Signals and Dispose are ordered by one
    /// lock, so a descriptor is never used after its close.
    /// </summary>
    internal sealed class LinuxChild : IChildProcess
    {
        private readonly object _gate = new object();
        private readonly LinuxProcesses _table;
        private readonly Process _process;     // asked before each kill(2): no pidfd, or its send refused
        private readonly long _start;          // the child's start (clock ticks since boot); 0 when not known
        private int _fd = -1;
        private bool _ended;                   // reaped when pinned, or disposed: nothing is sent

        /// <summary>CHILD, pinned now. START: its start recorded at its launch (0: not known, read now).</summary>
        public LinuxChild(Process child, long start, LinuxProcesses table)
        {
            _table = table;
            _process = child;
            try { Pid = child.Id; }
            catch (InvalidOperationException) { _ended = true; return; }   // disposed: its owner is done with it
            int fd = (int)LibC.syscall(LibC.SYS_pidfd_open, Pid, 0, 0, 0);
            int errno = fd < 0 ? Posix.LastErrno : 0;
            // Read while the pid is still the child's (checked just below), where its launch did not record it; a zombie
            // or an unreadable /proc gives 0, and then the tree walks of a child without a pidfd take whoever has its pid.
            _start = start != 0 ? start : table.Find(Pid)?.Start ?? 0;
            if (HasExited(child) || (fd < 0 && errno == Errno.ESRCH))
            {
                if (fd >= 0) Posix.Close(fd);   // reaped: the pidfd (if any) may be another process's
                _ended = true;
                return;
            }
            if (fd >= 0) _fd = fd;
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
                    if (!HasExited(_process)) _table.KillTree(Pid, _start);
                    return;
                }
                using var tree = new LinuxProcessTree(Pid, _start, killRoot: true, _table.ProcIsOurs(), rootPidFd: _fd);
                tree.Kill();
                // The root could not be held by the tree (no descriptor left for its copy): killed through ours.
                if (tree.Pids.Length == 0) Signal(LibC.SIGKILL);
            }
        }

        public IProcessTree FindDescendants(ICollection<int>? passOver = null)
        {
            lock (_gate)
            {
                if (_ended) return new LinuxProcessTree(0, 0, killRoot: false, procIsOurs: false);
                if (_fd < 0) return HasExited(_process) ? new LinuxProcessTree(0, 0, false, false) : _table.FindDescendants(Pid, _start, passOver);
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
                    int errno = PidFd.Send(_fd, signal);
                    if (errno == 0 || errno == Errno.ESRCH) return;   // sent; or it has been reaped since: nobody is reached
                    // Refused (ENOSYS, EPERM): sent by pid after the check, as without a pidfd.
                    if (!HasExited(_process)) LibC.kill(Pid, signal);
                }
                else if (!HasExited(_process))
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
