using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace IpcPs.Tests
{
    /// <summary>
    /// A TCP proxy in front of a redis-server that can cut the client's subscription connections (those that subscribed an
    /// IpcPs channel: <see cref="CutSubscribers"/>; the client connects again through it) and, once <see cref="Arm"/>ed, hold a connection's traffic to the server from its first SUBSCRIBE of an IpcPs channel on until
    /// <see cref="Release"/> (the subscription connection's resubscriptions, and whatever it sends after them, arrive late).
    /// </summary>
    public sealed class RedisHoldingProxy : RedisTestProxy
    {
        private readonly List<TcpClient> _subscribers = new List<TcpClient>();
        private volatile bool _armed;
        private readonly ManualResetEventSlim _release = new ManualResetEventSlim(false);

        public RedisHoldingProxy(int targetPort) : base(targetPort) { }

        /// <summary>Set when an armed proxy holds a SUBSCRIBE.</summary>
        public ManualResetEventSlim Held { get; } = new ManualResetEventSlim(false);

        public void Arm() => _armed = true;

        public void Release() => _release.Set();

        /// <summary>Closes every connection that subscribed an IpcPs channel (both its sides), and no other.</summary>
        public void CutSubscribers()
        {
            lock (Open)
            {
                foreach (var c in _subscribers) c.Dispose();
                Open.RemoveAll(_subscribers.Contains);
                _subscribers.Clear();
            }
        }

        protected override async Task<bool> Forward(Flow flow, byte[] buffer, int n, System.IO.Stream to)
        {
            bool subscribe = flow.ToServer && IsOurSubscribe(Flow.Text(buffer, n));
            if (subscribe) lock (Open) if (!_subscribers.Contains(flow.From)) _subscribers.AddRange(new[] { flow.From, flow.To });
            if (subscribe && _armed)
            {
                Held.Set();
                await Task.Run(() => _release.Wait(TimeSpan.FromSeconds(60)));
            }
            await to.WriteAsync(buffer, 0, n);
            return true;
        }

        /// <summary>A SUBSCRIBE of an IpcPs channel (not the client's own, of its handshake: holding that would hold the connection).</summary>
        private static bool IsOurSubscribe(string text) =>
            text.Contains("SUBSCRIBE", StringComparison.Ordinal) && text.Contains("ipcps:", StringComparison.Ordinal);

        public override void Dispose()
        {
            _release.Set();
            base.Dispose();
        }
    }
}
