using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace IpcPs.Tests
{
    /// <summary>
    /// A TCP proxy in front of a redis-server that, once <see cref="HoldRepliesAfter"/> names a marker, lets the first
    /// script call (EVAL, EVALSHA) that carries it through to the server and then holds every reply of that connection
    /// until <see cref="Release"/>: the script ran, and its client waits for an answer that does not come. With
    /// <see cref="DropReplyAfter"/> the connection is cut instead when the reply comes: the script ran, its answer is
    /// lost (the client's BackendOutcomeUnknown), and the client connects again. A script the server does not have yet
    /// is answered NOSCRIPT, not run: a test runs it once before it names a marker.
    /// </summary>
    public sealed class RedisReplyHoldingProxy : RedisTestProxy
    {
        private volatile string? _marker;
        private readonly HashSet<TcpClient> _holding = new HashSet<TcpClient>();
        private readonly ManualResetEventSlim _release = new ManualResetEventSlim(false);

        public RedisReplyHoldingProxy(int targetPort) : base(targetPort) { }

        /// <summary>Set when the command with the marker went to the server and its connection's replies are held.</summary>
        public ManualResetEventSlim Held { get; } = new ManualResetEventSlim(false);

        private volatile bool _drop;

        public void HoldRepliesAfter(string marker) => _marker = marker;

        public void DropReplyAfter(string marker)
        {
            _drop = true;
            _marker = marker;
        }

        public void Release() => _release.Set();

        protected override async Task Pump(TcpClient fromClient, TcpClient toClient, bool toServer)
        {
            var buffer = new byte[16384];
            try
            {
                NetworkStream from = fromClient.GetStream(), to = toClient.GetStream();
                while (true)
                {
                    int n = await from.ReadAsync(buffer, 0, buffer.Length);
                    if (n <= 0) return;
                    string? marker = _marker;
                    string text;
                    if (toServer && marker != null && (text = Encoding.ASCII.GetString(buffer, 0, n)).Contains(marker, StringComparison.Ordinal)
                        && text.Contains("EVAL", StringComparison.Ordinal))
                    {
                        _marker = null;
                        lock (_holding) _holding.Add(fromClient);   // before the command goes: its reply is held
                        await to.WriteAsync(buffer, 0, n);
                        Held.Set();
                        continue;
                    }
                    bool hold;
                    lock (_holding) hold = !toServer && _holding.Contains(toClient);
                    if (hold && _drop)
                    {
                        lock (Open) { fromClient.Dispose(); toClient.Dispose(); }
                        return;
                    }
                    if (hold) await Task.Run(() => _release.Wait(TimeSpan.FromSeconds(60)));
                    await to.WriteAsync(buffer, 0, n);
                }
            }
            catch (Exception e) when (Ended(e)) { }
        }

        public override void Dispose()
        {
            _release.Set();
            base.Dispose();
        }
    }
}
