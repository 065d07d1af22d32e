using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

namespace IpcPs.Tests
{
    /// <summary>
    /// A TCP proxy in front of a real redis-server that lets the client's connection handshake through and then goes
    /// silent: on each connection, once the client has sent the handshake's ECHO (StackExchange.Redis's last handshake
    /// command), its first PING (the client's own, or the one that checks the user's rights, whichever comes first) and
    /// everything after it are dropped, and the connection stays open. A server that answers AUTH and the handshake, then
    /// stops answering.
    /// </summary>
    public sealed class RedisMuteProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _open = new List<TcpClient>();
        private readonly int _target;

        public RedisMuteProxy(int targetPort)
        {
            _target = targetPort;
            _listener.Start();
            _ = Task.Run(AcceptLoop);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task AcceptLoop()
        {
            while (true)
            {
                TcpClient client, server;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException) { return; }
                server = new TcpClient();
                lock (_open) { _open.Add(client); _open.Add(server); }
                try { await server.ConnectAsync(IPAddress.Loopback, _target); }
                catch (SocketException) { client.Dispose(); continue; }
                _ = Pump(client.GetStream(), server.GetStream(), muteAfterHandshake: true);
                _ = Pump(server.GetStream(), client.GetStream(), muteAfterHandshake: false);
            }
        }

        /// <summary>Copies FROM to TO; with MUTEAFTERHANDSHAKE, nothing more from the first PING after an ECHO on.</summary>
        private static async Task Pump(NetworkStream from, NetworkStream to, bool muteAfterHandshake)
        {
            var buffer = new byte[16384];
            bool echoed = false, muted = false;
            try
            {
                while (true)
                {
                    int n = await from.ReadAsync(buffer, 0, buffer.Length);
                    if (n <= 0) return;
                    if (muteAfterHandshake && !muted)
                    {
                        string text = Encoding.ASCII.GetString(buffer, 0, n);
                        if (echoed && text.Contains("PING", StringComparison.Ordinal)) muted = true;
                        if (text.Contains("ECHO", StringComparison.Ordinal)) echoed = true;
                    }
                    if (!muted) await to.WriteAsync(buffer, 0, n);
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException || e is SocketException) { }
        }

        public void Dispose()
        {
            _listener.Stop();
            lock (_open) foreach (var c in _open) c.Dispose();
        }
    }
}
