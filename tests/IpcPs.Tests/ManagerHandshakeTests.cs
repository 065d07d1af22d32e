using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>The manager handshake, the handshake gate and the rule of which key may be used for which address.</summary>
    public sealed class ManagerHandshakeTests
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

        private static (HandshakeOutcome Outcome, FrameSeal? ServerSeal, FrameSeal? ClientSeal, Exception? ClientError) Run(byte[] serverKey, byte[] clientKey)
        {
            var (a, b) = SocketPair.Create();
            using var server = new FrameSocket(a);
            using var client = new FrameSocket(b);
            var clientSide = Task.Run(() =>
            {
                try { return (ManagerAuth.Connect(client, clientKey, "test"), (Exception?)null); }
                catch (Exception e) { return ((FrameSeal?)null, e); }
            });
            var outcome = ManagerAuth.Accept(server, serverKey, out var seal);
            if (outcome != HandshakeOutcome.Authenticated) a.Shutdown(SocketShutdown.Both);
            var (clientSeal, error) = clientSide.Result;
            return (outcome, seal, clientSeal, error);
        }

        [Fact]
        public void WithTheKeyBothSidesAgreeOnTheFrameKeys()
        {
            var (outcome, serverSeal, clientSeal, error) = Run(Key, Key);
            Assert.Equal(HandshakeOutcome.Authenticated, outcome);
            Assert.Null(error);
            var payload = Encoding.ASCII.GetBytes("request");
            var frame = new byte[payload.Length + FrameSeal.TagBytes];
            payload.CopyTo(frame, 0);
            clientSeal!.Sign(payload, 0, payload.Length, null, frame, payload.Length);
            Assert.True(serverSeal!.Verify(frame, 0, frame.Length));
            serverSeal.Sign(payload, 0, payload.Length, null, frame, payload.Length);
            Assert.True(clientSeal.Verify(frame, 0, frame.Length));
        }

        [Fact]
        public void AWrongKeyIsRefusedOnBothSides()
        {
            var other = (byte[])Key.Clone();
            other[0] ^= 1;
            var (outcome, serverSeal, clientSeal, error) = Run(Key, other);
            Assert.Equal(HandshakeOutcome.WrongKey, outcome);
            Assert.Null(serverSeal);
            Assert.Null(clientSeal);
            Assert.IsType<ManagerAuthenticationException>(error);
            Assert.Contains("refused the auth key", error!.Message);
        }

        [Fact]
        public void TheGateHas128SlotsThen16ReserveSlotsThatEvictTheirOldest()
        {
            var gate = new HandshakeGate();
            int evicted = 0;
            var main = Enumerable.Range(0, HandshakeGate.MainSlots).Select(_ => gate.Admit(() => evicted++)).ToList();
            Assert.All(main, s => Assert.False(s.IsReserve));
            var evictedIds = new System.Collections.Generic.List<int>();
            var reserve = Enumerable.Range(0, HandshakeGate.ReserveSlots).Select(i => gate.Admit(() => evictedIds.Add(i))).ToList();
            Assert.All(reserve, s => Assert.True(s.IsReserve));
            Assert.All(reserve, s => Assert.Equal(HandshakeGate.ReserveDeadline, s.Deadline));
            Assert.Equal((128, 16), gate.InHandshake);
            var newcomer = gate.Admit(() => { });
            Assert.True(newcomer.IsReserve);
            Assert.Equal(new[] { 0 }, evictedIds);           // the oldest in the reserve made room
            Assert.Equal(0, evicted);                         // main slots are never evicted
            Assert.Equal((128, 16), gate.InHandshake);
            gate.Leave(reserve[0]);                           // already evicted: nothing changes
            Assert.Equal((128, 16), gate.InHandshake);
            gate.Leave(main[5]);
            gate.Leave(main[5]);                              // a second Leave is a no-op
            Assert.Equal((127, 16), gate.InHandshake);
            Assert.False(gate.Admit(() => { }).IsReserve);    // a freed main slot is used first
        }

        [Fact]
        public void WrongKeysAreThrottledPerAddressWithADoublingDelay()
        {
            Assert.Equal(TimeSpan.Zero, HandshakeGate.Delay(HandshakeGate.FreeFailures - 1));
            Assert.Equal(TimeSpan.FromMilliseconds(250), HandshakeGate.Delay(HandshakeGate.FreeFailures));
            Assert.Equal(TimeSpan.FromMilliseconds(500), HandshakeGate.Delay(HandshakeGate.FreeFailures + 1));
            Assert.Equal(TimeSpan.FromSeconds(8), HandshakeGate.Delay(100));
            var gate = new HandshakeGate();
            var clock = Stopwatch.StartNew();   // a wait is the delay less the time since the last failure: this much at most
            for (int i = 0; i < 6; i++) gate.Failed("192.0.2.1");
            Assert.Equal(TimeSpan.Zero, gate.WaitFor("192.0.2.2"));   // another address: not held up
            Assert.Equal(TimeSpan.Zero, gate.WaitFor(null));          // a Unix-socket peer: never throttled
            var waits = Enumerable.Range(0, 6).Select(_ => gate.WaitFor("192.0.2.1")).ToList();
            var passed = clock.Elapsed;   // a loaded machine may stall the thread between the failures and the waits
            Assert.All(waits.Take(4), w => Assert.InRange(w!.Value, HandshakeGate.Delay(6) - passed, HandshakeGate.Delay(6)));
            Assert.All(waits.Skip(4), w => Assert.Null(w));          // at most 4 wait per address; more are closed
            gate.DoneWaiting("192.0.2.1");
            Assert.NotNull(gate.WaitFor("192.0.2.1"));
        }

        [Fact]
        public void ThrottleKeysGroupAnIpv6HostByItsSlash64()
        {
            Assert.Equal("192.0.2.7", ManagerServer.ThrottleKey(new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.7"), 1)));
            Assert.Equal(ManagerServer.ThrottleKey(new IPEndPoint(IPAddress.Parse("2001:db8:1:2::1"), 1)),
                ManagerServer.ThrottleKey(new IPEndPoint(IPAddress.Parse("2001:db8:1:2:ffff::9"), 1)));
            Assert.NotEqual(ManagerServer.ThrottleKey(new IPEndPoint(IPAddress.Parse("2001:db8:1:2::1"), 1)),
                ManagerServer.ThrottleKey(new IPEndPoint(IPAddress.Parse("2001:db8:1:3::1"), 1)));
        }

        [Fact]
        public void AFolderKeyIsNeverUsedForAnotherAddress()
        {
            string dir = ManagerState.Create(null);
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                ManagerState.WriteKey(dir, Key);
                string address = "127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port;
                var e = Assert.Throws<ManagerAuthenticationException>(() => ManagerClient.Open(address, dir, null, TestContext.Current.CancellationToken));
                Assert.Contains("used only for the Unix socket in its own folder", e.Message);
                Assert.False(listener.Pending(), "the client connected to an address its key file was not made for");
            }
            finally
            {
                listener.Stop();
                ManagerState.Remove(dir);
            }
        }

        [Fact]
        [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // modes and symlinks of Linux folders
        [System.Runtime.Versioning.SupportedOSPlatform("linux")]
        public void AFolderThatIsNotPrivateOrIsASymlinkGivesNoKey()
        {
            string root = Path.Combine(Path.GetTempPath(), "ipcps-test-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(root);
            try
            {
                string open = Path.Combine(root, "open");
                Directory.CreateDirectory(open);
                File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                File.WriteAllBytes(Path.Combine(open, "authkey"), Key);
                Assert.Null(ManagerState.OpenLocal(open));
                string real = Path.Combine(root, "real");
                Directory.CreateDirectory(real);
                File.SetUnixFileMode(real, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                File.WriteAllBytes(Path.Combine(real, "authkey"), Key);
                using (var folder = ManagerState.OpenLocal(real)) Assert.Equal(Key, folder!.ReadKey());
                string link = Path.Combine(root, "link");
                File.CreateSymbolicLink(link, real);
                Assert.Null(ManagerState.OpenLocal(link));
                File.Delete(Path.Combine(real, "authkey"));
                File.CreateSymbolicLink(Path.Combine(real, "authkey"), Path.Combine(open, "authkey"));
                using (var folder = ManagerState.OpenLocal(real)) Assert.Null(folder!.ReadKey());   // a key file that is a symlink
            }
            finally { Directory.Delete(root, recursive: true); }
        }

        /// <summary>
        /// The server counts a wrong key before the peer hears FAIL: a guesser that reconnects at once is already
        /// throttled. (When the count came after the answer, the next connection could slip in uncounted; the Pester
        /// throttling test saw its 8th connection go through without its 4 s wait.) Each guess comes from its own
        /// loopback address, so none of them is throttled and the loop is fast.
        /// </summary>
        [Fact]
        public void AWrongKeyIsCountedBeforeThePeerHearsOfIt()
        {
            string dir = ManagerState.Create(null);
            var server = new ManagerServer("127.0.0.1:0", dir, Key, null);
            server.Start();
            try
            {
                var port = int.Parse(server.Address.Split(':')[1]);
                var wrong = (byte[])Key.Clone();
                wrong[5] ^= 0x40;
                for (int i = 0; i < 60; i++)
                {
                    var from = IPAddress.Parse($"127.0.{1 + i / 200}.{10 + i % 200}");
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    socket.Bind(new IPEndPoint(from, 0));
                    socket.Connect(IPAddress.Loopback, port);
                    using (var fs = new FrameSocket(socket))
                        Assert.Throws<ManagerAuthenticationException>(() => ManagerAuth.Connect(fs, wrong, server.Address));
                    Assert.Equal(1, server.FailuresOf(from.ToString()));
                }
            }
            finally { server.Shutdown(); }
        }
    }
}