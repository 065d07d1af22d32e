using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The connect to a manager and its handshake are ended by the caller's token (docs/design.md, "Managers",
    /// "Handshake"). A Unix socket whose backlog is full refuses a non-blocking connect at once (EAGAIN): the client's
    /// connect (a blocking one: see ManagerSocketModeTests) waits until the manager takes the one before it, so a busy
    /// manager is still reached, and the token still ends the handshake after it.
    /// </summary>
    public sealed class ManagerConnectCancelTests
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

        [Fact]
        public async Task AUnixSocketWithAFullBacklogIsReachedOnceItDrainsAndTheTokenEndsTheWait()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;   // the EAGAIN of a full Unix backlog is Linux's
            var cancel = TestContext.Current.CancellationToken;
            string dir = Path.Combine(Path.GetTempPath(), "ipcps-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, "socket"), address = ManagerAddress.UnixPrefix + path;
            var endPoint = ManagerAddress.UnixEndPointOf(path);
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            using var filler = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            Socket? first = null, peer = null;
            try
            {
                listener.Bind(endPoint);
                listener.Listen(0);
                filler.Connect(endPoint);   // the backlog (0 + 1) is full now: a non-blocking connect gets EAGAIN
                var full = Assert.ThrowsAny<SocketException>(() => { probe.Blocking = false; probe.Connect(endPoint); });
                Assert.Equal(SocketError.WouldBlock, full.SocketErrorCode);

                var client = Task.Run(() => ManagerClient.Open(address, null, Key, stop.Token), cancel);
                first = await listener.AcceptAsync(cancel);   // the filler: room for one more in the backlog
                peer = await listener.AcceptAsync(cancel);    // the client's retry got in
                Assert.False(client.IsCompleted, "the client must be waiting for the hello");
                stop.Cancel();
                var ended = await Task.WhenAny(client, Task.Delay(TimeSpan.FromSeconds(15), cancel));
                Assert.True(ended == client, "the token did not end the handshake");
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client);
                // The client closed its socket: the accepted end reads the end of the stream.
                Assert.True(peer.Poll(15_000_000, SelectMode.SelectRead));
                Assert.Equal(0, peer.Receive(new byte[16]));
            }
            finally
            {
                first?.Dispose();
                peer?.Dispose();
                listener.Dispose();
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void AnAlreadyCancelledTokenConnectsNothing()
        {
            using var stop = new CancellationTokenSource();
            stop.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => ManagerClient.Open("127.0.0.1:1", null, Key, stop.Token));
        }
    }
}
