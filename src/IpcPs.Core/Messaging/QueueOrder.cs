namespace IpcPs
{
    /// <summary>Which message a queue's Get takes next.</summary>
    public enum QueueOrder
    {
        /// <summary>First in, first out (CPython's Queue).</summary>
        Fifo,
        /// <summary>Last in, first out: a stack (CPython's LifoQueue).</summary>
        Lifo,
        /// <summary>Lowest priority number first, first in first out among equal priorities (CPython's PriorityQueue).</summary>
        Priority,
    }
}
