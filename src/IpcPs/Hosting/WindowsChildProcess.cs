using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
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
            // Each handle owned by its wrapper at once: a failure below disposes them all (a SafeHandle once only).
            var handle = new SafeProcessHandle(started.Process, ownsHandle: true);
            FileStream input = Stream(started.Input, FileAccess.Write), output = Stream(started.Output, FileAccess.Read), error = Stream(started.Error, FileAccess.Read);
            var process = new Process();
            try
            {
                SetHandle!.Invoke(process, new object[] { handle });
                SetId!.Invoke(process, new object[] { started.Pid });
                Input!.SetValue(process, new StreamWriter(input, NoPreamble(Console.InputEncoding), BufferSize) { AutoFlush = true });
                Output!.SetValue(process, new StreamReader(output, info.StandardOutputEncoding ?? Console.OutputEncoding, true, BufferSize));
                Error!.SetValue(process, new StreamReader(error, info.StandardErrorEncoding ?? Console.OutputEncoding, true, BufferSize));
                return process;
            }
            catch (Exception e) when (e is TargetInvocationException || e is ArgumentException)
            {
                // Never a child left running that nobody holds (it has read nothing yet).
                Core.Platform.Windows.Win32.TerminateProcess(started.Process, 1);
                foreach (IDisposable d in new IDisposable[] { input, output, error, handle }) d.Dispose();
                throw new InvalidOperationException($"The {what} was started but could not be handed over: {e.Message}", e);
            }
        }

        /// <summary>ENCODING without a byte order mark: a StreamWriter on a pipe (not seekable) would write one first.</summary>
        private static Encoding NoPreamble(Encoding encoding) => encoding is UTF8Encoding ? new UTF8Encoding(false) : encoding;

        private static FileStream Stream(IntPtr handle, FileAccess access) => new FileStream(new SafeFileHandle(handle, ownsHandle: true), access, BufferSize, isAsync: false);
    }
}
