using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Sync
{
    /// <summary>
    /// A process as shared words record it (lock words, semaphore, barrier and pipe slots): one i64, pid in bits
    /// 0..29 and the low 32 bits of its start time (clock ticks since boot) in bits 32..63; bits 30 and 31 are free
    /// for the word's own flags (a lock's waiters bit). 0 means no process. Written and compared whole, so a holder's
    /// pid and start time always change together.
    /// </summary>
    internal static class HolderId
    {
        public const long PidMask = 0x3FFFFFFF;
        public const long FlagBits = 0xC0000000L;

        /// <summary>This process.</summary>
        public static readonly long Me = Of(ProcessIdentity.Current);

        public static readonly int MyPid = Pid(Me);

        public static long Of(ProcessIdentity p) => Of(p.Pid, p.Start);

        public static long Of(int pid, long start) => (pid & PidMask) | ((long)(uint)start << 32);

        public static int Pid(long id) => (int)(id & PidMask);

        public static uint Start(long id) => (uint)((ulong)id >> 32);

        /// <summary>ID without the flag bits.</summary>
        public static long Identity(long id) => id & ~FlagBits;
    }

    /// <summary>Whether a process recorded in shared memory is known to be gone. Fails closed: unknown is never gone.</summary>
    internal static class Liveness
    {
        /// <summary>
        /// True only when the process PID with start time START32 (low 32 bits; 0: not recorded, judged by pid alone)
        /// has ended: no such pid, a zombie, a thread of another process, or another process that reused the pid.
        /// A pid of 0 or less names no process: gone. This process's own pid with another start time is an earlier
        /// process that this one reused the pid of: gone.
        /// </summary>
        public static bool IsGone(int pid, uint start32)
        {
            if (pid <= 0) return true;
            if (pid == HolderId.MyPid) return start32 != 0 && start32 != HolderId.Start(HolderId.Me);
            return Platforms.Current.Processes.Check(pid, start32, start32 == 0 ? 0 : 0xFFFFFFFFL) == ProcessState.Gone;
        }

        /// <summary><see cref="IsGone(int, uint)"/> of a <see cref="HolderId"/> (its flag bits ignored).</summary>
        public static bool IsGone(long holder) => IsGone(HolderId.Pid(holder), HolderId.Start(holder));
    }
}
