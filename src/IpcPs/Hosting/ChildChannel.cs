using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The child's end of <see cref="ChildProtocol"/>: reads the request, re-attaches the handles in it, sends every
    /// record the script produces, and exits the process when the parent's end of stdin closes.
    /// Used by the bootstrap script that Start-IpcProcess runs (see <see cref="ChildLauncher"/>).
    /// </summary>
    public sealed class ChildChannel
    {
        private readonly Stream _out;
        private readonly object _writeGate = new object();
        private readonly int _depth;

        private ChildChannel(Hashtable request, Stream output)
        {
            _out = output;
            _depth = request["Depth"] is int d ? d : 2;
            Script = (string)request["Script"]!;
            WorkingDirectory = request["WorkingDirectory"] as string;
            HasInput = request["HasInput"] is bool b && b;
            Arguments = ToArray(IpcObjectConverter.Rehydrate(request["Arguments"]));
            Input = ToArray(IpcObjectConverter.Rehydrate(request["Input"]));
        }

        public string Script { get; }
        public string? WorkingDirectory { get; }
        public object?[] Arguments { get; }
        public object?[] Input { get; }
        public bool HasInput { get; }

        /// <summary>Reads the request from stdin and starts watching stdin for the parent's end.</summary>
        public static ChildChannel Connect()
        {
            var stdin = Console.OpenStandardInput();
            string line = ReadLine(stdin) ?? throw new InvalidOperationException("The parent process sent no request.");
            var channel = new ChildChannel(ChildProtocol.DecodeRequest(line), Console.OpenStandardOutput());
            var watcher = new Thread(() => WatchParent(stdin)) { IsBackground = true, Name = "IpcPs parent watcher" };
            watcher.Start();
            return channel;
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
                case InformationRecord i: Write('I', new Hashtable { ["MessageData"] = i.MessageData, ["Source"] = i.Source, ["Tags"] = i.Tags.ToArray() }); break;
                default: Write('O', item); break;
            }
        }

        /// <summary>Reports the error that ended the script.</summary>
        public void SendTerminating(ErrorRecord error) => Write('X', ChildProtocol.DescribeError(error));

        /// <summary>Tells the parent the script ran to its end.</summary>
        public void Finish() => Write('Z', null);

        private void Write(char kind, object? payload)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(ChildProtocol.Frame(kind, payload, _depth) + "\n");
            lock (_writeGate)
            {
                _out.Write(bytes, 0, bytes.Length);
                _out.Flush();
            }
        }

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
