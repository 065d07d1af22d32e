namespace IpcPs.Hosting
{
    /// <summary>
    /// A pool worker's progress word: offset 0 of an 8-byte segment, one int64, written by the worker only (before and
    /// after each item, and -1 at each call) and read by the parent only after the worker died:
    ///   i ≥ 0       the worker is running item i (it began it and has not finished it);
    ///   -1          it has begun no item of this call;
    ///   -(i + 2)    it finished item i and has begun no other since.
    /// So a worker that died between items (killed while it waited for its next chunk, or reading one) blames none.
    /// </summary>
    internal static class PoolProgress
    {
        public const int Size = 8;
        public const long None = -1;

        public static long Running(long index) => index;

        public static long Finished(long index) => -index - 2;

        /// <summary>True when WORD says an item is running; INDEX is then that item, else the item finished last (-1: none).</summary>
        public static bool IsRunning(long word, out long index)
        {
            index = word >= 0 ? word : word == None ? -1 : -word - 2;
            return word >= 0;
        }
    }
}
