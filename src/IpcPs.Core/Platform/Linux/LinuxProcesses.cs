using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using IpcPs.Core.Lifecycle;

namespace IpcPs.Core.Platform.Linux
{
    /// <summary>
    /// Process liveness from kill(2) and /proc, failing closed: a process is Gone only when the kernel says so — no
    /// process or thread has the id (ESRCH, from kill(pid, 0), which needs no descriptor; or ENOENT/ESRCH from /proc
    /// confirmed by kill), it is a zombie (or dead) with no live thread, its start time differs from the recorded one,
    /// or the id is a thread of another process (Tgid ≠ pid). Anything that prevents knowing (no descriptor left,
    /// ENOMEM, an unreadable or foreign /proc) is Unknown, which callers treat as alive.
    /// </summary>
    internal sealed class LinuxProcesses : IProcessTable
    {
        private static readonly int OwnPid = Process.GetCurrentProcess().Id;
        private readonly object _gate = new object();
        private ProcessIdentity? _current;
        private uint _pidNamespace;
        private int _procIsOurs;   // 0 not known yet, 1 yes, -1 no: /proc is another pid namespace's

        public ProcessIdentity Current
        {
            get
            {
                lock (_gate)
                {
                    if (_current is ProcessIdentity known) return known;
                    // Not cached on failure (a process short of descriptors at its first call must not fail for ever).
                    int pid = OwnPid;
                    string? stat = ReadProc("self/stat", out int errno);
                    if (stat is null || !ProcStat.TryParse(stat, out _, out _, out long start))
                        throw new IpcPlatformException("read /proc/self/stat", errno == 0 ? Errno.EINVAL : errno, null);
                    _current = new ProcessIdentity(pid, start);
                    return _current.Value;
                }
            }
        }

        public uint PidNamespace
        {
            get
            {
                if (_pidNamespace != 0) return _pidNamespace;
                try { _pidNamespace = (uint)(Posix.Stat("/proc/self/ns/pid")?.Inode ?? 0); }
                catch (IpcPlatformException) { }   // unknown this time; asked again next time
                return _pidNamespace;
            }
        }

        public ProcessState Check(int pid, long start, long startMask)
        {
            if (pid <= 0) return ProcessState.Gone;
            if (!ProcIsOurs()) return ProcessState.Unknown;
            if (!Posix.IdExists(pid)) return ProcessState.Gone;
            string? stat = ReadProc(pid + "/stat", out int errno);
            if (stat is null) return NotReadable(pid, errno);
            if (!ProcStat.TryParse(stat, out char state, out int threads, out long now)) return ProcessState.Unknown;
            // A zombie leader whose other threads still run is a live process (its threads hold what it held).
            if (state == 'X' || state == 'x' || (state == 'Z' && threads <= 1)) return ProcessState.Gone;
            if (((now ^ start) & startMask) != 0) return ProcessState.Gone;
            // Same start: make sure the id names a process, not a thread of another one (/proc/TID exists too).
            string? status = ReadProc(pid + "/status", out errno);
            if (status is null) return NotReadable(pid, errno);
            if (!ProcStat.TryParseTgid(status, out int tgid)) return ProcessState.Unknown;
            return tgid == pid ? ProcessState.Running : ProcessState.Gone;
        }

        public IChildProcess Pin(Process child, long start = 0) => new LinuxChild(child, start, this);

        public void Kill(int pid) => LibC.kill(pid, LibC.SIGKILL);

        public IProcessTree FindDescendants(int pid, long start, ICollection<int>? passOver = null) =>
            new LinuxProcessTree(pid, start, killRoot: false, ProcIsOurs(), passOver);

        public void KillTree(int pid, long start)
        {
            using var tree = new LinuxProcessTree(pid, start, killRoot: true, ProcIsOurs());
            tree.Kill();
            // PID could not be held (its /proc entry or a handle could not be read): killed alone unless known to be another's.
            if (tree.Pids.Length == 0 && Check(pid, start, start == 0 ? 0 : -1) != ProcessState.Gone) Kill(pid);
        }

        public bool LeaveParentTree() => LibC.setsid() >= 0;   // EPERM: it leads a process group already

        /// <summary>Linux: only a process itself can leave its session (setsid(2)).</summary>
        public bool PutOutOfTree(int pid, long start) => false;

        public bool HasLeftTree(int pid, long start)
        {
            if (pid <= 0 || !ProcIsOurs()) return false;
            string? stat = ReadProc(pid + "/stat", out _);
            return stat != null && ProcStat.TryParseTree(stat, out char state, out _, out int session, out long now)
                && state != 'Z' && state != 'X' && (start == 0 || now == start) && session == pid;
        }

        public string? OutOfTreeLauncher { get; } = System.IO.File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : System.IO.File.Exists("/bin/setsid") ? "/bin/setsid" : null;

        public ProcessIdentity? Find(int pid)
        {
            if (pid <= 0 || !ProcIsOurs()) return null;
            string? stat = ReadProc(pid + "/stat", out _);
            if (stat is null || !ProcStat.TryParse(stat, out char state, out _, out long start) || state == 'Z' || state == 'X') return null;
            return new ProcessIdentity(pid, start);
        }

        /// <summary>/proc/PID/… could not be read: gone only if the kernel confirms that no such id exists.</summary>
        private static ProcessState NotReadable(int pid, int errno) =>
            (errno == Errno.ENOENT || errno == Errno.ESRCH) && !Posix.IdExists(pid) ? ProcessState.Gone : ProcessState.Unknown;

        /// <summary>
        /// Whether /proc shows this process's pid namespace: a /proc mounted for another one (a process moved into a
        /// new pid namespace without remounting it) would answer for other processes than the pids name.
        /// </summary>
        internal bool ProcIsOurs()
        {
            if (_procIsOurs != 0) return _procIsOurs > 0;
            try
            {
                ulong self = Posix.Stat("/proc/self")?.Inode ?? 0;
                ulong mine = Posix.Stat("/proc/" + OwnPid)?.Inode ?? 0;
                _procIsOurs = self != 0 && self == mine ? 1 : -1;
            }
            catch (IpcPlatformException) { return false; }   // not known this time
            return _procIsOurs > 0;
        }

        /// <summary>The text of /proc/PATH (its first 4 KiB, all IpcPs reads), or null with ERRNO set.</summary>
        private static string? ReadProc(string path, out int errno)
        {
            var buffer = new byte[4096];
            int n = Posix.TryReadSmallFile("/proc/" + path, buffer);
            errno = n < 0 ? -n : 0;
            return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, n);
        }
    }
}
