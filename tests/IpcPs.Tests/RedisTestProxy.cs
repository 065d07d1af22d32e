using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace IpcPs.Tests
{
    /// <summary>
    /// A TCP proxy in front of a real redis-server on this machine: each client connection gets one to the server, and
    /// a subclass's <see cref="Pump"/> copies (or holds, or drops) what goes each way. Disposing it closes every
    /// connection it made.
    /// </summary>
    public abstract class RedisTestProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly int _target;

        /// <summary>Every connection's both sides; subclasses lock it too.</summary>
        protected readonly List<TcpClient> Open = new List<TcpClient>();

        protected RedisTestProxy(int targetPort)
        {
            _target = targetPort;
            _listener.Start();
            _ = Task.Run(AcceptLoop);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        /// <summary>Copies what FROM sends to TO (TOSERVER: from the client to the server) until either side ends.</summary>
        protected abstract Task Pump(TcpClient from, TcpClient to, bool toServer);

        /// <summary>What a pump ends on when a side goes (or the proxy is disposed).</summary>
        protected static bool Ended(Exception e) =>
            e is System.IO.IOException || e is ObjectDisposedException || e is SocketException || e is InvalidOperationException;

        private async Task AcceptLoop()
        {
            while (true)
            {
                TcpClient client, server;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException) { return; }
                server = new TcpClient();
                lock (Open) { Open.Add(client); Open.Add(server); }
                try { await server.ConnectAsync(IPAddress.Loopback, _target); }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException) { client.Dispose(); continue; }
                _ = Pump(client, server, toServer: true);
                _ = Pump(server, client, toServer: false);
            }
        }

        public virtual void Dispose()
        {
            _listener.Stop();
            lock (Open) foreach (var c in Open) c.Dispose();
        }
    }
}
