namespace IpcPs.Core.Platform.Linux
{
    /// <summary>pidfd_send_signal(2), the one way IpcPs signals a process it holds by a pidfd.</summary>
    internal static class PidFd
    {
        /// <summary>
        /// Sends SIGNAL to the process of pidfd FD: 0 when sent, else the errno. ESRCH: it has been reaped, nobody is
        /// reached. Anything else (ENOSYS, EPERM: a seccomp filter or sandbox that allows pidfd_open but not this) means
        /// nothing was sent and the caller must signal by pid, after its own check that the pid is still the process's.
        /// </summary>
        public static int Send(int fd, int signal)
        {
            if (SignalSeam.PidFdSendErrno != 0) return SignalSeam.PidFdSendErrno;
            return LibC.syscall(LibC.SYS_pidfd_send_signal, fd, signal, 0, 0) == 0 ? 0 : Posix.LastErrno;
        }
    }
}
