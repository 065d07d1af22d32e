using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A client is as safe from a hostile manager as the manager is from a hostile client: a peer at the manager's
    /// address that trickles its handshake a byte at a time holds the client for the handshake's deadline, in all, not
    /// for that deadline per byte (docs/design.md, "Managers", "Handshake").
    /// </summary>
    public sealed class ManagerClientDeadlineTests
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

        [Fact]
        public async Task APeerThatTricklesItsHelloIsDroppedAtTheHandshakeDeadline()
        {
            var cancel = TestContext.Current.CancellationToken;
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            string address = "127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            // The hostile manager: a hello frame that claims the largest handshake frame (1 KiB), then one byte every
            // 100 ms, well inside any per-receive timeout: 100 s to finish, if the client waited.
            var trickler = Task.Run(async () =>
            {
                using var peer = await listener.AcceptSocketAsync(stop.Token);
                try
                {
                    peer.Send(BitConverter.GetBytes(FrameSocket.HandshakeLimit));
                    for (int i = 0; i < FrameSocket.HandshakeLimit && !stop.IsCancellationRequested; i++)
                    {
                        peer.Send(new byte[] { (byte)'I' });
                        await Task.Delay(100, stop.Token);
                    }
                }
                catch (Exception e) when (e is SocketException || e is OperationCanceledException) { /* the client gave up, or the test ended */ }
            }, cancel);
            var handshake = TimeSpan.FromSeconds(2);
            var clock = Stopwatch.StartNew();
            var client = Task.Run(() => ManagerClient.Open(address, null, Key, handshake), cancel);
            try
            {
                // Generous for a loaded machine; the trickle alone would last 100 s.
                var first = await Task.WhenAny(client, Task.Delay(TimeSpan.FromSeconds(30), cancel));
                Assert.True(first == client, $"the client was still in the handshake after {clock.Elapsed.TotalSeconds:F0} s, with a deadline of {handshake.TotalSeconds} s");
                var e = await Assert.ThrowsAsync<ManagerAuthenticationException>(() => client);
                Assert.Contains("within 2 s", e.Message);
            }
            finally
            {
                stop.Cancel();
                await Task.WhenAny(trickler, Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None));
            }
        }
    }
}
