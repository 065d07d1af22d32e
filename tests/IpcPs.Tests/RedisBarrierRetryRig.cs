using System;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Two handles on one fresh two-party barrier of a private redis-server: <see cref="A"/> through a
    /// <see cref="RedisReplyHoldingProxy"/> (whose arrival's answer a test drops), <see cref="B"/> straight to the server.
    /// The barrier script is loaded first (a one-party barrier's Wait through the proxy), so that an arrival whose answer
    /// is dropped runs rather than being answered NOSCRIPT. Disposing it closes the handles, the proxy and the server.
    /// </summary>
    public sealed class RedisBarrierRetryRig : IDisposable
    {
        private readonly RedisServer _server;
        private readonly RedisReplyHoldingProxy? _proxy;
        private readonly RedisBackend? _cut, _direct;
        private readonly RedisBarrier? _a, _b;

        public RedisBarrierRetryRig()
        {
            _server = new RedisServer();
            try
            {
                _proxy = new RedisReplyHoldingProxy(_server.Port);
                _cut = RedisBackend.ConnectPrivate($"redis://:{RedisServer.Password}@127.0.0.1:{_proxy.Port}", TimeSpan.FromSeconds(5));
                _direct = RedisBackend.ConnectPrivate(_server.Uri, TimeSpan.FromSeconds(5));
                string name = "bar" + Guid.NewGuid().ToString("N").Substring(0, 10);
                using (var one = _cut.Barrier(name + "w", new IpcBackendOptions { Parties = 1 })) { Assert.Equal(0, one.Wait(5)); one.Unlink(); }
                _a = _cut.Barrier(name, new IpcBackendOptions { Parties = 2 });
                _b = (RedisBarrier)_direct.Open(name, IpcObjectKind.Barrier);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public RedisReplyHoldingProxy Proxy => _proxy!;

        /// <summary>The handle through the proxy.</summary>
        public RedisBarrier A => _a!;

        /// <summary>The handle straight to the server (its state reads are never dropped).</summary>
        public RedisBarrier B => _b!;

        /// <summary>The next arrival through the proxy runs and its answer is lost (the connection is cut as it comes).</summary>
        public void DropNextArrivalAnswer() => Proxy.DropReplyAfter(B.Name + "}:bar");   // the arrival's channel argument; not the state reads after it

        /// <summary>Until a party has arrived at B (polled, 20 s at most: the arrival is another thread's, in its script).</summary>
        public void AwaitArrival(string because)
        {
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            while (B.NWaiting == 0) { Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(20), because); System.Threading.Thread.Sleep(10); }
        }

        public void Dispose()
        {
            _b?.Dispose();
            _a?.Dispose();
            _direct?.Dispose();
            _cut?.Dispose();
            _proxy?.Dispose();
            _server.Dispose();
        }
    }
}
