using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The module's own pipe traffic (pool workers and their parent), which a user's Ctrl+C must not cut: the methods
    /// Send and Recv wait with the calling pipeline's interrupt (<see cref="Core.IIpcHost.Interrupt"/>), and a pool
    /// that replaces its busy workers while its call is being stopped, or a worker whose console got the terminal's
    /// SIGINT, must still talk. These wait without it.
    /// </summary>
    internal static class UninterruptedCalls
    {
        public static void SendNow(this IpcConnection end, object? message) =>
            ((IMessageChannel)end).TrySend(message, null, null, Timeout.InfiniteTimeSpan, CancellationToken.None);

        public static object? RecvNow(this IpcConnection end)
        {
            ((IMessageChannel)end).TryReceive(Timeout.InfiniteTimeSpan, CancellationToken.None, out var message);
            return message;
        }
    }
}
