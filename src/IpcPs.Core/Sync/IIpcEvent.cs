using System;
using System.Threading;

namespace IpcPs
{
    /// <summary>An event, local or remote: what Set-IpcEvent, Reset-IpcEvent and Wait-IpcEvent need.</summary>
    public interface IIpcEvent
    {
        string Name { get; }
        void Set();
        void Clear();
        bool IsSet();

        /// <summary>True when set, False when TIMEOUT passed first (negative or infinite: no limit); CANCEL ends the wait.</summary>
        bool Wait(TimeSpan timeout, CancellationToken cancel);
    }

    /// <summary>A barrier, local or remote: what Wait-IpcBarrier needs.</summary>
    public interface IIpcBarrier
    {
        string Name { get; }
        int Parties { get; }

        /// <summary>The arrival index (0 … Parties-1); TIMEOUT null: the barrier's default. BrokenBarrierException when broken.</summary>
        int Wait(TimeSpan? timeout, CancellationToken cancel);
    }

    /// <summary>A joinable queue, local or remote: what Wait-IpcQueue needs.</summary>
    public interface IJoinableChannel : IMessageChannel
    {
        bool IsJoinable { get; }

        /// <summary>True when every item put has been marked done, False when TIMEOUT passed first.</summary>
        bool Join(TimeSpan timeout, CancellationToken cancel);
    }
}
