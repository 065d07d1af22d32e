using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// A child held by its Process (<see cref="IChildProcess"/>): the handle .NET keeps open from its start until the
    /// Process is disposed keeps Windows from giving its pid to another process, so its pid may be used while the
    /// Process has not been disposed (the owner disposes it only once the child has exited). The start time recorded
    /// at the launch (else read at the pin) makes the tree walk's root that very process as well. No polite stop: the caller asks through the
    /// child's channel.
    /// </summary>
    internal sealed class WindowsChild : IChildProcess
    {
        private readonly WindowsProcesses _table;
        private readonly long _start;
        private bool _ended;

        /// <summary>CHILD, pinned now. START: its start recorded at its launch (0: not known, read now).</summary>
        public WindowsChild(Process child, long start, WindowsProcesses table)
        {
            _table = table;
            try
            {
                Pid = child.Id;
                _ended = child.HasExited;
            }
            catch (InvalidOperationException) { _ended = true; }   // disposed: its owner is done with it
            if (!_ended) _start = start != 0 ? start : table.Find(Pid)?.Start ?? 0;
        }

        public int Pid { get; }

        public bool RequestStop() => false;

        public void Kill()
        {
            if (!_ended) _table.Kill(Pid);
        }

        public void KillTree()
        {
            if (!_ended) _table.KillTree(Pid, _start);
        }

        public IProcessTree FindDescendants(ICollection<int>? passOver = null) =>
            _table.FindDescendants(_ended ? 0 : Pid, _start, passOver);

        public void Dispose() => _ended = true;
    }
}
