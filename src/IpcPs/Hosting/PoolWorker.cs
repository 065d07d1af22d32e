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
    ///   values (the bytes of [arguments, using]), depth, managerKeys] (keys again: the parent may have learnt more),
    ///   ["chunk", callId, indexes, items], ["quit"]
    ///   worker → parent: ["ready", pid, initError], ["done", callId, results, ticks] (see <see cref="PoolChunk"/>),
    ///   ["callerror", callId, error] (the call's values cannot be received here: its chunks are then not run)
    /// records are [kind, payload] pairs in the order written (E error, W warning, V verbose, D debug, I information).
    /// </summary>
    public static class PoolWorker
    {
        /// <summary>The worker's entry point (<see cref="ChildLauncher"/> runs it): the exit code of the process.</summary>
        public static int Run(string pipeName)
        {
            // Windows: the parent's output pipes no longer inheritable (as a spare's, ChildChannel.Connect).
            if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows)) Core.Platform.Windows.OutputRelay.Start();
            return Run(pipeName, null, Core.Platform.StandardInput.Detach(Console.OpenStandardInput()));
        }

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
                // The progress word: the item this worker runs, or finished last (see PoolProgress).
                using var progress = SharedMemory.Attach(progressName);
                if (progress.Size < PoolProgress.Size) throw new InvalidOperationException("The pool's progress segment is too small.");
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

        /// <summary>
        /// Serves the parent's messages until "quit" or the pipe closes. The loop runs inside one invocation of a driver
        /// script (<see cref="ServeInRunspace"/>) on the runspace's thread, for the worker's whole life: the items'
        /// records reach the driver's streams as they are written, and the call's variables are set in the runspace's
        /// global scope, which the driver (dot-sourced) runs in. (An invocation per chunk cost ~0.2 ms of PowerShell's
        /// pipeline set-up and teardown, and kept its parser and compiler hot: more than a chunk of trivial items.)
        /// An exception of the loop itself (a malformed message) ends the worker, as it would outside the driver.
        /// </summary>
        private static int Serve(IpcConnection pipe, ChildRunspace runspace, PowerShell shell, List<object?> records, SharedMemory progress)
        {
            var loop = new ServeLoop(pipe, runspace, shell, records, progress);
            shell.Commands.Clear();
            shell.AddScript("[IpcPs.Hosting.PoolWorker]::ServeInRunspace($ExecutionContext.SessionState)", false);
            _loop = loop;
            try { shell.Invoke(); }
            catch (RuntimeException) when (loop.Failure != null) { /* rethrown below, unwrapped */ }
            finally { _loop = null; }
            if (loop.Failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(loop.Failure).Throw();
            return 0;
        }

        private static ServeLoop? _loop;

        /// <summary>The worker's serve loop (called once, by the worker's driver script; nothing otherwise).</summary>
        public static void ServeInRunspace(SessionState state)
        {
            var loop = _loop;
            _loop = null;   // once: an item calling this again finds nothing to run
            loop?.Run(state);
        }

        private sealed class ServeLoop
        {
            private readonly IpcConnection _pipe;
            private readonly Action<object?[]> _send;
            private readonly PSDataStreams _streams;
            private readonly ChildHost _host;
            private readonly List<object?> _records;
            private readonly SharedMemory _progress;

            public ServeLoop(IpcConnection pipe, ChildRunspace runspace, PowerShell shell, List<object?> records, SharedMemory progress)
            {
                _pipe = pipe;
                _send = m => pipe.SendNow(m);
                _streams = shell.Streams;
                _host = runspace.Host;
                _records = records;
                _progress = progress;
            }

            /// <summary>What ended the loop other than "quit" or the pipe's end.</summary>
            public Exception? Failure { get; private set; }

            public void Run(SessionState state)
            {
                var argumentHandles = new List<IpcObject>();
                try { Serve(state, argumentHandles); }
                catch (ConnectionClosedException) { /* the pool was removed, or the parent died */ }
                catch (Exception e) { Failure = e; }
                finally { CloseAll(argumentHandles); }
            }

            private void Serve(SessionState state, List<IpcObject> argumentHandles)
            {
                // Script blocks by text, kept across calls: PowerShell compiles a script block (and JIT-compiles its
                // loops) once it has run a few times, and a pool called again with the same script keeps that work.
                // Each entry: the script, and the same as a process block (null when it cannot be one: see PoolScript).
                var compiled = new Dictionary<string, (ScriptBlock Script, ScriptBlock? ProcessBlock)>();
                var script = new PoolScript();
                // The call's values could not be received here: its chunks are not run (the pipe keeps order: every
                // chunk until the next "call" is that call's).
                bool skipChunks = false;
                while (true)
                {
                    var message = (object?[])_pipe.RecvNow()!;
                    switch (message[0] as string)
                    {
                        case "call":
                            CloseAll(argumentHandles);
                            skipChunks = false;
                            ManagerKeys.Adopt(message[5]);
                            // Arguments and $using: values come encoded (PoolCall: as they were when the call started).
                            // Ones that cannot be received here (a handle whose object is gone) fail the call, once,
                            // not the worker: the pool ends the call with that error; this worker stays.
                            if (!PoolResults.TryDecodeCallValues(message[3], out var args, out var usingValues, out var unreadable))
                            {
                                skipChunks = true;
                                _progress.WriteInt64(0, PoolProgress.None);
                                _send(new object?[] { "callerror", message[1], PoolResults.DescribeUnreadable(unreadable!, "the call's arguments or $using: values") });
                                break;
                            }
                            argumentHandles.AddRange(IpcObjectConverter.FindHandles(args));
                            argumentHandles.AddRange(IpcObjectConverter.FindHandles(usingValues));
                            string text = (string)message[2]!;
                            if (!compiled.TryGetValue(text, out var blocks))
                            {
                                if (compiled.Count >= 64) compiled.Clear();
                                var parsed = ScriptBlock.Create(text);
                                compiled[text] = blocks = (parsed, PoolScript.ToProcessBlock(parsed));
                            }
                            script.Configure(state.PSVariable, blocks.Script, blocks.ProcessBlock, args);
                            state.PSVariable.Set(ChildRunspace.UsingVariable, usingValues);
                            _pipe.SerializationDepth = message[4] is int depth ? depth : 2;
                            _progress.WriteInt64(0, PoolProgress.None);   // indexes are per call
                            break;
                        case "chunk":
                            if (skipChunks) break;   // the pool ended that call
                            var indexes = ToIndexes(message[2]);
                            var items = message[3] as object?[] ?? Array.Empty<object?>();
                            if (indexes.Length != items.Length) throw new InvalidOperationException("The pool sent a malformed chunk.");
                            PoolResults.DecodeItems(items);
                            PoolChunk.Run(script, _streams, _host, _records, (int)message[1]!, indexes, items, _send, _progress, _pipe.SerializationDepth);
                            _records.Clear();
                            foreach (var item in items) CloseAll(IpcObjectConverter.FindHandles(item).ToList());   // what the items re-attached
                            break;
                        case "quit":
                            return;
                    }
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
