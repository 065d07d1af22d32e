using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Text;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The wire between Start-IpcProcess and its child pwsh (docs/design.md, "Child processes").
    /// Parent → child (stdin): one line, base64 of the CLIXML of the request hashtable
    ///   { Script, Arguments, Input, HasInput, WorkingDirectory, Depth, InitializationScript, Using, Detached,
    ///   ManagerKeys, EnvironmentChanges (a warm spare only) }, or, to a warm spare that becomes a pool worker or a
    ///   manager, { PoolPipe, … } or { Manager, … }; then stdin stays open: its end (EOF) means the
    ///   parent is gone, and the child exits. A <see cref="StopRequest"/> byte on it after the request is the polite
    ///   stop where there is no SIGTERM (Windows): the child detaches what it holds and exits with 143, as SIGTERM ends it on Linux.
    /// Child → parent (stdout): one line per record, "\u001eIPCPS K BASE64" where K is the stream (O output, E error,
    ///   W warning, V verbose, D debug, I information, P progress, X terminating error, Z the last frame: the exit code, after which the job has ended) and BASE64 the CLIXML of the
    ///   record. Everything else is text the child wrote to the console directly; it arrives as output, also when a
    ///   frame follows it on the same line (text written without a line end): see <see cref="FrameStart"/>.
    /// </summary>
    internal static class ChildProtocol
    {
        public const string Marker = "\u001eIPCPS ";

        /// <summary>Parent → child after the request: stop politely (Windows; Linux sends SIGTERM).</summary>
        public const byte StopRequest = (byte)'S';

        /// <summary>The exit code of a child stopped politely: 128 + SIGTERM on both platforms.</summary>
        public const int StoppedExitCode = 143;

        /// <summary>
        /// The longest frame, in characters (bytes: a frame is ASCII), line end not included: 64 MiB, a manager frame's
        /// bound (FrameSocket.DefaultLimit): ~48 MiB of CLIXML, a record of tens of MB. The parent buffers a frame
        /// whole (up to this) before it decodes it; the child sends no longer one (<see cref="Frame"/>), so a longer
        /// one is not ours: dropped up to the next line end (<see cref="ChildOutputReader"/>).
        /// </summary>
        public const int MaxFrameLength = 64 << 20;

        /// <summary>The longest text of a record sent in place of one too large (its message, cut).</summary>
        private const int MaxTooLargeMessage = 4096;

        /// <summary>
        /// The frame line of a record (without its line end), never longer than <see cref="MaxFrameLength"/>: a record
        /// whose frame would be is replaced by a MessageTooLarge error record (E), or, for the terminating error (X), by
        /// an X carrying the start of its message and the sizes, so the job still fails with it.
        /// </summary>
        public static string Frame(char kind, object? payload, int depth)
        {
            string frame = Marker + kind + " " + Convert.ToBase64String(Encoding.UTF8.GetBytes(PSSerializer.Serialize(payload, depth)));
            if (frame.Length <= MaxFrameLength) return frame;
            var tooLarge = new MessageTooLargeException(null, frame.Length, MaxFrameLength,
                $"a record ({(kind == 'O' ? "output" : kind.ToString())}) sent by a child process to its parent takes at most");
            var error = DescribeError(ErrorRecords.From(tooLarge, null));
            if (kind == 'X' && payload is Hashtable x && x["Message"] is string message)
                error["Message"] = (message.Length > MaxTooLargeMessage ? message.Substring(0, MaxTooLargeMessage) + "…" : message) + " (" + tooLarge.Message + ")";
            return Marker + (kind == 'X' ? 'X' : 'E') + " " + Convert.ToBase64String(Encoding.UTF8.GetBytes(PSSerializer.Serialize(error, 2)));
        }

        /// <summary>Whether a frame's head (marker, kind letter A–Z, space) is at AT in BUFFER (the caller checked there is room).</summary>
        public static bool IsFrameHead(char[] buffer, int at)
        {
            for (int i = 0; i < Marker.Length; i++) if (buffer[at + i] != Marker[i]) return false;
            char kind = buffer[at + Marker.Length];
            return kind >= 'A' && kind <= 'Z' && buffer[at + Marker.Length + 1] == ' ';
        }

        /// <summary>A character of a frame's payload (base64). No line end, and no marker's start, is one.</summary>
        public static bool IsFrameChar(char c) =>
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';

        /// <summary>
        /// Where the frame of a line (BUFFER from START, LENGTH characters) starts: a frame's head and frame characters
        /// up to the line's end; −1 for a line of text. Text before it is text the child wrote without a line end
        /// ([Console]::Write). Only the last marker can start it (frame characters hold none), so text that holds the
        /// marker stays text unless it ends in a whole frame — which a line of its own could always forge.
        /// </summary>
        public static int FrameStart(char[] buffer, int start, int length)
        {
            int end = start + length;
            if (length < Marker.Length + 2) return -1;
            int at = Array.LastIndexOf(buffer, Marker[0], end - 1, length);
            if (at < 0 || end - at < Marker.Length + 2 || !IsFrameHead(buffer, at)) return -1;
            for (int i = at + Marker.Length + 2; i < end; i++) if (!IsFrameChar(buffer[i])) return -1;
            return at;
        }

        /// <summary>Decodes the frame at START (see <see cref="FrameStart"/>): its kind and payload. Throws on a frame that does not decode.</summary>
        public static void Decode(char[] buffer, int start, int length, out char kind, out object? payload)
        {
            kind = buffer[start + Marker.Length];
            int at = start + Marker.Length + 2;
            byte[] bytes = Convert.FromBase64CharArray(buffer, at, start + length - at);
            payload = ClixmlGuard.Deserialize(Encoding.UTF8.GetString(bytes));
            // Records (all but output) travel as hashtables or strings: hand those over unwrapped.
            if (kind != 'O' && payload is PSObject pso && !(pso.BaseObject is PSCustomObject)) payload = pso.BaseObject;
        }

        /// <summary>Whether LINE is a ready frame (R): the child has read nothing yet and is about to read its request.</summary>
        public static bool IsReadyFrame(string? line) =>
            line != null && line.Length > Marker.Length && line.StartsWith(Marker, StringComparison.Ordinal) && line[Marker.Length] == 'R';

        public static string EncodeRequest(Hashtable request, int depth) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes(PSSerializer.Serialize(request, depth + 2)));

        public static Hashtable DecodeRequest(string line)
        {
            object? request = ClixmlGuard.Deserialize(Encoding.UTF8.GetString(Convert.FromBase64String(line)));
            return (request is PSObject pso ? pso.BaseObject : request) as Hashtable
                ?? throw new InvalidOperationException("The request from the parent process is not a hashtable.");
        }

        /// <summary>An error record reduced to what survives the trip: message, id, category, target, script position.</summary>
        public static Hashtable DescribeError(ErrorRecord e)
        {
            var h = Describe(e);
            // A parse error: where it is (file, line, the line's text) and each error's own message, so the parent shows
            // it as PowerShell shows a parse error, position lines and all (its message's lines flatten otherwise).
            if (e.Exception is ParseException pe && pe.Errors != null && pe.Errors.Length > 0)
            {
                var first = pe.Errors[0].Extent;
                h["ParseFile"] = first.File;
                h["ParseLine"] = first.StartLineNumber;
                h["ParseLineText"] = first.StartScriptPosition.Line;
                h["ParseMessages"] = string.Join(" ", pe.Errors.Select(x => x.Message));
            }
            return h;
        }

        private static Hashtable Describe(ErrorRecord e) => new Hashtable
        {
            ["Message"] = e.Exception?.Message ?? e.ToString(),
            ["ExceptionType"] = e.Exception?.GetType().FullName,
            ["ErrorId"] = e.FullyQualifiedErrorId,
            ["Category"] = (int)e.CategoryInfo.Category,
            ["Target"] = e.TargetObject?.ToString(),
            ["ScriptStackTrace"] = e.ScriptStackTrace,
            ["PositionMessage"] = e.InvocationInfo?.PositionMessage,
            ["ScriptName"] = e.InvocationInfo?.ScriptName,
            ["ScriptLineNumber"] = e.InvocationInfo?.ScriptLineNumber ?? 0,
            ["OffsetInLine"] = e.InvocationInfo?.OffsetInLine ?? 0,
            ["Line"] = e.InvocationInfo?.Line,
        };

        public static Hashtable DescribeInformation(InformationRecord i) =>
            new Hashtable { ["MessageData"] = i.MessageData, ["Source"] = i.Source, ["Tags"] = i.Tags.ToArray() };

        public static InformationRecord RebuildInformation(object? payload)
        {
            var h = payload as Hashtable;
            var info = new InformationRecord(h?["MessageData"], h?["Source"] as string ?? "");
            object? tagList = h?["Tags"] is PSObject tp ? tp.BaseObject : h?["Tags"];
            if (tagList is IEnumerable tags && !(tagList is string)) foreach (var t in tags) info.Tags.Add(t?.ToString() ?? "");
            return info;
        }

        /// <summary>A progress record as a hashtable (ProgressRecord does not survive CLIXML as itself).</summary>
        public static Hashtable DescribeProgress(ProgressRecord p) => new Hashtable
        {
            ["ActivityId"] = p.ActivityId,
            ["ParentActivityId"] = p.ParentActivityId,
            ["Activity"] = p.Activity,
            ["StatusDescription"] = p.StatusDescription,
            ["CurrentOperation"] = p.CurrentOperation,
            ["PercentComplete"] = p.PercentComplete,
            ["SecondsRemaining"] = p.SecondsRemaining,
            ["RecordType"] = (int)p.RecordType,
        };

        public static ProgressRecord RebuildProgress(object? payload)
        {
            var h = payload as Hashtable ?? new Hashtable();
            int Int(string key, int fallback) => h[key] is int i ? i : fallback;
            string Text(string key, string fallback) => h[key] is string t && t.Length > 0 ? t : fallback;
            return new ProgressRecord(Int("ActivityId", 0), Text("Activity", "Child process"), Text("StatusDescription", "Processing"))
            {
                ParentActivityId = Int("ParentActivityId", -1),
                CurrentOperation = h["CurrentOperation"] as string,
                PercentComplete = Math.Max(-1, Math.Min(100, Int("PercentComplete", -1))),
                SecondsRemaining = Int("SecondsRemaining", -1),
                RecordType = (ProgressRecordType)Int("RecordType", 0),
            };
        }

        /// <summary>
        /// The reason a job failed with, for the child's terminating error: its message (every line of it: a parse error
        /// keeps its position lines) and, when the child's script position is known, that position — Receive-Job writes
        /// the reason once, with the position, as Start-Job and Start-ThreadJob do; the error is not also in the job's
        /// Error stream (it was shown twice).
        /// </summary>
        public static Exception RebuildReason(object? payload)
        {
            var h = payload as Hashtable ?? new Hashtable { ["Message"] = payload?.ToString() ?? "Unknown error." };
            var reason = new RemoteException(h["Message"] as string ?? "Unknown error.");
            bool inBootstrap = h["PositionMessage"] is string pos && pos.IndexOf("__ipc", StringComparison.Ordinal) >= 0;
            if (inBootstrap || !(h["Line"] is string line) || line.Length == 0 || !(h["ScriptLineNumber"] is int n) || n < 1
                || !(h["OffsetInLine"] is int column) || column < 1 || column > line.Length + 1) return reason;
            string file = h["ScriptName"] as string ?? "";
            var start = new System.Management.Automation.Language.ScriptPosition(file, n, column, line);
            var end = new System.Management.Automation.Language.ScriptPosition(file, n, line.TrimEnd().Length + 1, line);
            return new JobFailedException(reason, new System.Management.Automation.Language.ScriptExtent(start, end));
        }

        /// <summary>The parent's ErrorRecord for a described child error: a RemoteException carrying the child's message.</summary>
        public static ErrorRecord RebuildError(object? payload, int childPid)
        {
            var h = payload as Hashtable ?? new Hashtable { ["Message"] = payload?.ToString() ?? "Unknown error." };
            string message = h["Message"] as string ?? "Unknown error.";
            var exception = new RemoteException(message);
            var category = h["Category"] is int c ? (ErrorCategory)c : ErrorCategory.NotSpecified;
            // A parse error's position goes in a target PowerShell's error view shows as its position (File, Line, LineText).
            object? target = h["ParseLine"] is int parseLine && h["ParseLineText"] is string lineText
                ? new Hashtable { ["File"] = h["ParseFile"] as string ?? "", ["Line"] = parseLine, ["LineText"] = lineText }
                : h["Target"];
            var record = new ErrorRecord(exception, h["ErrorId"] as string ?? ErrorRecords.ChildProcessFailed, category, target);
            if (h["ParseMessages"] is string parseMessages && target is Hashtable)
            {
                record.ErrorDetails = new ErrorDetails($"[child pid {childPid}] {parseMessages}");
                return record;
            }
            // A position inside the bootstrap (where the user's script was invoked) tells the user nothing.
            string where = h["PositionMessage"] is string pos && pos.Length > 0 && pos.IndexOf("__ipc", StringComparison.Ordinal) < 0
                ? Environment.NewLine + pos : "";
            record.ErrorDetails = new ErrorDetails($"[child pid {childPid}] {message}{where}");
            return record;
        }
    }
}
