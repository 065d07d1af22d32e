using System;

namespace IpcPs
{
    /// <summary>A put that could not wait, or waited in vain, found the queue full (CPython: queue.Full).</summary>
    public sealed class QueueFullException : IpcException
    {
        public QueueFullException(string name) : base($"The queue '{name}' is full.", name) { }
    }

    /// <summary>A get that could not wait, or waited in vain, found the queue empty (CPython: queue.Empty).</summary>
    public sealed class QueueEmptyException : IpcException
    {
        public QueueEmptyException(string name) : base($"The queue '{name}' is empty.", name) { }
    }

    /// <summary>
    /// The other end of a connection is closed, or every process that held it has died (CPython: EOFError on receive,
    /// BrokenPipeError on send), or a sender died in the middle of a message.
    /// </summary>
    public sealed class ConnectionClosedException : IpcException
    {
        public ConnectionClosedException(string name, string message) : base(message, name) { }
    }

    /// <summary>A message that can never fit: larger than the queue's whole storage, or than a receiver's limit.</summary>
    public sealed class MessageTooLargeException : IpcException
    {
        public MessageTooLargeException(string? name, long size, long limit, string what)
            : base($"The message is {size:N0} bytes; {what} {limit:N0} bytes.", name)
        {
            Size = size;
            Limit = limit;
        }

        /// <summary>The message's encoded size in bytes.</summary>
        public long Size { get; }

        /// <summary>The most that fits.</summary>
        public long Limit { get; }
    }

    /// <summary>Bytes that are not a message in IpcPs's wire format (a damaged or foreign payload).</summary>
    public sealed class MessageFormatException : IpcException
    {
        public MessageFormatException(string message, Exception? inner = null) : base(message, null, inner) { }
    }

    /// <summary>A joinable queue's TaskDone was called more times than items were put (CPython: ValueError).</summary>
    public sealed class TaskDoneException : IpcException
    {
        public TaskDoneException(string name) : base($"TaskDone was called more times than items were put on the queue '{name}'.", name) { }
    }
}
