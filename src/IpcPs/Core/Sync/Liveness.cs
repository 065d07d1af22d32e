using IpcPs.Core.Platform;

namespace IpcPs.Core.Sync
{
    /// <summary>Whether a pid recorded in shared memory still names a running (non-zombie) process.</summary>
    internal static class Liveness
    {
        public static bool IsRunning(int pid) => pid > 0 && Platforms.Current.Processes.Find(pid) != null;
    }
}
