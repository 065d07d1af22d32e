namespace IpcPs.Tests
{
    /// <summary>
    /// The test program's entry point. "worker ROLE ARGS…" runs one participant of a cross-process test (the chaos
    /// test starts such workers and SIGKILLs them); anything else is xunit's own in-process runner with its arguments.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "worker") return ChaosWorker.Run(args);
            if (args.Length > 0 && args[0] == "redis-worker") return RedisWorker.Run(args);
            return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
        }
    }
}
