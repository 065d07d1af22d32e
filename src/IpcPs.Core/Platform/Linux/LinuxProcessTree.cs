using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// A process and its descendants, found from /proc/PID/stat's parent ids (<see cref="IProcessTree"/>).
    /// <list type="bullet">
    /// <item>Each process found is held by a pidfd (pidfd_open, Linux 5.3): a signal sent through it reaches that
    /// process or, once it has been reaped, none (ESRCH), never a later one with its id. The pidfd is taken after the
    /// process was found and its start time read again through /proc afterwards: equal, so the pidfd is the process
    /// found. Where there are no pidfds (an older kernel, a seccomp filter), the start time is read again before every
    /// signal instead (a few microseconds in which the process could end and its id be reused); so too, by pid, where a
    /// pidfd was had but pidfd_send_signal is refused (ENOSYS, EPERM: a sandbox), else every signal would be lost.</item>
    /// <item>A parent link is believed only while the parent still runs: a process is taken as a child of a held one
    /// when its parent id is that process's and the held process is found running after the child's parent id was
    /// read (then the id was its own all along). A parent that has ended may have had its id reused.</item>
    /// <item>A process that leads a session (it called setsid: a daemon, a `setsid` program, a -Detached child through
    /// <see cref="IProcessTable.LeaveParentTree"/>) has left its starter's session to outlive it: it is not taken, nor
    /// what it started.</item>
    /// <item>The walk scans /proc until a pass finds nothing new (a child may have a lower id than its parent). Killing
    /// stops each process with SIGSTOP as it is found (a stopped process starts nothing; its children stay linked to it
    /// and, since it reaps nothing, their ids stay theirs), then SIGKILLs them all. Best effort at the edge: a fork that
    /// was already under way when its parent's SIGSTOP came can complete after the last pass, and that child then
    /// outlives the kill (as with .NET's Process.Kill(entireProcessTree)).</item>
    /// </list>
    /// </summary>
    internal sealed class LinuxProcessTree : IProcessTree
    {
        private readonly List<Held> _held = new List<Held>();   // every process found, the root first
        private readonly ICollection<int>? _passOver;
        private readonly Dictionary<int, Held> _byPid = new Dictionary<int, Held>();
        private readonly bool _killRoot;
        private readonly bool _procIsOurs;

        private sealed class Held
        {
            public Held(int pid, long start, int pidFd)
            {
                Pid = pid;
                Start = start;
                PidFd = pidFd;
            }

            public int Pid { get; }
            public long Start { get; }
            public int PidFd { get; set; }   // -1: none (no pidfds here); closed by Dispose
            public bool Stopped { get; set; }
        }

        /// <summary>
        /// The tree under PID (started at START; 0 when not known), walked now. KILLROOT: <see cref="Kill"/> ends PID too,
        /// and the walk stops every process as it finds it (the kill follows). PROCISOURS false (/proc shows another pid
        /// namespace): the tree holds PID alone, and a kill is kill(2) of PID as <see cref="IProcessTable.Kill"/>.
        /// ROOTPIDFD: a pidfd of PID held by the caller (<see cref="LinuxChild"/>): the root is held by a copy of it, taken
        /// by no pid at all; no copy (no descriptor left): the tree holds nothing, and the caller kills through its own.
        /// </summary>
        public LinuxProcessTree(int pid, long start, bool killRoot, bool procIsOurs, ICollection<int>? passOver = null, int rootPidFd = -1)
        {
            _killRoot = killRoot;
            _passOver = passOver;
            _procIsOurs = procIsOurs;
            if (pid <= 0) return;
            Held? root;
            if (rootPidFd >= 0)
            {
                int copy = LibC.fcntl(rootPidFd, LibC.F_DUPFD_CLOEXEC, 0);
                root = copy < 0 ? null : new Held(pid, start, copy);
            }
            else root = procIsOurs ? Hold(pid, start, exact: start != 0) : new Held(pid, 0, -1);
            if (root is null) return;
            _held.Add(root);
            _byPid[pid] = root;
            if (!procIsOurs) return;
            if (killRoot) Stop(root);
            Walk(freeze: killRoot);
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
            if (!_procIsOurs)
            {
                // As IProcessTable.Kill, nothing else being known; through the root's pidfd when the caller gave one (a
                // send refused: by pid unless the pidfd shows it has exited; /proc, another namespace's, cannot tell).
                if (!_killRoot) return;
                var root = _held[0];
                int errno = root.PidFd >= 0 ? PidFd.Send(root.PidFd, LibC.SIGKILL) : -1;
                if (errno != 0 && errno != Errno.ESRCH && (root.PidFd < 0 || Exited(root) != true)) LibC.kill(root.Pid, LibC.SIGKILL);
                return;
            }
            // Stop what is held (the root first, so it starts nothing more), then find what they started since.
            foreach (var h in _held) Stop(h);
            Walk(freeze: true);
            foreach (var h in _held) if (h != _held[0] || _killRoot) Signal(h, LibC.SIGKILL);
        }

        private void Stop(Held h)
        {
            if (h.Stopped || (h == _held[0] && !_killRoot)) return;   // a root that is to live is never stopped
            h.Stopped = true;
            Signal(h, LibC.SIGSTOP);
        }

        /// <summary>Adds the children of held processes until a pass over /proc finds none; FREEZE stops each as found.</summary>
        private void Walk(bool freeze)
        {
            bool found = true;
            while (found)
            {
                found = false;
                foreach (int pid in ListPids())
                {
                    if (_byPid.ContainsKey(pid)) continue;
                    if (!ReadStat(pid, out char state, out int parent, out int session, out long start) || IsDead(state)) continue;
                    // A session leader left its starter's session (setsid: a daemon, a -Detached child): not walked.
                    if (session == pid) continue;
                    // Passed over (a process that ends its own tree): not held, so nothing under it is reached either.
                    if (_passOver != null && _passOver.Contains(pid)) continue;
                    // The parent id read above is the held process's only if that process still runs now.
                    if (!_byPid.TryGetValue(parent, out var held) || !Runs(held)) continue;
                    var child = Hold(pid, start, exact: true);
                    if (child is null) continue;
                    _held.Add(child);
                    _byPid[pid] = child;
                    found = true;
                    if (freeze) Stop(child);
                }
            }
        }

        /// <summary>PID as a held process: its pidfd, taken now, and its start (EXACT: it must be START, read earlier).</summary>
        private static Held? Hold(int pid, long start, bool exact)
        {
            int fd = (int)LibC.syscall(LibC.SYS_pidfd_open, pid, 0, 0, 0);
            if (fd < 0 && Posix.LastErrno == Errno.ESRCH) return null;   // it has ended
            // After the pidfd: the same start means the pidfd names the process that was found.
            if (!ReadStat(pid, out char state, out _, out _, out long now) || IsDead(state) || (exact && now != start))
            {
                if (fd >= 0) Posix.Close(fd);
                return null;
            }
            return new Held(pid, now, fd);
        }

        /// <summary>Whether H still runs (not ended, not a zombie): its pidfd is not readable, or its start is unchanged.</summary>
        private static bool Runs(Held h)
        {
            if (h.PidFd >= 0) return Exited(h) == false;   // not known (poll failed): not believed
            return SameStart(h);
        }

        /// <summary>Whether H's pidfd is readable (it has exited: its pid may be reaped and reused), or null when poll failed (EINTR, ENOMEM).</summary>
        private static unsafe bool? Exited(Held h)
        {
            var poll = new LibC.PollFd { Fd = h.PidFd, Events = LibC.POLLIN };
            int n = LibC.poll(&poll, (UIntPtr)1, 0);
            return n < 0 ? (bool?)null : n > 0;
        }

        /// <summary>Whether PID is H's still: it runs (no zombie) with the start read when it was held (a start not known matches nothing).</summary>
        private static bool SameStart(Held h) =>
            h.Start != 0 && ReadStat(h.Pid, out char state, out _, out _, out long now) && !IsDead(state) && now == h.Start;

        /// <summary>
        /// Sends SIGNAL to H only: through its pidfd, or by pid after a check that the pid is still H's. The check, where
        /// the pidfd's send is refused (ENOSYS, EPERM): the pidfd not readable (H has not exited, so not been reaped: its
        /// pid is its own), or, poll failing, its start time read again; without a pidfd, its start time read again. Either
        /// leaves microseconds in which H could end, be reaped and its pid be reused before the kill(2), as before pidfds.
        /// </summary>
        private static void Signal(Held h, int signal)
        {
            if (h.PidFd >= 0)
            {
                int errno = PidFd.Send(h.PidFd, signal);
                if (errno == 0 || errno == Errno.ESRCH) return;   // sent; or reaped already: nobody is reached
                if (Exited(h) is bool exited ? !exited : SameStart(h)) LibC.kill(h.Pid, signal);
            }
            else if (SameStart(h)) LibC.kill(h.Pid, signal);
        }

        private static bool IsDead(char state) => state == 'Z' || state == 'X' || state == 'x';

        private static bool ReadStat(int pid, out char state, out int parent, out int session, out long start)
        {
            state = '\0';
            parent = session = 0;
            start = 0;
            var buffer = new byte[4096];
            int n = Posix.TryReadSmallFile("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat", buffer);
            return n > 0 && ProcStat.TryParseTree(Encoding.UTF8.GetString(buffer, 0, n), out state, out parent, out session, out start);
        }

        /// <summary>The ids in /proc now (processes, not threads: /proc lists thread group leaders only).</summary>
        private static List<int> ListPids()
        {
            var pids = new List<int>();
            try
            {
                foreach (string path in Directory.EnumerateDirectories("/proc"))
                    if (int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) pids.Add(pid);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { /* what was listed */ }
            return pids;
        }

        public void Dispose()
        {
            foreach (var h in _held)
                if (h.PidFd >= 0)
                {
                    Posix.Close(h.PidFd);
                    h.PidFd = -1;
                }
        }
    }
}
