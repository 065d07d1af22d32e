using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;

namespace IpcPs
{
    /// <summary>
    /// A channel that moves many messages per lock acquisition and wake-up call (a queue, a pipe end): what
    /// Send-IpcMessage and Receive-IpcMessage use when the channel has it. A separate interface, so that channels of
    /// other backends (Redis) keep working through <see cref="IMessageChannel"/> alone.
    /// </summary>
    public interface IBatchChannel : IMessageChannel
    {
        /// <summary>
        /// Sends every message of MESSAGES in order, waiting at most TIMEOUT (Zero: not at all; negative: no limit).
        /// Returns how many were sent: a queue sends all or none (-1: no room for the whole batch in time); a pipe sends
        /// them in order and may have sent the first ones when it times out.
        /// </summary>
        int TrySendMany(IEnumerable messages, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel);

        /// <summary>
        /// Receives up to MAX messages into INTO: waits at most TIMEOUT for the first, then takes only what is there.
        /// Returns how many (0: none in time). ConnectionClosedException at a pipe's end when nothing is left. A damaged
        /// message is met as single receives would meet it: those before it are added and returned, it fails the next
        /// receive (this one when it is the first), those after it are kept by the handle and handed out first (KeptMessages).
        /// </summary>
        int TryReceiveMany(int max, TimeSpan timeout, CancellationToken cancel, ICollection<object?> into);

        /// <summary>The most messages one batch can ever hold (a bounded queue's MaxSize), int.MaxValue when unbounded.</summary>
        int MaxBatch { get; }
    }
}
