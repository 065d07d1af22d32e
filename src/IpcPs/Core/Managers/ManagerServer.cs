using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using IpcPs.Core.Messaging;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// The manager's server (docs/design.md, "Managers"): one listening socket, one thread per connection. A connection
    /// first passes <see cref="ManagerAuth"/>, then sends requests [id, member, args] and gets [true, result] or
    /// [false, exception type, message] back, one at a time. Anything malformed drops that connection only: no
    /// exception from a connection ever leaves its thread. Object 0 is the manager itself (Create, TypeIds, Shutdown).
    /// </summary>
    public sealed class ManagerServer : IDisposable
    {
        private const int ResultDepth = 2;

        /// <summary>
        /// At most this many connections may be in the handshake at once; past that, the server waits for a slot before
        /// it accepts again, so new clients wait in the listen backlog. Each holds a thread for up to 10 s: without a
        /// cap, a peer opening connections without end would exhaust threads and memory and take the server down for
        /// everyone; with it, such a peer can only delay new clients.
        /// </summary>
        internal const int MaxUnauthenticated = 128;
        private readonly SemaphoreSlim _handshakeSlots = new SemaphoreSlim(MaxUnauthenticated, MaxUnauthenticated);

        /// <summary>
        /// After a reply, how long a connection polls for the client's next request before sleeping, and a client for
        /// the reply (see FrameSocket): 50 µs, or IPCPS_MANAGER_SPIN_US (0 turns polling off) read once per process.
        /// </summary>
        internal static readonly int SpinMicroseconds =
            int.TryParse(Environment.GetEnvironmentVariable("IPCPS_MANAGER_SPIN_US"), out int us) && us >= 0 ? us : 50;
        private readonly byte[] _key;
        private readonly IManagerTypeHost? _host;
        private readonly Socket _listener;
        private readonly ConcurrentDictionary<long, Entry> _objects = new ConcurrentDictionary<long, Entry>();
        private readonly List<IpcObject> _owned = new List<IpcObject>();   // shared-memory objects made here; destroyed at shutdown
        private readonly ConcurrentDictionary<FrameSocket, byte> _connections = new ConcurrentDictionary<FrameSocket, byte>();
        private readonly ManualResetEventSlim _stopped = new ManualResetEventSlim();
        private long _nextId;
        private int _shutdown;

        private sealed class Entry
        {
            public Entry(string typeId, object target) { TypeId = typeId; Target = target; }
            public string TypeId { get; }
            public object Target { get; }   // an IManagedStore, or a custom instance called through the host
        }

        /// <summary>Listens on ADDRESS (host:port), or on a Unix socket in STATEDIR when ADDRESS is null.</summary>
        public ManagerServer(string? address, string stateDir, byte[] key, IManagerTypeHost? host)
        {
            _key = key;
            _host = host;
            StateDir = stateDir;
            var endPoint = ManagerAddress.Parse(address ?? ManagerAddress.UnixPrefix + Path.Combine(stateDir, "socket"));
            _listener = ManagerAddress.NewSocket(endPoint);
            try
            {
                if (!ManagerAddress.IsUnix(address ?? ManagerAddress.UnixPrefix)) _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                _listener.Bind(endPoint);
                _listener.Listen(64);
            }
            catch
            {
                _listener.Dispose();
                throw;
            }
            Address = ManagerAddress.Format(_listener.LocalEndPoint!);
            if (address is null) Address = ManagerAddress.UnixPrefix + Path.Combine(stateDir, "socket");
        }

        /// <summary>Where clients connect: unix:/… or host:port (the real port when 0 was asked for).</summary>
        public string Address { get; }

        /// <summary>The 0700 directory holding the socket (Unix) and the auth key file; removed at shutdown.</summary>
        public string StateDir { get; }

        /// <summary>Set once the server has shut down.</summary>
        public WaitHandle Stopped => _stopped.WaitHandle;

        public void Start() => new Thread(AcceptLoop) { IsBackground = true, Name = "IpcPs manager accept" }.Start();

        private void AcceptLoop()
        {
            while (Volatile.Read(ref _shutdown) == 0)
            {
                while (!_handshakeSlots.Wait(200))
                    if (Volatile.Read(ref _shutdown) != 0) return;
                Socket peer;
                try { peer = _listener.Accept(); }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
                {
                    _handshakeSlots.Release();
                    if (Volatile.Read(ref _shutdown) != 0) return;
                    // A peer that vanished while being accepted: go on. Anything else (out of file descriptors) would
                    // fail again at once: back off instead of spinning a CPU until descriptors are free again.
                    if (!(e is SocketException se && (se.SocketErrorCode == SocketError.ConnectionAborted || se.SocketErrorCode == SocketError.ConnectionReset)))
                        Thread.Sleep(100);
                    continue;
                }
                FrameSocket? fs = null;
                try
                {
                    if (peer.AddressFamily != AddressFamily.Unix) peer.NoDelay = true;
                    fs = new FrameSocket(peer);
                    _connections[fs] = 0;
                    var connection = fs;
                    new Thread(() => Serve(connection)) { IsBackground = true, Name = "IpcPs manager connection" }.Start();
                }
                catch (Exception)
                {
                    // The peer went before it was set up, or no thread could be had: this connection goes, the server
                    // goes on with those it has. Nothing may end this loop but shutdown.
                    if (fs != null) { _connections.TryRemove(fs, out _); fs.Dispose(); }
                    else peer.Dispose();
                    _handshakeSlots.Release();
                }
            }
        }

        private void Serve(FrameSocket fs)
        {
            bool shutdownAfter = false;
            bool inHandshake = true;   // this connection holds a handshake slot until its handshake ends
            try
            {
                // An unauthenticated peer gets 10 s for the whole handshake (not per receive: a peer trickling a byte
                // at a time would hold its thread for hours) and 1 KiB frames; then the full limit, no timeout.
                fs.Socket.ReceiveTimeout = 10_000;
                int handshake = 0;   // 0 running, 1 done, 2 timed out (the socket closed under it)
                bool authenticated;
                using (new Timer(_ => { if (Interlocked.CompareExchange(ref handshake, 2, 0) == 0) fs.Dispose(); }, null, 10_000, Timeout.Infinite))
                {
                    authenticated = ManagerAuth.Accept(fs, _key);
                    if (Interlocked.CompareExchange(ref handshake, 1, 0) != 0) return;
                }
                inHandshake = false;
                _handshakeSlots.Release();
                if (!authenticated) return;
                fs.Socket.ReceiveTimeout = 0;
                fs.Limit = FrameSocket.DefaultLimit;
                fs.SpinMicroseconds = SpinMicroseconds;
                while (Volatile.Read(ref _shutdown) == 0)
                {
                    var frame = fs.Receive();
                    if (frame is null) return;
                    if (!(MessageCodec.Decode(frame.Value.Array!, frame.Value.Offset, frame.Value.Count) is object?[] request)
                        || request.Length != 3 || !(request[1] is string member))
                        return;   // not a request: a confused or hostile peer; drop it
                    long id = Convert.ToInt64(request[0], CultureInfo.InvariantCulture);
                    var args = request[2] as object?[] ?? Array.Empty<object?>();
                    object?[] response;
                    try
                    {
                        response = new object?[] { true, Dispatch(id, member, args) };
                        shutdownAfter = id == 0 && member == "Shutdown";
                    }
                    catch (Exception e)
                    {
                        var inner = e is System.Reflection.TargetInvocationException t && t.InnerException != null ? t.InnerException : e;
                        response = new object?[] { false, inner.GetType().FullName, inner.Message };
                    }
                    Reply(fs, response);
                    if (shutdownAfter) return;
                }
            }
            catch (Exception)
            {
                // Garbage, a truncated frame, a peer that died mid-call, a failed send: this connection ends, nothing else.
            }
            finally
            {
                if (inHandshake) _handshakeSlots.Release();
                _connections.TryRemove(fs, out _);
                fs.Dispose();
                if (shutdownAfter) Shutdown();
            }
        }

        private static void Reply(FrameSocket fs, object?[] response)
        {
            MessageWriter w;
            try { w = MessageCodec.Encode(response, ResultDepth); }
            catch (Exception e)
            {
                w = MessageCodec.Encode(new object?[] { false, e.GetType().FullName, "The result cannot be sent back: " + e.Message }, ResultDepth);
            }
            if (w.TotalLength > FrameSocket.DefaultLimit)
            {
                // Too big for one frame: the caller gets an error, not a dropped connection.
                long size = w.TotalLength;
                MessageCodec.Recycle(w);
                w = MessageCodec.Encode(new object?[] { false, typeof(MessageTooLargeException).FullName,
                    $"The result cannot be sent back: it takes {size:N0} bytes; a manager frame holds at most {FrameSocket.DefaultLimit:N0}." }, ResultDepth);
            }
            try { fs.Send(w); }
            finally { MessageCodec.Recycle(w); }
        }

        private object? Dispatch(long id, string member, object?[] args)
        {
            if (id == 0) return DispatchManager(member, args);
            if (!_objects.TryGetValue(id, out var entry)) throw new KeyNotFoundException($"The manager has no object {id} (was it shut down and restarted?).");
            if (entry.Target is IManagedStore store) return store.Invoke(member, args);
            return _host!.Invoke(entry.Target, entry.TypeId, member, args);
        }

        private object? DispatchManager(string member, object?[] args)
        {
            switch (member)
            {
                case "Create":
                    return Create(DictStore.Arg(args, 0) as string ?? throw new ArgumentException("Create needs a type id."),
                        DictStore.Arg(args, 1) as object?[] ?? Array.Empty<object?>());
                case "TypeIds": return (_host?.TypeIds ?? (IReadOnlyCollection<string>)Array.Empty<string>()).Cast<object?>().ToArray();
                case "Pid": return System.Diagnostics.Process.GetCurrentProcess().Id;
                case "Shutdown": return null;   // done by the connection after the reply has gone
                default: throw DictStore.Unknown("manager", member);
            }
        }

        /// <summary>[id, type id, shared object name, its kind]: a store or custom object has an id; a shared-memory object a name.</summary>
        private object?[] Create(string typeId, object?[] args)
        {
            var shared = SharedKinds.Create(typeId, args);
            if (shared != null)
            {
                lock (_owned)
                {
                    if (Volatile.Read(ref _shutdown) != 0) { shared.Unlink(); shared.Close(); throw new ObjectDisposedException("manager"); }
                    _owned.Add(shared);
                }
                return new object?[] { 0L, typeId, shared.Name, shared.Kind.ToString() };
            }
            object target;
            switch (typeId)
            {
                case "Dict": target = new DictStore(args); break;
                case "List": target = new ListStore(args); break;
                case "Namespace": target = new NamespaceStore(args); break;
                default:
                    var registered = _host?.TypeIds.FirstOrDefault(t => string.Equals(t, typeId, StringComparison.OrdinalIgnoreCase))
                        ?? throw new ArgumentException($"The manager has no type '{typeId}'; registered: {string.Join(", ", _host?.TypeIds ?? Array.Empty<string>())}.");
                    typeId = registered;
                    target = _host!.Create(typeId, args);
                    break;
            }
            long id = Interlocked.Increment(ref _nextId);
            _objects[id] = new Entry(typeId, target);
            return new object?[] { id, typeId, null, null };
        }

        /// <summary>
        /// Stops listening, drops every connection, destroys every object it owns (shared-memory names unlinked,
        /// disposable custom objects disposed) and removes its directory. Idempotent.
        /// </summary>
        public void Shutdown()
        {
            if (Interlocked.Exchange(ref _shutdown, 1) != 0)
            {
                // Another thread is shutting down (stdin EOF and SIGTERM together): return when it is done, so a
                // SIGTERM handler does not let the process die half-way through the clean-up.
                _stopped.Wait(TimeSpan.FromSeconds(10));
                return;
            }
            _listener.Dispose();
            foreach (var c in _connections.Keys) c.Dispose();
            lock (_owned)
            {
                foreach (var o in _owned)
                {
                    try { o.Unlink(); } catch (Exception) { /* already removed by hand */ }
                    // A value, an array and a condition made without a lock created their RLock "NAME.lock" here too.
                    try { Lifecycle.ObjectLifecycle.DestroyOwn(o.Name + ".lock"); } catch (Exception) { /* an invalid or foreign name: not ours */ }
                    o.Close();
                }
                _owned.Clear();
            }
            foreach (var e in _objects.Values)
                if (e.Target is IDisposable d)
                    try { d.Dispose(); } catch (Exception) { /* a user's Dispose may throw; the rest still go */ }
            _objects.Clear();
            ManagerState.Remove(StateDir);
            _stopped.Set();
        }

        public void Dispose() => Shutdown();
    }
}
