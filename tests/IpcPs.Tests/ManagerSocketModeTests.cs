using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A manager connection's socket is connected blocking and stays blocking (docs/design.md, "Managers", "Handshake"):
    /// under .NET a socket once made non-blocking — by ConnectAsync, or by Blocking = false even when set back — keeps its
    /// descriptor non-blocking and runs every later synchronous Send and Receive through its asynchronous engine, and
    /// manager calls took 2.5 times as long (bench: dict sets over a Unix socket 100 k/s → 40 k/s). Seen from the
    /// descriptor itself: O_NONBLOCK must be clear after the connect, over TCP and over a Unix socket.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class ManagerSocketModeTests
    {
        private const int F_GETFL = 3, O_NONBLOCK = 0x800;

        [DllImport("libc", SetLastError = true)]
        private static extern int fcntl(int fd, int cmd);

        private static bool NonBlocking(Socket socket)
        {
            int flags = fcntl((int)socket.Handle, F_GETFL);
            Assert.True(flags >= 0, $"fcntl failed: {Marshal.GetLastWin32Error()}");
            return (flags & O_NONBLOCK) != 0;
        }

        [Fact]
        public void ATcpConnectLeavesTheDescriptorBlocking()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var endPoint = (IPEndPoint)listener.LocalEndpoint;
            using var socket = ManagerClient.ConnectSocket("127.0.0.1:" + endPoint.Port, endPoint, TestContext.Current.CancellationToken);
            using var peer = listener.AcceptSocket();
            Assert.True(socket.Connected);
            Assert.False(NonBlocking(socket), "the manager connection's descriptor is non-blocking: its calls run through .NET's asynchronous engine");
        }

        [Fact]
        public void AUnixSocketConnectLeavesTheDescriptorBlocking()
        {
            string dir = Path.Combine(Path.GetTempPath(), "ipcps-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string path = Path.Combine(dir, "socket");
                var endPoint = ManagerAddress.UnixEndPointOf(path);
                using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                listener.Bind(endPoint);
                listener.Listen(4);
                using var socket = ManagerClient.ConnectSocket(ManagerAddress.UnixPrefix + path, endPoint, TestContext.Current.CancellationToken);
                using var peer = listener.Accept();
                Assert.False(NonBlocking(socket), "the manager connection's descriptor is non-blocking: its calls run through .NET's asynchronous engine");
            }
            finally { Directory.Delete(dir, recursive: true); }
        }
    }
}
