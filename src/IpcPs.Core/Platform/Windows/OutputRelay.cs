using System;
using System.Threading;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// A Windows child's standard output and error (pipes its parent reads the job's records and text from) made
    /// IpcPs's alone, as close-on-exec and dup2 leave them on Linux. A handle a process inherits stays inheritable, and
    /// every program the script starts inherits every inheritable handle (Process.Start, Start-Process and cmd pass
    /// bInheritHandles), redirected or not: a program that outlived the child (a build server, a daemon) held the
    /// parent's pipes, so the parent's readers never saw their end. Now each parent pipe is not inheritable and the
    /// standard slot gets a pipe of the child's own (its writing end inheritable), whose relay thread copies what arrives
    /// onto the parent's pipe: a program started without redirection still writes to the job's output while the child
    /// lives (its writes fail with a broken pipe once the child has ended), and the parent's pipe ends with the child.
    /// Streams opened on the standard handles before (the records' stream, Console.Out and Console.Error, made here first
    /// when nothing made them yet) keep the parent's pipe. Text that goes through a relay (a program's, or Console.Out's
    /// once [Console]::OutputEncoding's setter has made it anew on the standard handle) must still come before the
    /// records written after it: the records' writer asks <see cref="OutputPending"/> and drains first.
    /// Anything but a pipe (a console, a file) is left as it is; a step that fails leaves that slot as it was.
    /// </summary>
    internal static unsafe class OutputRelay
    {
        public const int STD_OUTPUT_HANDLE = -11, STD_ERROR_HANDLE = -12;
        private const uint FILE_TYPE_PIPE = 3;

        [System.Runtime.InteropServices.DllImport("kernel32", SetLastError = true)] private static extern uint GetFileType(IntPtr file);

        private static int _started;
        private static readonly Relayed?[] Relays = new Relayed?[2];

        /// <summary>Relays standard output and error (once per process).</summary>
        public static void Start()
        {
            if (Interlocked.Exchange(ref _started, 1) != 0) return;
            // Console.Out and Console.Error are made on the handle of their first use: the parent's pipe, as before.
            Console.Out.Flush();
            Console.Error.Flush();
            Relays[0] = Relay(STD_OUTPUT_HANDLE);
            Relays[1] = Relay(STD_ERROR_HANDLE);
            // The runtime prints an unhandled exception natively on the standard error handle of the moment, after this
            // event, and the process ends before a relay could copy it: the parent's handles go back first, so the
            // text reaches the parent (a job's reason, a pool worker's death reason). (Environment.FailFast raises no
            // event: its text still goes through the relay, and may be lost.)
            AppDomain.CurrentDomain.UnhandledException += (sender, e) => Restore();
        }

        /// <summary>Puts the parent's pipes back in the standard slots (the relays stay, for what already holds theirs).</summary>
        private static void Restore()
        {
            if (Relays[0] is Relayed output) Win32.SetStdHandle(STD_OUTPUT_HANDLE, output.Parent);
            if (Relays[1] is Relayed error) Win32.SetStdHandle(STD_ERROR_HANDLE, error.Parent);
        }

        /// <summary>
        /// Waits (at most TIMEOUT for each) until what programs wrote to the relayed slots before now is on the parent's
        /// pipes: the child's last frame must not overtake a program's last line (Start-Process -NoNewWindow -Wait as a
        /// script's last line). A marker written into each relay pipe comes out behind everything before it (a pipe
        /// keeps order); the relay drops it and signals.
        /// </summary>
        public static void Drain(TimeSpan timeout)
        {
            // Both markers first, then both waits: the two relays drain at once, within one TIMEOUT.
            int output = Relays[0]?.Ask() ?? 0, error = Relays[1]?.Ask() ?? 0;
            var deadline = DateTime.UtcNow + timeout;
            Relays[0]?.Wait(output, deadline);
            Relays[1]?.Wait(error, deadline);
        }

        /// <summary>
        /// Whether the standard output relay may hold bytes not yet on the parent's pipe: some in its pipe, or read and
        /// not yet written. A record written now waits for them (<see cref="DrainOutput"/>): a line written before it
        /// comes out before it. (The pump takes one byte, marks itself busy, then takes the rest: only a write of a
        /// single byte can go unseen, in the instant between.)
        /// </summary>
        public static bool OutputPending() => Relays[0]?.Pending() == true;

        /// <summary>As <see cref="Drain"/>, standard output only.</summary>
        public static void DrainOutput(TimeSpan timeout)
        {
            if (Relays[0] is Relayed output) output.Wait(output.Ask(), DateTime.UtcNow + timeout);
        }

        private static Relayed? Relay(int which)
        {
            IntPtr parent = Win32.GetStdHandle(which);
            if (parent == IntPtr.Zero || parent == Win32.InvalidHandle || GetFileType(parent) != FILE_TYPE_PIPE) return null;
            var inherit = new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), bInheritHandle = 1 };
            if (!Win32Launch.CreatePipe(out IntPtr read, out IntPtr write, &inherit, 0)) return null;
            try
            {
                if (!Win32.SetHandleInformation(read, Win32.HANDLE_FLAG_INHERIT, 0)) return null;
                var relay = new Relayed(read, write, parent);
                var thread = new Thread(relay.Pump, 64 * 1024) { IsBackground = true, Name = "IpcPs output relay" };
                thread.Start();   // it owns READ from here on
                read = IntPtr.Zero;
                if (!Win32.SetStdHandle(which, write)) return null;   // WRITE closed below: its pump sees the end
                Win32.SetHandleInformation(parent, Win32.HANDLE_FLAG_INHERIT, 0);
                write = IntPtr.Zero;   // the standard slot's for the process's life
                return relay;
            }
            catch (Exception e) when (e is OutOfMemoryException || e is ThreadStartException) { return null; }   // left as it was
            finally
            {
                if (read != IntPtr.Zero) Win32.CloseHandle(read);
                if (write != IntPtr.Zero) Win32.CloseHandle(write);
            }
        }

        /// <summary>One relay: its pipe's ends, the parent's pipe, and the drain marker (random: no program writes it).</summary>
        private sealed class Relayed
        {
            private readonly IntPtr _read, _write, _parent;
            private readonly byte[] _marker = Marker();
            private readonly object _gate = new object();
            private int _asked, _seen;   // markers written by Drain, markers the pump has passed (under _gate)
            private volatile bool _busy;   // the pump holds bytes it read and has not written (or a marker's possible start)
            private bool _ended;   // the pump has ended and closed _read (under _gate: Pending peeks at _read under it)

            /// <summary>16 random bytes after 0xFF, a byte no UTF-8 text holds: a chunk's last byte is seldom held back.</summary>
            private static byte[] Marker()
            {
                byte[] m = new byte[17];
                Guid.NewGuid().ToByteArray().CopyTo(m, 1);
                m[0] = 0xFF;
                for (int i = 1; i < m.Length; i++) if (m[i] == 0xFF) m[i] = 0xFE;   // never restarts itself
                return m;
            }

            /// <summary>The parent's pipe this relay copies onto.</summary>
            public IntPtr Parent => _parent;

            public Relayed(IntPtr read, IntPtr write, IntPtr parent)
            {
                _read = read;
                _write = write;
                _parent = parent;
            }

            /// <summary>The pipe first, then the pump (which marks itself busy before it takes the pipe's rest): never both missed.</summary>
            public bool Pending()
            {
                lock (_gate)
                {
                    if (!_ended && Win32.PeekNamedPipe(_read, null, 0, out _, out int available, out _) && available > 0) return true;
                }
                return _busy;
            }

            /// <summary>Writes a marker into the relay pipe: its ticket for <see cref="Wait"/>, or 0 when it could not be written.</summary>
            public int Ask()
            {
                int ticket;
                lock (_gate) ticket = ++_asked;
                fixed (byte* m = _marker)
                {
                    return Win32.WriteFile(_write, m, _marker.Length, out int written, null) && written == _marker.Length ? ticket : 0;
                }
            }

            /// <summary>Waits until the pump has passed the marker of TICKET (0: none to wait for), at most until DEADLINE.</summary>
            public void Wait(int ticket, DateTime deadline)
            {
                if (ticket == 0) return;
                lock (_gate)
                {
                    while (_seen < ticket)
                    {
                        var left = deadline - DateTime.UtcNow;
                        if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left)) return;
                    }
                }
            }

            /// <summary>
            /// Copies the relay pipe to the parent's until the pipe ends (no writer left) or the parent's fails (it has
            /// gone). Bytes that may be the start of a marker are held until they prove not to be.
            /// </summary>
            public void Pump()
            {
                var buffer = new byte[4096];
                var output = new byte[4096 + 17];
                int matched = 0;
                // No exception of this thread ends the process: the relay ends (its pipe closed, so writers see a broken
                // pipe), the child goes on.
                try
                {
                    fixed (byte* b = buffer)
                    fixed (byte* o = output)
                    {
                        // One byte first, the rest after the pump is marked busy: a write of more than one byte is
                        // always seen by Pending, in the pipe or as busy (a one-byte write can slip by in between).
                        while (Win32.ReadFile(_read, b, 1, out int read, null) && read > 0)
                        {
                            _busy = true;
                            if (Win32.PeekNamedPipe(_read, null, 0, out _, out int available, out _) && available > 0
                                && Win32.ReadFile(_read, b + 1, Math.Min(available, buffer.Length - 1), out int more, null)) read += more;
                            int n = 0;
                            for (int i = 0; i < read; i++)
                            {
                                byte c = b[i];
                                if (c == _marker[matched])
                                {
                                    if (++matched < _marker.Length) continue;
                                    matched = 0;
                                    if (!Write(o, n)) return;   // what came before the marker is out first
                                    n = 0;
                                    lock (_gate) { _seen++; Monitor.PulseAll(_gate); }
                                    continue;
                                }
                                // Not the marker: the bytes held go out, and C may start it anew.
                                for (int k = 0; k < matched; k++) o[n++] = _marker[k];
                                matched = 0;
                                if (c == _marker[0]) matched = 1;
                                else o[n++] = c;
                            }
                            if (!Write(o, n)) return;
                            _busy = matched > 0;
                        }
                    }
                }
                catch (Exception) { /* the relay ends, not the process */ }
                finally
                {
                    _busy = false;
                    lock (_gate)
                    {
                        _ended = true;
                        Win32.CloseHandle(_read);
                    }
                }
            }

            private bool Write(byte* data, int count)
            {
                for (int done = 0; done < count;)
                {
                    if (!Win32.WriteFile(_parent, data + done, count - done, out int written, null)) return false;
                    done += written;
                }
                return true;
            }
        }
    }
}
