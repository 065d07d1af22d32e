using System;
using System.Collections.Generic;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// A child of this process, held so that what is sent to it reaches it or, once it has ended, nothing — never an
    /// unrelated process that took its pid after .NET reaped it (<see cref="IProcessTable.Pin"/>). Linux: a pidfd, taken
    /// while the child was not reaped (then its pid was still its own); Windows: the child's <c>Process</c>, whose open
    /// handle keeps its pid from being reused. Made for one stop or kill and disposed at once (<c>using</c>), so it
    /// holds a descriptor only for that moment. After <see cref="IDisposable.Dispose"/>, or for a child that had been
    /// reaped when it was pinned, every call does nothing.
    /// </summary>
    internal interface IChildProcess : IDisposable
    {
        int Pid { get; }

        /// <summary>Asks the child to end cleanly (Linux: SIGTERM). False where there is no such request (Windows): ask through its channel.</summary>
        bool RequestStop();

        /// <summary>Ends the child at once (SIGKILL; TerminateProcess), alone.</summary>
        void Kill();

        /// <summary>Ends the child and every process descended from it (<see cref="IProcessTable.KillTree"/>, the root held as above).</summary>
        void KillTree();

        /// <summary>The child's descendants as they are now (<see cref="IProcessTable.FindDescendants"/>); empty once it has been reaped.</summary>
        IProcessTree FindDescendants(ICollection<int>? passOver = null);
    }
}
