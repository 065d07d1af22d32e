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

        protected override async Task<bool> Forward(Flow flow, byte[] buffer, int n, System.IO.Stream to)
        {
            string? marker = _marker;
            string text;
            if (flow.ToServer && marker != null && (text = Flow.Text(buffer, n)).Contains(marker, StringComparison.Ordinal)
                && text.Contains("EVAL", StringComparison.Ordinal))
            {
                _marker = null;
                lock (_holding) _holding.Add(flow.From);   // before the command goes: its reply is held
                await to.WriteAsync(buffer, 0, n);
                Held.Set();
                return true;
            }
            bool hold;
            lock (_holding) hold = !flow.ToServer && _holding.Contains(flow.To);
            if (hold && _drop)
            {
                lock (Open) { flow.From.Dispose(); flow.To.Dispose(); }
                return false;
            }
            if (hold) await Task.Run(() => _release.Wait(TimeSpan.FromSeconds(60)));
            await to.WriteAsync(buffer, 0, n);
            return true;
        }

        public override void Dispose()
        {
            _release.Set();
            base.Dispose();
        }
    }
}
