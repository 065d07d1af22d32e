using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
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

        /// <summary>
        /// The key for ADDRESS: for the Unix socket in STATEDIR, the key file there first (it belongs to the manager
        /// listening now; a remembered key may be that of an earlier manager of the same name); otherwise the key
        /// remembered in this process, else the manager's key file (same user, same machine).
        /// </summary>
        public static byte[] KeyFor(string address, string? stateDir)
        {
            bool local = !string.IsNullOrEmpty(stateDir)
                && address == ManagerAddress.UnixPrefix + System.IO.Path.Combine(stateDir, "socket");
            byte[]? key = local ? ManagerState.ReadKey(stateDir) : null;
            if (key is null && KnownKeys.TryGetValue(address, out var k)) key = k;
            return key ?? ManagerState.ReadKey(stateDir) ?? throw new ManagerAuthenticationException(address,
                $"No auth key is known for the manager at '{address}': use Connect-IpcManager -Address '{address}' -AuthKey … first.");
        }

        /// <summary>This process's shared connection to ADDRESS (a broken one is replaced).</summary>
        public static ManagerClient For(string address, string? stateDir)
        {
            lock (Shared)
                if (Shared.TryGetValue(address, out var c) && !c.IsBroken) return c;
            // Connected outside the lock: a manager that is slow to answer (up to the 30 s handshake timeout) must not
            // hold up the proxies of every other manager in this process.
            var fresh = Connect(address, KeyFor(address, stateDir));
            lock (Shared)
            {
                if (Shared.TryGetValue(address, out var raced) && !raced.IsBroken) { fresh.Dispose(); return raced; }
                Shared[address] = fresh;
                return fresh;
            }
        }

        /// <summary>Forgets (and closes) this process's connection to ADDRESS, after the manager shut down.</summary>
        public static void Forget(string address)
        {
            lock (Shared)
                if (Shared.TryGetValue(address, out var c)) { Shared.Remove(address); c.Dispose(); }
        }

        public static ManagerClient Connect(string address, byte[] key)
        {
            var endPoint = ManagerAddress.Parse(address);
            var socket = ManagerAddress.NewSocket(endPoint);
            var fs = new FrameSocket(socket);
            try
            {
                try { socket.Connect(endPoint); }
                catch (SocketException e)
                {
                    throw new ConnectionClosedException(address, $"Cannot reach the manager at '{address}': {e.Message}");
                }
                socket.ReceiveTimeout = 30_000;   // a peer that never answers the handshake
                try { ManagerAuth.Connect(fs, key, address); }
                catch (Exception e) when (e is SocketException || e is ConnectionClosedException || e is MessageFormatException)
                {
                    throw new ManagerAuthenticationException(address, $"The manager at '{address}' dropped the connection during authentication: {e.Message}");
                }
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

        /// <summary>Calls MEMBER of object ID; a server-side failure is a <see cref="ManagerRemoteException"/>.</summary>
        public object? Call(long id, string member, object?[] args)
        {
            object?[] reply;
            lock (_gate)
            {
                if (_broken) throw new ConnectionClosedException(Address, $"The connection to the manager at '{Address}' is closed.");
                var w = MessageCodec.Encode(new object?[] { id, member, args }, ArgumentDepth);
                try
                {
                    _socket.Send(w);
                    var frame = _socket.Receive() ?? throw new ConnectionClosedException(Address, $"The manager at '{Address}' closed the connection (has it shut down?).");
                    reply = MessageCodec.Decode(frame.Array!, frame.Offset, frame.Count) as object?[]
                        ?? throw new MessageFormatException("The manager's reply is not a reply.");
                }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is ConnectionClosedException || e is MessageFormatException)
                {
                    _broken = true;
                    _socket.Dispose();
                    if (e is ConnectionClosedException) throw;
                    throw new ConnectionClosedException(Address, $"The connection to the manager at '{Address}' failed: {e.Message}");
                }
                finally { MessageCodec.Recycle(w); }
            }
            if (reply.Length >= 2 && reply[0] is true) return reply[1];
            if (reply.Length >= 3 && reply[0] is false)
                throw new ManagerRemoteException(Address, reply[1] as string ?? "?", reply[2] as string ?? "The manager reported an error.");
            throw new MessageFormatException("The manager's reply is not a reply.");
        }

        public void Dispose()
        {
            _broken = true;
            _socket.Dispose();
        }
    }
}
