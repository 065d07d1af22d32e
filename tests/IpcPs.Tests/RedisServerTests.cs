using System.IO;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>The tests' own redis-server: it starts even when the port it picked is taken before it binds it.</summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]   // Debian's redis-server, a Linux program
    public sealed class RedisServerTests
    {
        public RedisServerTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void Its_ports_are_picked_below_the_ephemeral_range_that_outgoing_connections_take_theirs_from()
        {
            int low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0]);
            for (int i = 0; i < 50; i++) Assert.InRange(RedisServer.FreePort(), 1024, low - 1);
        }

        [Fact]
        public void A_server_whose_port_was_taken_before_it_bound_it_starts_on_another()
        {
            var taken = new TcpListener(IPAddress.Loopback, 0);
            taken.Start();
            try
            {
                int port = ((IPEndPoint)taken.LocalEndpoint).Port;
                using var server = new RedisServer(firstPort: port);
                Assert.NotEqual(port, server.Port);
                using var backend = IpcPs.Redis.RedisBackend.ConnectPrivate(server.Uri, System.TimeSpan.FromSeconds(5));
                using var q = backend.Queue("t_" + System.Guid.NewGuid().ToString("N").Substring(0, 12));
                q.Put(1);
                Assert.Equal(1, q.Get(true, 5));
                q.Unlink();
            }
            finally { taken.Stop(); }
        }
    }
}
