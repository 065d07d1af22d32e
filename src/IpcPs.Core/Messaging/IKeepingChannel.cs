namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// A channel whose handle may keep messages that a batch receive took and did not hand out (a local queue, a pipe
    /// end, a Redis queue; <see cref="KeptMessages"/>). Receive-IpcMessage empties it before it reports a damaged
    /// message, so that the messages its batch took after that one are output, not left in a handle it may close.
    /// </summary>
    internal interface IKeepingChannel
    {
        /// <summary>
        /// The next message this handle keeps, never one from the shared object: false when it keeps none. A damaged
        /// one is consumed and throws, as its single receive does.
        /// </summary>
        bool TryReceiveKept(out object? message);
    }
}
