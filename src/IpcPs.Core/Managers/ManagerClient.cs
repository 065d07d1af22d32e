using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Messaging;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// One authenticated connection to a manager. Calls are serialised on it (one request, one reply). Proxies in a
    /// process share one connection per address (<see cref="For"/>), made on first use, so a proxy that arrives in a
    /// child process connects there by itself; a connection that broke is replaced on the next call.
    /// </summary>
    internal sealed class ManagerClient : IDisposable
    {
        private const int ArgumentDepth = 2;
        private static readonly ConcurrentDictionary<string, byte[]> KnownKeys = new ConcurrentDictionary<string, byte[]>();
        private static readonly System.Collections.Generic.Dictionary<string, ManagerClient> Shared = new System.Collections.Generic.Dictionary<string, ManagerClient>();
        private readonly FrameSocket _socket;
        private readonly object _gate = new object();
        private volatile bool _broken;

        private ManagerClient(string address, FrameSocket socket)
        {
            Address = address;
            _socket = socket;
        }

        public string Address { get; }

        public bool IsBroken => _broken;

        /// <summary>Remembers KEY for ADDRESS in this process (Start-IpcManager, Connect-IpcManager, a parent's keys).</summary>
        public static void RememberKey(string address, byte[] key) => KnownKeys[address] = key;

        /// <summary>Every key this process remembers, by address: what its child processes inherit.</summary>
        public static KeyValuePair<string, byte[]>[] RememberedKeys() => KnownKeys.ToArray();

        /// <summary>True when ADDRESS is exactly the Unix socket of the manager folder STATEDIR.</summary>
        private static bool IsSocketOf(string address, string? stateDir) =>
            !string.IsNullOrEmpty(stateDir) && address == ManagerAddress.UnixPrefix + System.IO.Path.Combine(stateDir, ManagerState.SocketFile);

        /// <summary>
        /// This process's shared connection to ADDRESS (a broken one is replaced). CANCEL (the caller's interrupt, or a
        /// cmdlet's stop token) ends a connect or handshake in progress: OperationCanceledException, nothing left open.
        /// </summary>
        public static ManagerClient For(string address, string? stateDir, CancellationToken cancel)
        {
            lock (Shared)
                if (Shared.TryGetValue(address, out var c) && !c.IsBroken) return c;
            // Connected outside the lock: a manager that is slow to answer (up to the connect and handshake bounds) must
            // not hold up the proxies of every other manager in this process.
            var fresh = Open(address, stateDir, null, cancel);
            lock (Shared)
            {
                if (Shared.TryGetValue(address, out var raced) && !raced.IsBroken) { fresh.Dispose(); return raced; }
                Shared[address] = fresh;
                return fresh;
            }
        }

        /// <summary>
        /// A new authenticated connection to ADDRESS. With KEY, that key (Connect-IpcManager -AuthKey). Without, the key
        /// a proof may be made with for this address, and no other (docs/design.md, "Managers", "Keys"):
        /// <list type="number">
        /// <item>the key file of STATEDIR, only when ADDRESS is exactly the Unix socket in STATEDIR and STATEDIR is a
        /// private folder of this user; the socket is then reached through the folder's descriptor, so the key goes
        /// to the socket in the folder it was read from (a socket only we can have made). A descriptor that names a
        /// local folder with another address gets nothing from the folder;</item>
        /// <item>the key remembered in this process for exactly ADDRESS (Start-IpcManager, Connect-IpcManager, inherited
        /// from a parent);</item>
        /// <item>else <see cref="ManagerAuthenticationException"/>, before anything is sent.</item>
        /// </list>
        /// CANCEL ends the connect or the handshake at once (OperationCanceledException; the socket is closed).
        /// </summary>
        public static ManagerClient Open(string address, string? stateDir, byte[]? key, CancellationToken cancel) =>
            Open(address, stateDir, key, DefaultHandshakeTimeout, cancel);

        /// <summary>How long a client gives a manager to pass the handshake.</summary>
        internal static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(30);

        /// <summary>
        /// How long a connect may take (the system's own bound is some 2 minutes of SYN retries on Linux, 21 s on
        /// Windows): an address that drops packets is <see cref="ConnectionClosedException"/> after this.
        /// </summary>
        internal static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);

        /// <summary>The same, giving the manager HANDSHAKE to pass the handshake (tests shorten it).</summary>
        internal static ManagerClient Open(string address, string? stateDir, byte[]? key, TimeSpan handshake, CancellationToken cancel = default)
        {
            cancel.ThrowIfCancellationRequested();
            if (key != null) return Connect(address, key, null, handshake, cancel);
            if (IsSocketOf(address, stateDir))
            {
                using (var folder = ManagerState.OpenLocal(stateDir))
                    if (folder?.ReadKey() is byte[] fileKey) return Connect(address, fileKey, folder.SocketPath, handshake, cancel);
            }
            else if (ManagerState.LocalOverLoopback && !string.IsNullOrEmpty(stateDir))
            {
                // Windows: the folder's key goes only to the address its own address file names.
                using (var folder = ManagerState.OpenLocal(stateDir))
                    if (folder != null && folder.LocalAddress() == address && folder.ReadKey() is byte[] fileKey) return Connect(address, fileKey, null, handshake, cancel);
            }
            if (KnownKeys.TryGetValue(address, out var known)) return Connect(address, known, null, handshake, cancel);
            string why = string.IsNullOrEmpty(stateDir) ? ""
                : IsSocketOf(address, stateDir) ? $" The folder '{stateDir}' is not a private folder of this user with a key file, so no key is taken from it."
                : $" A manager's key file is used only for the Unix socket in its own folder, never for another address: this reference names the folder '{stateDir}' but the address '{address}'.";
            throw new ManagerAuthenticationException(address,
                $"No auth key is known for the manager at '{address}'.{why} Use Connect-IpcManager -Address '{address}' -AuthKey … first.");
        }

        /// <summary>Forgets (and closes) this process's connection to ADDRESS, after the manager shut down.</summary>
        public static void Forget(string address)
        {
            lock (Shared)
                if (Shared.TryGetValue(address, out var c)) { Shared.Remove(address); c.Dispose(); }
        }

        /// <summary>Connects to ADDRESS (or to the Unix socket at VIAPATH, a path through a folder's descriptor) and authenticates with KEY.</summary>
        private static ManagerClient Connect(string address, byte[] key, string? viaPath, TimeSpan handshake, CancellationToken cancel)
        {
            // A Unix socket path longer than sun_path (108 bytes) is reached another way where the platform has one
            // (Linux: through its folder's descriptor).
            IDisposable? folder = viaPath is null ? ManagerAddress.ReachLongUnixPath(address, out viaPath) : null;
            System.Net.EndPoint endPoint;
            Socket socket;
            try
            {
                endPoint = viaPath != null ? ManagerAddress.UnixEndPointOf(viaPath) : ManagerAddress.Parse(address, DefaultConnectTimeout, cancel);
                socket = ConnectSocket(address, endPoint, cancel);
            }
            finally { folder?.Dispose(); }
            var fs = new FrameSocket(socket) { PeerName = address };
            try
            {
                // The handshake gets HANDSHAKE in all, as the server gives its peers (a timer closes the socket): a
                // per-receive timeout alone let a peer at the address trickle a byte at a time and hold the caller for
                // that timeout per byte, some 40 minutes for the hello and the verdict. CANCEL closes it the same way.
                // The receive timeout is only a backstop, 5 s past the timer (a timer late on a starved thread pool): at
                // the deadline itself it raced the timer and a silent peer was reported as a dropped connection.
                socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, (handshake + HandshakeBackstop).TotalMilliseconds);
                int ended = 0;   // 1: the handshake finished; 2: the deadline closed the socket first; 3: CANCEL did
                FrameSeal seal;
                void End(int why) { if (Interlocked.CompareExchange(ref ended, why, 0) == 0) fs.Dispose(); }
                using (new Timer(_ => End(2), null, handshake, Timeout.InfiniteTimeSpan))
                using (cancel.Register(() => End(3)))
                {
                    try { seal = ManagerAuth.Connect(fs, key, address); }
                    catch (Exception e) when (Volatile.Read(ref ended) != 0 || e is SocketException || e is ConnectionClosedException
                        || e is MessageFormatException || e is ObjectDisposedException)
                    {
                        if (Volatile.Read(ref ended) == 3) throw new OperationCanceledException(cancel);
                        if (Volatile.Read(ref ended) == 2 || e is ObjectDisposedException || IsTimedOut(e))
                            throw TooSlow(address, handshake);
                        throw new ManagerAuthenticationException(address, $"The manager at '{address}' dropped the connection during authentication: {e.Message}");
                    }
                    if (Interlocked.CompareExchange(ref ended, 1, 0) != 0)
                    {
                        seal.Dispose();
                        if (ended == 3) throw new OperationCanceledException(cancel);
                        throw TooSlow(address, handshake);
                    }
                }
                // Sealed over TCP only, as the server does (see ManagerServer.Serve).
                if (endPoint is System.Net.IPEndPoint) fs.Protect(seal);
                else seal.Dispose();
                socket.ReceiveTimeout = 0;
                fs.Limit = FrameSocket.DefaultLimit;
                fs.SpinMicroseconds = ManagerServer.SpinMicroseconds;
                return new ManagerClient(address, fs);
            }
            catch
            {
                fs.Dispose();
                throw;
            }
        }

        /// <summary>
        /// A socket connected to ENDPOINT. Only ever used synchronously: under .NET a socket once made non-blocking (by
        /// ConnectAsync, or Blocking = false even if set back) stays so, and every later synchronous Send and Receive of
        /// the connection goes through the asynchronous engine — a manager call took 2.5 times as long (dict sets
        /// 100 k/s → 40 k/s over a Unix socket). A Unix socket connects at once (or, its manager's backlog full, as soon
        /// as the manager takes the one before it: a local process of this user). A TCP connect waits for a peer that
        /// may never answer, so it runs on a thread of its own (<see cref="ConnectBounded"/>).
        /// </summary>
        internal static Socket ConnectSocket(string address, System.Net.EndPoint endPoint, CancellationToken cancel)
        {
            var socket = ManagerAddress.NewSocket(endPoint);
            try
            {
                if (endPoint is System.Net.IPEndPoint) ConnectBounded(address, socket, endPoint, cancel);
                else socket.Connect(endPoint);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new ConnectionClosedException(address, $"Cannot reach the manager at '{address}': {e.Message}");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>
        /// SOCKET's blocking connect to ENDPOINT, on a thread of its own, waited for within <see cref="DefaultConnectTimeout"/>
        /// or until CANCEL: then the socket is closed, which ends the connect (.NET shuts a socket down before closing it,
        /// and shutdown(2) aborts a connect in progress; the thread ends with it). A peer that drops SYNs so costs neither
        /// the system's two minutes nor a stop that waits. A failed connect throws its SocketException.
        /// </summary>
        private static void ConnectBounded(string address, Socket socket, System.Net.EndPoint endPoint, CancellationToken cancel)
        {
            var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    socket.Connect(endPoint);
                    outcome.TrySetResult(null);
                }
                catch (Exception e) { outcome.TrySetResult(e); }   // a thread of ours never ends the process
            }) { IsBackground = true, Name = "IpcPs manager connect" };
            Platform.PlatformErrors.StartThread(thread, address);
            bool done;
            try { done = outcome.Task.Wait((int)DefaultConnectTimeout.TotalMilliseconds, cancel); }
            catch (OperationCanceledException) { done = false; }
            if (!done)
            {
                socket.Dispose();   // ends the connect; the thread's outcome is then dropped
                cancel.ThrowIfCancellationRequested();
                throw new ConnectionClosedException(address, $"Cannot reach the manager at '{address}': no connection within {DefaultConnectTimeout.TotalSeconds:0} s.");
            }
            if (outcome.Task.Result is Exception failed)
            {
                if (failed is SocketException) throw failed;
                throw new ConnectionClosedException(address, $"Cannot reach the manager at '{address}': {failed.Message}");
            }
        }

        /// <summary>How long after the handshake's deadline the socket's own receive timeout ends a receive the timer did not.</summary>
        private static readonly TimeSpan HandshakeBackstop = TimeSpan.FromSeconds(5);

        private static bool IsTimedOut(Exception e) =>
            (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode == SocketError.TimedOut;

        private static ManagerAuthenticationException TooSlow(string address, TimeSpan handshake) => new ManagerAuthenticationException(address,
            $"The peer at '{address}' did not complete the manager handshake within {handshake.TotalSeconds:0.#} s (a manager answers in one round trip); the connection was closed.");

        /// <summary>
        /// Calls MEMBER of object ID; a server-side failure is a <see cref="ManagerRemoteException"/>. The caller's host
        /// interrupt (Ctrl+C) ends a call waiting for its reply: the connection is closed (the two sides no longer agree
        /// on where the stream is; the next call makes a new one) and OperationCanceledException is thrown. Whether the
        /// manager ran the request is then unknown, as with any call whose reply never came.
        /// </summary>
        public object? Call(long id, string member, object?[] args) => Call(id, member, args, IpcHost.CallerInterrupt);

        /// <summary>The same, ended by CANCEL instead of the caller's interrupt (a bounded call that Ctrl+C must not cut).</summary>
        public object? Call(long id, string member, object?[] args, CancellationToken cancel)
        {
            object?[] reply;
            lock (_gate)
            {
                if (_broken) throw new ConnectionClosedException(Address, $"The connection to the manager at '{Address}' is closed.");
                cancel.ThrowIfCancellationRequested();
                var w = MessageCodec.Encode(new object?[] { id, member, args }, ArgumentDepth);
                var stop = cancel.CanBeCanceled ? cancel.Register(Dispose) : default;
                try
                {
                    _socket.Send(w);
                    var frame = _socket.Receive() ?? throw new ConnectionClosedException(Address, $"The manager at '{Address}' closed the connection (has it shut down?).");
                    reply = Decode(frame) as object?[] ?? throw new MessageFormatException("The manager's reply is not a reply.");
                }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is ConnectionClosedException
                    || e is MessageFormatException || e is ManagerAuthenticationException)
                {
                    // Whatever broke, the two sides no longer agree on where the stream is: this connection is done.
                    _broken = true;
                    _socket.Dispose();
                    if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
                    if (e is ConnectionClosedException || e is ManagerAuthenticationException) throw;
                    throw new ConnectionClosedException(Address, $"The connection to the manager at '{Address}' failed: {e.Message}");
                }
                finally
                {
                    stop.Dispose();
                    MessageCodec.Recycle(w);
                }
            }
            if (reply.Length >= 2 && reply[0] is true) return reply[1];
            if (reply.Length >= 3 && reply[0] is false)
                throw new ManagerRemoteException(Address, reply[1] as string ?? "?", reply[2] as string ?? "The manager reported an error.");
            throw new MessageFormatException("The manager's reply is not a reply.");
        }

        // A reply that passed its integrity check but cannot be decoded (another version of the codec, a bug) is a
        // format error of this connection, whatever the decoder threw; only running out of memory goes on up.
        private static object? Decode(ArraySegment<byte> frame)
        {
            try { return MessageCodec.Decode(frame.Array!, frame.Offset, frame.Count); }
            catch (Exception e) when (!(e is MessageFormatException) && !(e is OutOfMemoryException) && !(e is ThreadAbortException))
            {
                throw new MessageFormatException("The manager's reply cannot be decoded: " + e.Message, e);
            }
        }

        public void Dispose()
        {
            _broken = true;
            _socket.Dispose();
        }
    }
}
