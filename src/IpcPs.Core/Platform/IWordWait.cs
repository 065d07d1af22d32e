namespace IpcPs.Core.Platform
{
    /// <summary>Blocking on a 32-bit word of shared memory, woken from any process (Linux: futex).</summary>
    internal unsafe interface IWordWait
    {
        /// <summary>Sleeps while *ADDRESS == EXPECTED, at most TIMEOUT ms (-1: no limit). False only on timeout; may return early.</summary>
        bool Wait(int* address, int expected, int timeoutMilliseconds);

        /// <summary>Wakes up to COUNT sleepers on ADDRESS.</summary>
        void Wake(int* address, int count);
    }
}
