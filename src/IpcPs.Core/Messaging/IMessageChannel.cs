using System;
using System.Threading;

namespace IpcPs
{
    /// <summary>What Send-IpcMessage and Receive-IpcMessage work with: a queue or a pipe end.</summary>
    public interface IMessageChannel
    {
        string Name { get; }

        /// <summary>How deep the PowerShell serializer goes into objects that are not primitives (default 2).</summary>
        int SerializationDepth { get; set; }

        /// <summary>Whether messages carry a priority here (a priority queue): Send-IpcMessage reads a piped object's Priority property only then.</summary>
        bool TakesPriority { get; }

        /// <summary>
        /// Sends MESSAGE, waiting at most TIMEOUT for room (Zero: not at all; negative: no limit). False when there was
        /// no room in time. PRIORITY only for a priority queue; DEPTH overrides SerializationDepth for this message.
        /// </summary>
        bool TrySend(object? message, long? priority, int? depth, TimeSpan timeout, CancellationToken cancel);

        /// <summary>Receives one message, waiting at most TIMEOUT. False when none came; ConnectionClosedException at a pipe's end.</summary>
        bool TryReceive(TimeSpan timeout, CancellationToken cancel, out object? message);
    }
}
