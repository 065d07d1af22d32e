using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace IpcPs.Tests
{
    /// <summary>
    /// A TCP proxy in front of a real redis-server on this machine: each client connection gets one to the server, and
    /// what goes each way is read in chunks and a subclass's <see cref="Forward"/> copies (or holds, or drops) each.
    /// Disposing it closes every connection it made.
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

        /// <summary>One direction of one connection: FROM sends to TO (TOSERVER: from the client to the server).</summary>
        protected sealed class Flow
        {
            public Flow(TcpClient from, TcpClient to, bool toServer)
            {
                From = from;
                To = to;
                ToServer = toServer;
            }

            public TcpClient From { get; }
            public TcpClient To { get; }
            public bool ToServer { get; }

            /// <summary>What a subclass keeps about this direction between its chunks.</summary>
            public object? State { get; set; }

            /// <summary>The chunk as ASCII text (commands and replies are).</summary>
            public static string Text(byte[] buffer, int count) => System.Text.Encoding.ASCII.GetString(buffer, 0, count);
        }

        /// <summary>
        /// What to do with the COUNT bytes in BUFFER that FLOW's sender sent: write them on (<paramref name="to"/>), hold
        /// them first, drop them. False ends this direction.
        /// </summary>
        protected abstract Task<bool> Forward(Flow flow, byte[] buffer, int count, System.IO.Stream to);

        private async Task Pump(TcpClient fromClient, TcpClient toClient, bool toServer)
        {
            var buffer = new byte[16384];
            var flow = new Flow(fromClient, toClient, toServer);
            try
            {
                var from = fromClient.GetStream();
                var to = toClient.GetStream();
                int n;
                while ((n = await from.ReadAsync(buffer, 0, buffer.Length)) > 0)
                    if (!await Forward(flow, buffer, n, to)) return;
            }
            catch (Exception e) when (Ended(e)) { }
        }

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
