namespace IpcPs.Tests
{
    /// <summary>
    /// The test program's entry point. "worker ROLE ARGS…" runs one participant of a cross-process test (the chaos
    /// test starts such workers and SIGKILLs them), "crash …" one operation of the crash-injection matrix
    /// (CrashInjectionWorker), "protocol" a worker driven by commands on its standard input (ProtocolWorker), "redis-worker"
    /// a participant of the Redis backend tests (RedisWorker), "platform-worker ROLE …" one of the platform-layer tests
    /// (PlatformWorker), "stdin-worker …" a child of WindowsStandardInputTests, "output-worker …" one of WindowsOutputHandlesTests; anything
    /// else is xunit's own in-process runner with its arguments.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "worker") return ChaosWorker.Run(args);
            if (args.Length > 0 && args[0] == "platform-worker") return PlatformWorker.Run(args);
            if (args.Length > 0 && args[0] == "redis-worker") return RedisWorker.Run(args);
            if (args.Length > 0 && args[0] == "crash") return CrashInjectionWorker.Run(args);
            if (args.Length > 0 && args[0] == "protocol") return ProtocolWorker.Run(args);
            if (args.Length > 0 && args[0] == "stdin-worker") return WindowsStandardInputTests.Run(args);
            if (args.Length > 0 && args[0] == "output-worker") return WindowsOutputHandlesTests.Run(args);
            return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
        }
    }
}
