using System;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Processes found by walking down from one of them (its children, theirs, …), each held so that a kill reaches that
    /// very process and never a later one that reused its id (Linux: a pidfd each, or where there is none its start
    /// time read again before each signal; Windows: a handle each, which keeps its id from being reused). Dispose lets
    /// them go. Made by <see cref="IProcessTable.FindDescendants"/> and <see cref="IProcessTable.KillTree"/>.
    /// </summary>
    internal interface IProcessTree : IDisposable
    {
        /// <summary>The ids of the processes held, the ones to be killed (tests, diagnostics).</summary>
        int[] Pids { get; }

        /// <summary>
        /// Ends every process held and everything descended from them by now: the walk goes on from those still
        /// running, so what they have started since is ended too. Processes that have ended already are skipped.
        /// </summary>
        void Kill();
    }
}
