using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Text;
using IpcPs.Core.Managers;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Starts a manager process: a warm spare when one fits (<see cref="SpareChildren"/>; it runs <see cref="Serve"/>
    /// in its runspace, see <see cref="ChildChannel"/>), else pwsh (as <see cref="ChildLauncher"/> finds it) running
    /// <see cref="Bootstrap"/>; either way with its settings (key included) on stdin. This process keeps the child's
    /// stdin open for the child's whole life: when this process ends, the manager sees EOF and shuts down (unless
    /// detached), so no server outlives its session.
    /// </summary>
    internal static class ManagerLauncher
    {
        private const string Bootstrap = @"
$ErrorActionPreference = 'Stop'
if ($PSStyle) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module -Name '{0}'
$__ipcSettings = [IpcPs.Hosting.ManagerHost]::ReadSettings()
";

        /// <summary>What a manager runs once it has its settings in $__ipcSettings: a cold one after <see cref="Bootstrap"/>, a spare in its runspace.</summary>
        internal const string Serve = @"
$ErrorActionPreference = 'Stop'
foreach ($__ipcModule in $__ipcSettings.Modules) { Import-Module -Name $__ipcModule }
if ($__ipcSettings.InitializationScript) { . ([scriptblock]::Create($__ipcSettings.InitializationScript)) }
$__ipcTypes = @{}
foreach ($__ipcId in @($__ipcSettings.Register.Keys)) {
    $__ipcEntry = $__ipcSettings.Register[$__ipcId]
    $__ipcType = $__ipcEntry.Type -as [type]
    if (-not $__ipcType) { throw ""The type '$($__ipcEntry.Type)' registered as '$__ipcId' is not known in the manager process: define it in -InitializationScript or load it with -Module."" }
    $__ipcTypes[$__ipcId] = @($__ipcType, $__ipcEntry.Exposed)
}
[IpcPs.Hosting.ManagerHost]::Run($__ipcSettings, $__ipcTypes)
";

        /// <summary>Managers this session started and has not shut down: kept reachable so their stdin stays open.</summary>
        private static readonly HashSet<Process> Started = new HashSet<Process>();

        public static IpcManager Start(string modulePath, string? address, string? name, byte[] key, string? initializationScript,
            string[] modules, Hashtable register, bool detached, bool noSpare, TimeSpan timeout, System.Threading.CancellationToken stop)
        {
            string dir = ManagerState.Create(name);
            Process? started = null;
            try
            {
                // The key file is only ever used for the Unix socket in this folder: a TCP manager gets none.
                if (address is null) ManagerState.WriteKey(dir, key);
                var (exe, prefix) = ChildLauncher.PwshCommand();
                string script = Bootstrap.Replace("{0}", modulePath.Replace("'", "''")) + Serve + "exit 0\n";
                var info = ChildLauncher.PwshStartInfo(exe, prefix, script);
                // The start signal carries a nonce only this launch knows (it travels on stdin), so no other line the
                // process prints (an initialization script's output) can pass for it.
                string nonce = Guid.NewGuid().ToString("N");
                var settings = new Hashtable
                {
                    ["Key"] = Convert.ToBase64String(key),
                    ["Address"] = address,
                    ["StateDir"] = dir,
                    ["InitializationScript"] = initializationScript,
                    ["Modules"] = modules,
                    ["Register"] = register,
                    ["Detached"] = detached,
                    ["Nonce"] = nonce,
                };
                // A warm spare when one fits (a detached manager only a ready one, as a detached child: a booting spare
                // would end with this session); it reads the settings as its request and serves from its runspace.
                // In a Windows job object a detached manager starts cold, out of the job: a spare was started in it.
                var spare = noSpare || (detached && ChildLauncher.InJob()) ? null : SpareChildren.Take(modulePath, readyOnly: detached);
                var process = started = spare?.Process ?? ChildLauncher.Start(info, "manager process", outlives: detached);
                // Both streams are drained for the process's whole life (a custom type that writes to the host must
                // never fill a pipe and block the manager); the first "READY nonce address" line is the start signal,
                // a "FAILED nonce reason address" line the report of a listen that failed. Read by threads, not
                // events: a spare's stdout is read synchronously already (its ready frame), and a reader cannot switch.
                // Nothing else on them is for us, so they are read as text (a spare's after its first line): a line
                // shaped as a frame is no longer held whole (up to 64 Mi characters), and what is read is looked at in
                // the reader's buffer, never copied (a string per 64 Ki piece made the session allocate twice what the
                // manager wrote, without end).
                var output = new TextHead(16_384);   // kept for a failed start
                var ready = new System.Threading.Tasks.TaskCompletionSource<string?>();
                string readyPrefix = ManagerHost.ReadyLine + " " + nonce + " ", failedPrefix = ManagerHost.FailedLine + " " + nonce + " ";
                void Collect(char[]? data, int start, int length)
                {
                    if (data is null) { ready.TrySetResult(null); return; }
                    if (StartsWith(data, start, length, ChildProtocol.Marker)) return;   // a spare's ready frame
                    if (StartsWith(data, start, length, readyPrefix)) { ready.TrySetResult(new string(data, start + readyPrefix.Length, length - readyPrefix.Length)); return; }
                    if (StartsWith(data, start, length, failedPrefix)) { ready.TrySetResult("\0" + new string(data, start + failedPrefix.Length, length - failedPrefix.Length)); return; }
                    output.Append(data, start, length, lineEnd: true);   // one step: the other stream's reader adds its lines too
                }
                var drains = new[]
                {
                    Drain(process, spare?.Output ?? new ChildOutputReader(process.StandardOutput, frames: false), spare?.FirstLine, Collect, last: true),
                    Drain(process, new ChildOutputReader(process.StandardError, frames: false), null, Collect, last: false),
                };
                string settingsLine = spare is null
                    ? Convert.ToBase64String(Encoding.UTF8.GetBytes(PSSerializer.Serialize(settings, 4)))
                    : ChildProtocol.EncodeRequest(new Hashtable
                    {
                        ["Manager"] = settings,
                        // A cold manager inherits this process's folder and environment as they are now; a spare takes them.
                        ["WorkingDirectory"] = Environment.CurrentDirectory,
                        ["EnvironmentChanges"] = spare.EnvironmentChanges(),
                    }, 4);
                try
                {
                    process.StandardInput.Write(settingsLine + "\n");
                    process.StandardInput.Flush();
                }
                catch (System.IO.IOException) { /* it died at once: its end is reported below */ }
                string? actual = null;
                bool stopped = false;
                try { actual = ready.Task.Wait((int)Math.Min(int.MaxValue, timeout.TotalMilliseconds), stop) ? ready.Task.Result : null; }
                catch (OperationCanceledException) { stopped = true; }   // Ctrl+C while the manager starts
                if (actual is null || actual.StartsWith("\0", StringComparison.Ordinal))
                {
                    using (var child = Core.Platform.Platforms.Current.Processes.Pin(process)) child.Kill();   // never a process that took its pid
                    process.WaitForExit();
                    foreach (var drain in drains) drain.Join(TimeSpan.FromSeconds(5));   // all it wrote, for the reason
                    string why = output.ToString().Trim();
                    started = null;   // ended here
                    process.Dispose();
                    if (stopped) throw new OperationCanceledException(stop);
                    if (actual != null && actual.StartsWith("\0" + ManagerHost.AddressInUse + " ", StringComparison.Ordinal))
                        throw new ManagerAddressInUseException(address ?? actual.Substring(ManagerHost.AddressInUse.Length + 2));
                    throw new InvalidOperationException("The manager process failed to start" + (why.Length > 0 ? ": " + why : " in time."));
                }
                ManagerClient.RememberKey(actual, key);
                if (detached) process.StandardInput.Close();
                else lock (Started) Started.Add(process);
                return new IpcManager(actual, dir, detached ? null : process);
            }
            catch
            {
                // Started half-way (no descriptor left for a reader's thread): the process is ended, never left waiting.
                if (started != null) ChildLauncher.Abandon(started);
                ManagerState.Remove(dir);
                throw;
            }
        }

        /// <summary>
        /// Reads READER to its end on a thread of its own, each line (or piece of a long one: bounded, the manager's
        /// output is its custom types') to COLLECT as it lies in the reader's buffer, then with LAST a null buffer;
        /// FIRSTLINE first (a spare's, read in frames: from then on frames are over).
        /// </summary>
        private static System.Threading.Thread Drain(Process process, ChildOutputReader reader, System.Threading.Tasks.Task<string?>? firstLine,
            Action<char[]?, int, int> collect, bool last)
        {
            var thread = new System.Threading.Thread(() =>
            {
                try
                {
                    string? line = firstLine?.GetAwaiter().GetResult();
                    if (firstLine is null || line != null)
                    {
                        if (line != null) collect(line.ToCharArray(), 0, line.Length);
                        reader.EndFrames();
                        ChildOutputKind what;
                        while ((what = reader.Read()) != ChildOutputKind.End)
                            if (what != ChildOutputKind.TooLong) collect(reader.Buffer, reader.Start, reader.Length);
                    }
                }
                // Any exception ends the reading, never the process (an unhandled one on a thread ends it): disposed
                // streams, and whatever else the child's output or a race with disposal can raise.
                catch (Exception) { }
                if (last) collect(null, 0, 0);
            }) { IsBackground = true, Name = $"IpcPs manager {process.Id} output" };
            Core.Platform.PlatformErrors.StartThread(thread);
            return thread;
        }

        private static bool StartsWith(char[] buffer, int start, int length, string prefix)
        {
            if (length < prefix.Length) return false;
            for (int i = 0; i < prefix.Length; i++) if (buffer[start + i] != prefix[i]) return false;
            return true;
        }

        public static void Forget(Process process)
        {
            lock (Started) Started.Remove(process);
        }
    }
}
