using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The child's end of <see cref="ChildProtocol"/>: reads the request, re-attaches the handles in it, runs the
    /// script in a runspace of its own (<see cref="ChildRunspace"/>), sends every record of every stream as it is
    /// written, and exits the process when the parent's end of stdin closes (unless the child is detached).
    /// Used by the bootstrap script that Start-IpcProcess runs (see <see cref="ChildLauncher"/>).
    /// </summary>
    public sealed class ChildChannel
    {
        private readonly Stream _out;
        private readonly object _writeGate = new object();
        private readonly int _depth;
        private volatile bool _parentGone;

        private ChildChannel(Hashtable request, Stream output)
        {
            _out = output;
            ManagerKeys.Adopt(request["ManagerKeys"]);   // first: a backend handle among the arguments re-attaches with them
            _depth = request["Depth"] is int d ? d : 2;
            Script = (string)request["Script"]!;
            WorkingDirectory = request["WorkingDirectory"] as string;
            HasInput = request["HasInput"] is bool b && b;
            Arguments = ToArray(IpcObjectConverter.Rehydrate(request["Arguments"]));
            Input = ToArray(IpcObjectConverter.Rehydrate(request["Input"]));
            InitializationScript = request["InitializationScript"] as string;
            Using = (IpcObjectConverter.Rehydrate(request["Using"]) is PSObject u ? u.BaseObject : request["Using"]) as Hashtable;
            Detached = request["Detached"] is bool detached && detached;
        }

        public string Script { get; }
        public string? WorkingDirectory { get; }
        public object?[] Arguments { get; }
        public object?[] Input { get; }
        public bool HasInput { get; }
        public string? InitializationScript { get; }
        public Hashtable? Using { get; }

        /// <summary>A detached child outlives its parent: it does not watch stdin, and records nobody reads are dropped.</summary>
        public bool Detached { get; }

        /// <summary>Reads the request from stdin and starts watching stdin for the parent's end.</summary>
        public static ChildChannel Connect()
        {
            var stdin = Console.OpenStandardInput();
            string line = ReadLine(stdin) ?? throw new InvalidOperationException("The parent process sent no request.");
            var channel = new ChildChannel(ChildProtocol.DecodeRequest(line), Console.OpenStandardOutput());
            if (!channel.Detached) WatchParentInBackground(stdin);
            return channel;
        }

        /// <summary>
        /// Runs the initialization script (dot-sourced, so its functions stay) and then the script, sending every
        /// record as it is written; returns the process's exit code: the script's <c>exit n</c>, 1 after a
        /// terminating error (sent first), else 0.
        /// </summary>
        public int Run()
        {
            ChildRunspace runspace;
            try { runspace = ChildRunspace.Open(WorkingDirectory, Using); }
            catch (Exception e)
            {
                SendTerminating(new ErrorRecord(e, ErrorRecords.ChildProcessFailed, ErrorCategory.OpenError, WorkingDirectory));
                return 1;
            }
            using (runspace)
            using (var ps = runspace.Shell())
            {
                Forward(ps.Streams);
                var output = new PSDataCollection<PSObject>();
                output.DataAdded += (s, e) => Send(output[e.Index]);
                try
                {
                    if (!string.IsNullOrEmpty(InitializationScript))
                    {
                        ps.AddScript(InitializationScript, false);
                        ps.Invoke(null, output);
                        if (runspace.Host.ExitCode is int early) return Finish(early);
                        ps.Commands.Clear();
                    }
                    ps.AddScript(Script, true);
                    foreach (var a in Arguments) ps.AddArgument(a);
                    PSDataCollection<object?>? input = null;
                    if (HasInput)
                    {
                        input = new PSDataCollection<object?>(Input);
                        input.Complete();
                    }
                    ps.Invoke(input, output);
                }
                catch (RuntimeException e)
                {
                    SendTerminating(e.ErrorRecord);
                    return 1;
                }
                return Finish(runspace.Host.ExitCode ?? 0);
            }
        }

        private int Finish(int exitCode)
        {
            Finish();
            return exitCode;
        }

        /// <summary>Every stream but output, sent as each record is added (on the pipeline thread, so in order).</summary>
        private void Forward(PSDataStreams streams)
        {
            streams.Error.DataAdded += (s, e) => Send(streams.Error[e.Index]);
            streams.Warning.DataAdded += (s, e) => Send(streams.Warning[e.Index]);
            streams.Verbose.DataAdded += (s, e) => Send(streams.Verbose[e.Index]);
            streams.Debug.DataAdded += (s, e) => Send(streams.Debug[e.Index]);
            streams.Information.DataAdded += (s, e) => Send(streams.Information[e.Index]);
            streams.Progress.DataAdded += (s, e) => Send(streams.Progress[e.Index]);
        }

        /// <summary>Sends one record of the script's merged streams (*>&amp;1) to the parent, on the right stream.</summary>
        public void Send(object? item)
        {
            object? value = item is PSObject pso ? pso.BaseObject : item;
            switch (value)
            {
                case ErrorRecord e: Write('E', ChildProtocol.DescribeError(e)); break;
                case WarningRecord w: Write('W', w.Message); break;
                case VerboseRecord v: Write('V', v.Message); break;
                case DebugRecord d: Write('D', d.Message); break;
                case InformationRecord i: Write('I', ChildProtocol.DescribeInformation(i)); break;
                case ProgressRecord p: Write('P', ChildProtocol.DescribeProgress(p)); break;
                default: Write('O', item); break;
            }
        }

        /// <summary>Reports the error that ended the script.</summary>
        public void SendTerminating(ErrorRecord error) => Write('X', ChildProtocol.DescribeError(error));

        /// <summary>Tells the parent the script ran to its end.</summary>
        public void Finish() => Write('Z', null);

        private void Write(char kind, object? payload)
        {
            if (_parentGone) return;
            byte[] bytes = Encoding.UTF8.GetBytes(ChildProtocol.Frame(kind, payload, _depth) + "\n");
            lock (_writeGate)
            {
                try
                {
                    _out.Write(bytes, 0, bytes.Length);
                    _out.Flush();
                }
                catch (IOException) when (Detached) { _parentGone = true; }   // nobody reads any more: go on without
            }
        }

        /// <summary>Exits this process (code 129) once the parent's end of stdin closes: the parent has gone.</summary>
        internal static void WatchParentInBackground(Stream stdin) =>
            new Thread(() => WatchParent(stdin)) { IsBackground = true, Name = "IpcPs parent watcher" }.Start();

        private static void WatchParent(Stream stdin)
        {
            var buffer = new byte[256];
            try { while (stdin.Read(buffer, 0, buffer.Length) > 0) { } }
            catch (IOException) { }
            Environment.Exit(ParentGoneExitCode);   // runs ProcessExit handlers: held objects are detached
        }

        /// <summary>The exit code of a child whose parent went away.</summary>
        public const int ParentGoneExitCode = 129;

        /// <summary>The request line; read in blocks, since the parent writes nothing after it.</summary>
        private static string? ReadLine(Stream s)
        {
            var bytes = new MemoryStream();
            var buffer = new byte[65536];
            while (true)
            {
                int n = s.Read(buffer, 0, buffer.Length);
                if (n <= 0) return bytes.Length == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
                int nl = Array.IndexOf(buffer, (byte)'\n', 0, n);
                bytes.Write(buffer, 0, nl < 0 ? n : nl);
                if (nl >= 0) return Encoding.ASCII.GetString(bytes.ToArray());
            }
        }

        private static object?[] ToArray(object? value) => value switch
        {
            null => Array.Empty<object?>(),
            PSObject pso when !(pso.BaseObject is PSCustomObject) => ToArray(pso.BaseObject),
            object?[] a => a,
            IList list => ToList(list),
            _ => new[] { value },
        };

        private static object?[] ToList(IList list)
        {
            var a = new object?[list.Count];
            list.CopyTo(a, 0);
            return a;
        }
    }
}
