using System;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Test seam: called with the target's pid just before IpcPs signals one of its own children (Linux), after every
    /// check that the child has not been reaped. A test makes the child end there, be reaped and its pid be taken by an
    /// unrelated process, to show that the signal then reaches nobody (tests/IpcPs.Tests/PidReuseSignalTests). Null
    /// outside those tests: nothing is called. <see cref="PidFdSendErrno"/>: not 0, every pidfd_send_signal(2) fails with
    /// that errno without sending (a sandbox that allows pidfd_open but not the send), to show that signals are then sent
    /// by pid instead (tests/IpcPs.Tests/PidFdSendRefusedTests).
    /// </summary>
    internal static class SignalSeam
    {
        internal static Action<int>? BeforeSignal;

        internal static volatile int PidFdSendErrno;

        internal static void Reached(int pid) => BeforeSignal?.Invoke(pid);
    }
}
