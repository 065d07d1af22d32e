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

        // A client's direction: whether it has sent the handshake's ECHO, and whether it is muted.
        private sealed class Seen
        {
            public bool Echoed, Muted;
        }

        /// <summary>From the client, nothing more from the first PING after an ECHO on.</summary>
        protected override async Task<bool> Forward(Flow flow, byte[] buffer, int n, System.IO.Stream to)
        {
            var seen = (Seen)(flow.State ??= new Seen());
            if (flow.ToServer && !seen.Muted)
            {
                string text = Flow.Text(buffer, n);
                if (seen.Echoed && text.Contains("PING", StringComparison.Ordinal)) seen.Muted = true;
                if (text.Contains("ECHO", StringComparison.Ordinal)) seen.Echoed = true;
            }
            if (!seen.Muted) await to.WriteAsync(buffer, 0, n);
            return true;
        }
    }
}
