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
    /// first passes <see cref="ManagerAuth"/> (admitted by the <see cref="HandshakeGate"/>), then every frame (sealed
    /// over TCP, <see cref="FrameSeal"/>) carries a request [id, member, args]; it gets [true, result] or
    /// [false, exception type, message] back, one at a time. Anything malformed or altered drops that connection only:
    /// no exception from a connection ever leaves its thread. Object 0 is the manager itself (Create, TypeIds, Shutdown).
    /// </summary>
    public sealed class ManagerServer : IDisposable
    {
        private const int ResultDepth = 2;

        /// <summary>
        /// After a reply, how long a connection polls for the client's next request before sleeping, and a client for
        /// the reply (see FrameSocket): 50 µs, or IPCPS_MANAGER_SPIN_US (0 turns polling off) read once per process.
        /// </summary>
        internal static readonly int SpinMicroseconds =
            int.TryParse(Environment.GetEnvironmentVariable("IPCPS_MANAGER_SPIN_US"), out int us) && us >= 0 ? us : 50;
        private readonly byte[] _key;
        private readonly IManagerTypeHost? _host;
        private readonly Socket _listener;
        private readonly bool _unix;
        private readonly HandshakeGate _gate = new HandshakeGate();
        private readonly ConcurrentDictionary<long, Entry> _objects = new ConcurrentDictionary<long, Entry>();
        private readonly List<IpcObject> _owned = new List<IpcObject>();   // shared-memory objects made here; destroyed at shutdown
        private readonly ConcurrentDictionary<FrameSocket, byte> _connections = new ConcurrentDictionary<FrameSocket, byte>();
        private readonly ManualResetEventSlim _stopped = new ManualResetEventSlim();
        // Object ids start at a random point of [2^48, 2^48 + 2^47) for each server, not at 1: a manager stopped and
        // started again at the same address (the same -Name, port and key) must not give its objects the ids the first
        // one gave, or a proxy of the first (a stale proxy reconnects by itself) would reach whichever new object took
        // its id. An unknown id is a KeyNotFoundException on the server, a ManagerRemoteException on the caller. Ids
        // stay below 2^53 (exact as a double anywhere they are shown).
        private long _nextId = FirstId();
        private int _shutdown;

        private sealed class Entry
        {
            public Entry(string typeId, object target) { TypeId = typeId; Target = target; }
            public string TypeId { get; }
            public object Target { get; }   // an IManagedStore, or a custom instance called through the host
        }

        /// <summary>
        /// Listens on ADDRESS (host:port), or on the Unix socket in STATEDIR (a private folder of this user, reached
        /// through a descriptor) when ADDRESS is null. A TCP address that is taken is
        /// <see cref="ManagerAddressInUseException"/>: the socket is exclusive (no SO_REUSEPORT), so two managers never
        /// share a port and split its clients.
        /// </summary>
        public ManagerServer(string? address, string stateDir, byte[] key, IManagerTypeHost? host)
        {
            _key = key;
            _host = host;
            StateDir = stateDir;
            _unix = address is null ? !ManagerState.LocalOverLoopback : ManagerAddress.IsUnix(address);
            if (address is null && ManagerState.LocalOverLoopback)
            {
                // Windows: a local manager listens on a free loopback port and records it in its private folder, where
                // only this user's processes find it (with the key file beside it); frames are sealed as on any TCP.
                using (ManagerState.OpenLocal(stateDir)
                    ?? throw new IpcException($"The manager folder '{stateDir}' is not a private folder of this user; refusing to listen for it.", stateDir)) { }
                _listener = Listen(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), "127.0.0.1:0");
                Address = ManagerAddress.Format(_listener.LocalEndPoint!);
                ManagerState.WriteAddress(stateDir, Address);
            }
            else if (address is null)
            {
                using (var folder = ManagerState.OpenLocal(stateDir)
                    ?? throw new IpcException($"The manager folder '{stateDir}' is not a private folder of this user; refusing to listen there.", stateDir))
                    _listener = Listen(ManagerAddress.UnixEndPointOf(folder.SocketPath), stateDir);
                Address = ManagerAddress.UnixPrefix + Path.Combine(stateDir, ManagerState.SocketFile);
            }
            else
            {
                _listener = Listen(ManagerAddress.Parse(address), address);
                Address = ManagerAddress.Format(_listener.LocalEndPoint!);
            }
        }

        private static Socket Listen(System.Net.EndPoint endPoint, string asked)
        {
            var listener = ManagerAddress.NewSocket(endPoint);
            try
            {
                // Exclusive: never SO_REUSEADDR/SO_REUSEPORT (.NET's ReuseAddress sets both on Linux, and SO_REUSEPORT
                // lets a second listener bind the same port and take half the connections). Linux still lets a new
                // listener bind a port whose old connections linger in TIME_WAIT.
                if (endPoint is System.Net.IPEndPoint) listener.ExclusiveAddressUse = true;
                listener.Bind(endPoint);
                listener.Listen(64);
                return listener;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                listener.Dispose();
                throw new ManagerAddressInUseException(asked);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
        }

        /// <summary>Where clients connect: unix:/… or host:port (the real port when 0 was asked for).</summary>
        public string Address { get; }

        /// <summary>The 0700 folder holding the socket (Unix) and the auth key file; removed at shutdown.</summary>
        public string StateDir { get; }

        /// <summary>Set once the server has shut down.</summary>
        public WaitHandle Stopped => _stopped.WaitHandle;

        /// <summary>Connections in the handshake now (main slots, reserve slots).</summary>
        internal (int Main, int Reserve) InHandshake => _gate.InHandshake;

        /// <summary>The failed handshakes held against ADDRESS now (tests).</summary>
        internal int FailuresOf(string address) => _gate.FailuresOf(address);

        public void Start() => new Thread(AcceptLoop) { IsBackground = true, Name = "IpcPs manager accept" }.Start();

        // Accepts without ever waiting for a slot (HandshakeGate): a throttled address waits on its own thread, a full
        // gate evicts its oldest reserve holder.
        private void AcceptLoop()
        {
            while (Volatile.Read(ref _shutdown) == 0)
            {
                Socket peer;
                try { peer = _listener.Accept(); }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
                {
                    if (Volatile.Read(ref _shutdown) != 0) return;
                    // A peer that vanished while being accepted: go on. Anything else (out of file descriptors) would
                    // fail again at once: back off instead of spinning a CPU until descriptors are free again.
                    if (!(e is SocketException se && (se.SocketErrorCode == SocketError.ConnectionAborted || se.SocketErrorCode == SocketError.ConnectionReset)))
                        Thread.Sleep(100);
                    continue;
                }
                FrameSocket? fs = null;
                Connection? connection = null;
                string? from = null;
                TimeSpan? wait = TimeSpan.Zero;
                try
                {
                    from = _unix ? null : ThrottleKey(peer.RemoteEndPoint);
                    wait = _gate.WaitFor(from);
                    if (wait is null) { peer.Dispose(); continue; }   // too many waiting for this address: refused at once
                    if (!_unix) peer.NoDelay = true;
                    fs = new FrameSocket(peer) { PeerName = "manager client" };
                    _connections[fs] = 0;
                    connection = new Connection(fs, from, wait.Value);
                    if (wait.Value == TimeSpan.Zero) connection.Slot = _gate.Admit(connection.Evict);
                    var started = connection;
                    new Thread(() => Serve(started)) { IsBackground = true, Name = "IpcPs manager connection" }.Start();
                }
                catch (Exception)
                {
                    // The peer went before it was set up, or no thread could be had: this connection goes, the server
                    // goes on with those it has. Nothing may end this loop but shutdown.
                    if (fs != null) { _connections.TryRemove(fs, out _); fs.Dispose(); }
                    else peer.Dispose();
                    if (connection?.Slot != null) _gate.Leave(connection.Slot);
                    if (from != null && wait > TimeSpan.Zero) _gate.DoneWaiting(from);
                }
            }
        }

        /// <summary>A connection before and during its handshake.</summary>
        private sealed class Connection
        {
            public Connection(FrameSocket fs, string? from, TimeSpan wait) { Socket = fs; From = from; Wait = wait; }
            public FrameSocket Socket { get; }
            public string? From { get; }
            public TimeSpan Wait { get; }
            public HandshakeGate.Slot? Slot { get; set; }
            private int _state;   // 0 in the handshake, 1 done, 2 ended from outside (deadline or eviction)

            /// <summary>Ends the handshake from outside: closes the socket unless the handshake finished first.</summary>
            public void Evict()
            {
                if (Interlocked.CompareExchange(ref _state, 2, 0) == 0) Socket.Dispose();
            }

            /// <summary>True when the handshake finished before anyone ended it.</summary>
            public bool Finish() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;
        }

        /// <summary>Whom a failed handshake is held against: the IPv4 address, or the /64 of an IPv6 one (one host's share).</summary>
        internal static string? ThrottleKey(System.Net.EndPoint? remote)
        {
            if (!(remote is System.Net.IPEndPoint ip)) return null;
            var a = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
            if (a.AddressFamily != AddressFamily.InterNetworkV6) return a.ToString();
            var bytes = a.GetAddressBytes();
            return BitConverter.ToString(bytes, 0, 8) + "::/64";
        }

        private void Serve(Connection c)
        {
            var fs = c.Socket;
            bool shutdownAfter = false;
            try
            {
                if (c.Wait > TimeSpan.Zero)
                {
                    // A throttled address: its connection waits here, holding no handshake slot.
                    try { _stopped.Wait(c.Wait); }
                    finally { _gate.DoneWaiting(c.From!); }
                    if (Volatile.Read(ref _shutdown) != 0) return;
                    c.Slot = _gate.Admit(c.Evict);
                }
                var slot = c.Slot!;
                // An unauthenticated peer gets its slot's deadline for the whole handshake (not per receive: a peer
                // trickling a byte at a time would hold its thread for hours) and 1 KiB frames; then the full limit.
                HandshakeOutcome outcome;
                FrameSeal? seal;
                try
                {
                    fs.Socket.ReceiveTimeout = (int)slot.Deadline.TotalMilliseconds;
                    using (new Timer(_ => c.Evict(), null, slot.Deadline, Timeout.InfiniteTimeSpan))
                    {
                        outcome = ManagerAuth.Accept(fs, _key, out seal, wrongKey: () => _gate.Failed(c.From));
                        if (!c.Finish()) { seal?.Dispose(); return; }
                    }
                }
                finally { _gate.Leave(slot); }
                if (outcome != HandshakeOutcome.Authenticated) return;
                // Frames over TCP are sealed; a Unix socket's are not: the kernel carries them between two processes of
                // this user (the folder is 0700), nobody can be on that path, and tags would cost each call ~6 µs.
                if (_unix) seal!.Dispose();
                else fs.Protect(seal!);
                fs.Socket.ReceiveTimeout = 0;
                fs.Limit = FrameSocket.DefaultLimit;
                fs.SpinMicroseconds = SpinMicroseconds;
                while (Volatile.Read(ref _shutdown) == 0)
                {
                    var frame = fs.Receive();
                    if (frame is null) return;
                    if (!(MessageCodec.Decode(frame.Value.Array!, frame.Value.Offset, frame.Value.Count) is object?[] request)
                        || request.Length != 3 || !(request[1] is string member) || !IsObjectId(request[0]))
                        return;   // not a request: a confused peer (it held the key); drop it
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
                // Garbage, a truncated or altered frame, a peer that died mid-call, a failed send, an eviction: this
                // connection ends, nothing else.
            }
            finally
            {
                _connections.TryRemove(fs, out _);
                fs.Dispose();
                if (shutdownAfter) Shutdown();
            }
        }

        private static long FirstId()
        {
            var bytes = new byte[8];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            return (1L << 48) | (BitConverter.ToInt64(bytes, 0) & ((1L << 47) - 1));
        }

        private static bool IsObjectId(object? o) => o is long || o is int || o is short || o is byte || o is sbyte || o is ushort || o is uint;

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
                    if (Volatile.Read(ref _shutdown) != 0) { shared.Unlink(); shared.Close(); throw new ObjectDisposedException(null, "The manager is shutting down."); }
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
