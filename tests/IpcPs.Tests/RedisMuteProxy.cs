using System;
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
    public sealed class RedisMuteProxy : RedisTestProxy
    {
        public RedisMuteProxy(int targetPort) : base(targetPort) { }

        /// <summary>Copies FROM to TO; from the client, nothing more from the first PING after an ECHO on.</summary>
        protected override async Task Pump(TcpClient fromClient, TcpClient toClient, bool toServer)
        {
            var buffer = new byte[16384];
            bool echoed = false, muted = false;
            try
            {
                NetworkStream from = fromClient.GetStream(), to = toClient.GetStream();
                while (true)
                {
                    int n = await from.ReadAsync(buffer, 0, buffer.Length);
                    if (n <= 0) return;
                    if (toServer && !muted)
                    {
                        string text = Encoding.ASCII.GetString(buffer, 0, n);
                        if (echoed && text.Contains("PING", StringComparison.Ordinal)) muted = true;
                        if (text.Contains("ECHO", StringComparison.Ordinal)) echoed = true;
                    }
                    if (!muted) await to.WriteAsync(buffer, 0, n);
                }
            }
            catch (Exception e) when (Ended(e)) { }
        }
    }
}
