using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using IpcPs.Core.Platform.Windows;
using Microsoft.Win32.SafeHandles;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A Windows child started by <see cref="WindowsChildStart"/> (only its three pipe ends inherited; out of this
    /// session's job when it is to outlive it), handed to the rest of IpcPs as the <see cref="Process"/> that
    /// Process.Start would have made: its handle and id set as Start sets them, its StandardInput/Output/Error on the
    /// parent's pipe ends with the encodings and buffer size Start uses. Those members are the runtime's private ones
    /// (.NET: SetProcessHandle, SetProcessId, _standardInput…; .NET Framework: the same methods, standardInput…), as is
    /// its start lock: where one is missing, <see cref="Available"/> is false and the caller starts the child with Process.Start as before.
    /// </summary>
    internal static class WindowsChildProcess
    {
        private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        private const int BufferSize = 4096;   // Process.Start's own

        private static readonly MethodInfo? SetHandle = typeof(Process).GetMethod("SetProcessHandle", Private, null, new[] { typeof(SafeProcessHandle) }, null);
        private static readonly MethodInfo? SetId = typeof(Process).GetMethod("SetProcessId", Private, null, new[] { typeof(int) }, null);
        private static readonly FieldInfo? Input = Field("_standardInput", "standardInput");
        private static readonly FieldInfo? Output = Field("_standardOutput", "standardOutput");
        private static readonly FieldInfo? Error = Field("_standardError", "standardError");

        /// <summary>
        /// Whether this runtime's Process can be given a child started here, and .NET's own start lock was found
        /// (<see cref="WindowsChildStart.StartLockFound"/>: without it a Process.Start on another thread could take
        /// the child's pipe ends).
        /// </summary>
        public static bool Available { get; } = SetHandle != null && SetId != null && Input != null && Output != null && Error != null
            && WindowsChildStart.StartLockFound;

        private static FieldInfo? Field(string name, string oldName) => typeof(Process).GetField(name, Private) ?? typeof(Process).GetField(oldName, Private);

        private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> KeptInJob = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();

        /// <summary>
        /// Whether the child PID, started to outlive this session, was kept in a job object by an enclosing job that
        /// refuses the breakaway (nested jobs; <see cref="WindowsChildStart.Started.StillInJob"/>); asked once.
        /// </summary>
        public static bool TakeKeptInJob(int pid) => KeptInJob.TryRemove(pid, out _);

        /// <summary>Starts INFO (all three streams redirected, as ChildLauncher's always are). LEAVEJOB: see <see cref="WindowsChildStart"/>.</summary>
        public static Process Start(ProcessStartInfo info, bool leaveJob, string what)
        {
            string file = info.FileName.Trim();
            string commandLine = (file.StartsWith("\"", StringComparison.Ordinal) ? file : "\"" + file + "\"")
                + (string.IsNullOrEmpty(info.Arguments) ? "" : " " + info.Arguments);
            var environment = new List<KeyValuePair<string, string?>>();
            foreach (var kv in info.Environment) environment.Add(new KeyValuePair<string, string?>(kv.Key, kv.Value));
            var started = WindowsChildStart.Start(commandLine, string.IsNullOrEmpty(info.WorkingDirectory) ? null : info.WorkingDirectory,
                environment, info.CreateNoWindow, leaveJob, what);
            // Each handle owned by its wrapper as soon as it has one; a failure of any kind below (reflection, memory)
            // ends the child (it has read nothing yet: never one left running that nobody holds) and closes every
            // handle, through its wrapper or, where none was made yet, directly (each once).
            IntPtr[] raw = { started.Process, started.Input, started.Output, started.Error };
            var owners = new SafeHandle?[raw.Length];
            var streams = new List<IDisposable>();
            try
            {
                owners[0] = new SafeProcessHandle(raw[0], ownsHandle: true);
                for (int i = 1; i < raw.Length; i++) owners[i] = new SafeFileHandle(raw[i], ownsHandle: true);
                FileStream input = Stream(owners[1], FileAccess.Write, streams), output = Stream(owners[2], FileAccess.Read, streams),
                    error = Stream(owners[3], FileAccess.Read, streams);
                var process = new Process();
                SetHandle!.Invoke(process, new object[] { owners[0]! });
                SetId!.Invoke(process, new object[] { started.Pid });
                Input!.SetValue(process, new StreamWriter(input, NoPreamble(Console.InputEncoding), BufferSize) { AutoFlush = true });
                Output!.SetValue(process, new StreamReader(output, info.StandardOutputEncoding ?? Console.OutputEncoding, true, BufferSize));
                Error!.SetValue(process, new StreamReader(error, info.StandardErrorEncoding ?? Console.OutputEncoding, true, BufferSize));
                if (started.StillInJob) KeptInJob[started.Pid] = true;
                return process;
            }
            catch (Exception e)
            {
                Core.Platform.Windows.Win32.TerminateProcess(raw[0], 1);
                foreach (var d in streams) d.Dispose();
                for (int i = 0; i < raw.Length; i++)
                {
                    if (owners[i] != null) owners[i]!.Dispose();
                    else Core.Platform.Windows.Win32.CloseHandle(raw[i]);
                }
                if (e is TargetInvocationException || e is ArgumentException)
                    throw new InvalidOperationException($"The {what} was started but could not be handed over: {e.Message}", e);
                throw;
            }
        }

        /// <summary>ENCODING without a byte order mark: a StreamWriter on a pipe (not seekable) would write one first.</summary>
        private static Encoding NoPreamble(Encoding encoding) => encoding is UTF8Encoding ? new UTF8Encoding(false) : encoding;

        /// <summary>A FileStream on HANDLE (a SafeFileHandle), added to STREAMS.</summary>
        private static FileStream Stream(SafeHandle? handle, FileAccess access, List<IDisposable> streams)
        {
            var stream = new FileStream((SafeFileHandle)handle!, access, BufferSize, isAsync: false);
            streams.Add(stream);
            return stream;
        }
    }
}
