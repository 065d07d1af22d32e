using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A pool worker: a warm child pwsh that runs item after item of Invoke-IpcPool in a runspace of its own, fed
    /// through its own pipe (<see cref="IpcConnection"/>). The protocol (docs/design.md, "Process pool"), every
    /// message an object[] whose first element says what it is:
    ///   parent → worker: ["start", initializationScript, managerKeys, progressSegment] (first), ["call", callId, script,
    ///   arguments, using, depth, managerKeys] (keys again: the parent may have learnt more), ["chunk", callId, indexes,
    ///   items], ["quit"]
    ///   worker → parent: ["ready", pid, initError], ["done", callId, results, ticks] (see <see cref="PoolChunk"/>)
    /// records are [kind, payload] pairs in the order written (E error, W warning, V verbose, D debug, I information).
    /// </summary>
    public static class PoolWorker
    {
        /// <summary>The worker's entry point (<see cref="ChildLauncher"/> runs it): the exit code of the process.</summary>
        public static int Run(string pipeName) => Run(pipeName, null, Console.OpenStandardInput());

        /// <summary>As <see cref="Run(string)"/>, in WARM (a warm spare's runspace, already open) if given.</summary>
        internal static int Run(string pipeName, ChildRunspace? warm, System.IO.Stream stdin)
        {
            ChildChannel.WatchParentInBackground(stdin);
            using (var pipe = IpcConnection.Open(pipeName, 1))
            using (var runspace = warm ?? ChildRunspace.Open(null, null))
            using (var shell = runspace.Shell())
            {
                // The parent's first message: the initialization script (through the pipe, not on the command line,
                // which any local user can read in /proc) and the manager keys, so that script can use proxies too.
                object? first;
                try { first = pipe.RecvNow(); }
                catch (ConnectionClosedException) { return 0; }   // the parent died before the worker started
                if (!(first is object?[] start && start.Length > 3 && start[0] as string == "start" && start[3] is string progressName))
                    throw new InvalidOperationException("The pool sent no start message.");
                // The progress word: the input index of the item this worker began last (see PoolChunk).
                using var progress = SharedMemory.Attach(progressName);
                if (progress.Size < PoolWorkerProcess.ProgressSize) throw new InvalidOperationException("The pool's progress segment is too small.");
                string? initializationScript = start[1] as string;
                ManagerKeys.Adopt(start[2]);
                var records = new List<object?>();
                Collect(shell.Streams, records);
                object? initError = null;
                if (!string.IsNullOrEmpty(initializationScript))
                {
                    try { shell.AddScript(initializationScript, false).Invoke(); }
                    catch (RuntimeException e) { initError = ChildProtocol.DescribeError(e.ErrorRecord); }
                    shell.Commands.Clear();
                    if (initError is null && shell.Streams.Error.Count > 0) initError = ChildProtocol.DescribeError(shell.Streams.Error[0]);
                    shell.Streams.ClearStreams();
                    records.Clear();
                }
                pipe.SendNow(new object?[] { "ready", System.Diagnostics.Process.GetCurrentProcess().Id, initError });
                if (initError != null) return 1;
                return Serve(pipe, runspace, shell, records, progress);
            }
        }

        private static int Serve(IpcConnection pipe, ChildRunspace runspace, PowerShell shell, List<object?> records, SharedMemory progress)
        {
            var argumentHandles = new List<IpcObject>();
            // Script blocks by text, kept across calls: PowerShell compiles a script block (and JIT-compiles its
            // loops) once it has run a few times, and a pool called again with the same script keeps that work.
            // Each entry: the script, and the same as a process block (null when it cannot be one: see PoolScript).
            var compiled = new Dictionary<string, (ScriptBlock Script, ScriptBlock? ProcessBlock)>();
            var script = new PoolScript();
            // The driver: each chunk is one invocation of it, in which PoolChunk steps the call's pipeline item by item.
            shell.Commands.Clear();
            shell.AddScript("[IpcPs.Hosting.PoolChunk]::Step()");
            while (true)
            {
                object?[] message;
                try { message = (object?[])pipe.RecvNow()!; }
                catch (ConnectionClosedException) { return 0; }   // the pool was removed, or the parent died
                switch (message[0] as string)
                {
                    case "call":
                        CloseAll(argumentHandles);
                        ManagerKeys.Adopt(message[6]);
                        object? args = message[3];
                        argumentHandles.AddRange(IpcObjectConverter.FindHandles(args));
                        argumentHandles.AddRange(IpcObjectConverter.FindHandles(message[4]));
                        var state = runspace.Runspace.SessionStateProxy;
                        string text = (string)message[2]!;
                        if (!compiled.TryGetValue(text, out var blocks))
                        {
                            if (compiled.Count >= 64) compiled.Clear();
                            var parsed = ScriptBlock.Create(text);
                            compiled[text] = blocks = (parsed, PoolScript.ToProcessBlock(parsed));
                        }
                        script.Configure(state, blocks.Script, blocks.ProcessBlock, args as object?[] ?? Array.Empty<object?>());
                        state.SetVariable(ChildRunspace.UsingVariable, message[4] as Hashtable ?? new Hashtable());
                        pipe.SerializationDepth = message[5] is int depth ? depth : 2;
                        progress.WriteInt64(0, -1);   // indexes are per call
                        break;
                    case "chunk":
                        var indexes = ToIndexes(message[2]);
                        var items = message[3] as object?[] ?? Array.Empty<object?>();
                        if (indexes.Length != items.Length) throw new InvalidOperationException("The pool sent a malformed chunk.");
                        try
                        {
                            PoolChunk.Run(script, shell, runspace.Host, records, (int)message[1]!, indexes, items, m => pipe.SendNow(m), progress);
                        }
                        catch (ConnectionClosedException) { return 0; }
                        records.Clear();
                        foreach (var item in items) CloseAll(IpcObjectConverter.FindHandles(item).ToList());   // what the items re-attached
                        break;
                    case "quit":
                        CloseAll(argumentHandles);
                        return 0;
                }
            }
        }

        private static long[] ToIndexes(object? value) => value switch
        {
            long[] a => (long[])a.Clone(),
            object?[] a => a.Select(Convert.ToInt64).ToArray(),
            _ => throw new InvalidOperationException("The pool sent a malformed chunk."),
        };

        /// <summary>Every record but output and progress, as [kind, payload], in the order written.</summary>
        private static void Collect(PSDataStreams streams, List<object?> records)
        {
            streams.Error.DataAdded += (s, e) => records.Add(new object?[] { "E", ChildProtocol.DescribeError(streams.Error[e.Index]) });
            streams.Warning.DataAdded += (s, e) => records.Add(new object?[] { "W", streams.Warning[e.Index].Message });
            streams.Verbose.DataAdded += (s, e) => records.Add(new object?[] { "V", streams.Verbose[e.Index].Message });
            streams.Debug.DataAdded += (s, e) => records.Add(new object?[] { "D", streams.Debug[e.Index].Message });
            streams.Information.DataAdded += (s, e) => records.Add(new object?[] { "I", ChildProtocol.DescribeInformation(streams.Information[e.Index]) });
        }

        private static void CloseAll(List<IpcObject> handles)
        {
            foreach (var h in handles)
            {
                try { h.Close(); }
                catch (Exception) { /* one handle failing to close must not stop the worker */ }
            }
            handles.Clear();
        }
    }
}
