using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using CsCheck;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>Manager frames: sizes, memory bounded by the bytes that arrived, and the tags of sealed frames.</summary>
    public sealed class ManagerFrameTests
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        private static readonly byte[] Cs = Enumerable.Repeat((byte)0xA5, 32).ToArray();
        private static readonly byte[] Cc = Enumerable.Repeat((byte)0x5A, 32).ToArray();

        private static (FrameSeal Client, FrameSeal Server) Seals() => (FrameSeal.ForClient(Key, Cs, Cc), FrameSeal.ForServer(Key, Cs, Cc));

        private static byte[] Tag(FrameSeal seal, byte[] payload)
        {
            var tag = new byte[FrameSeal.TagBytes];
            seal.Sign(payload, 0, payload.Length, null, tag, 0);
            return tag;
        }

        private static bool Check(FrameSeal seal, byte[] payload, byte[] tag)
        {
            var frame = Frames.Concat(payload, tag);
            return seal.Verify(frame, 0, frame.Length);
        }

        [Fact]
        public void TagIsTruncatedHmacSha256OfSequenceAndPayloadWithTheDirectionKey()
        {
            var (client, _) = Seals();
            var payload = Encoding.ASCII.GetBytes("a request");
            var c2s = HMACSHA256.HashData(Key, Frames.Concat(Encoding.ASCII.GetBytes("ipcps frames client->server"), Cs, Cc));
            for (long seq = 0; seq < 3; seq++)
            {
                var expected = HMACSHA256.HashData(c2s, Frames.Concat(BitConverter.GetBytes(seq), payload)).Take(16).ToArray();
                Assert.Equal(expected, Tag(client, payload));
            }
        }

        [Fact]
        public void EveryAlteredByteFailsItsTag()
        {
            var payload = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
            for (int i = 0; i < payload.Length + FrameSeal.TagBytes; i++)
            {
                var (client, server) = Seals();
                var frame = Frames.Concat(payload, Tag(client, payload));
                frame[i] ^= 0x01;
                Assert.False(server.Verify(frame, 0, frame.Length), $"byte {i} altered");
            }
        }

        [Fact]
        public void ReplayedReorderedReflectedAndTruncatedFramesFail()
        {
            var one = Encoding.ASCII.GetBytes("first");
            var two = Encoding.ASCII.GetBytes("second");
            {   // replay: frame 0 again where frame 1 is due
                var (client, server) = Seals();
                var t1 = Tag(client, one);
                Assert.True(Check(server, one, t1));
                Assert.False(Check(server, one, t1));
            }
            {   // reorder: frame 1 before frame 0
                var (client, server) = Seals();
                var t1 = Tag(client, one);
                var t2 = Tag(client, two);
                Assert.False(Check(server, two, t2));
                _ = t1;
            }
            {   // reflection: a frame of the server's sent back to the server
                var (client, server) = Seals();
                var fromServer = Tag(server, one);
                Assert.False(Check(server, one, fromServer));
                Assert.True(Check(client, one, fromServer));
            }
            {   // truncation: the payload cut short, the tag kept; a frame shorter than a tag
                var (client, server) = Seals();
                var t = Tag(client, two);
                Assert.False(Check(server, two.Take(3).ToArray(), t));
                var (_, server2) = Seals();
                Assert.False(server2.Verify(new byte[5], 0, 5));
            }
            {   // another connection's keys (other challenges) do not verify
                var client = FrameSeal.ForClient(Key, Cs, Cs);
                var (_, server) = Seals();
                Assert.False(Check(server, one, Tag(client, one)));
            }
        }

        [Fact]
        public void FramesOfAnySizeRoundTripInOrderSealedOrNot()
        {
            var size = Gen.Frequency((6, Gen.Int[0, 300]), (3, Gen.Int[300, 70_000]), (1, Gen.Int[1 << 20, 3 << 20]));
            Gen.Select(size.List[1, 12], Gen.Bool).Sample((sizes, sealed_) =>
            {
                var (a, b) = SocketPair.Create();
                using var sender = new FrameSocket(a);
                using var receiver = new FrameSocket(b) { Limit = FrameSocket.DefaultLimit };
                if (sealed_) { var (c, s) = Seals(); sender.Protect(c); receiver.Protect(s); }
                var payloads = sizes.Select((n, i) => Enumerable.Range(0, n).Select(j => (byte)(i * 31 + j)).ToArray()).ToList();
                var writer = Task.Run(() => { foreach (var p in payloads) sender.Send(p); });
                foreach (var p in payloads)
                {
                    var got = receiver.Receive() ?? throw new Xunit.Sdk.XunitException("The stream ended early.");
                    Assert.True(got.AsSpan().SequenceEqual(p), $"a frame of {p.Length} bytes came back changed");
                }
                writer.Wait();
            }, iter: 40);
        }

        [Fact]
        public void AHeaderClaimingSixtyFourMegabytesAllocatesOnlyWithTheBytesThatArrive()
        {
            var (a, b) = SocketPair.Create();
            using var receiver = new FrameSocket(b) { Limit = FrameSocket.DefaultLimit };
            using (a)
            {
                SocketPair.WriteAll(a, BitConverter.GetBytes(64 << 20));
                SocketPair.WriteAll(a, new byte[100_000]);
                a.Shutdown(SocketShutdown.Send);
                long before = GC.GetAllocatedBytesForCurrentThread();
                Assert.Throws<ConnectionClosedException>(() => receiver.Receive());
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes were allocated for a frame of which 100,000 bytes arrived");
            }
        }

        [Fact]
        public void AnAlteredSealedFrameIsAnAuthenticationError()
        {
            var (a, b) = SocketPair.Create();
            using var receiver = new FrameSocket(b) { Limit = FrameSocket.DefaultLimit };
            var (client, server) = Seals();
            receiver.Protect(server);
            using (a)
            {
                var payload = Encoding.ASCII.GetBytes("set k to 1");
                var frame = Frames.Frame(Frames.Concat(payload, Tag(client, payload)));
                frame[6] ^= 0x20;
                SocketPair.WriteAll(a, frame);
                var e = Assert.Throws<ManagerAuthenticationException>(() => receiver.Receive());
                Assert.Contains("integrity check", e.Message);
            }
        }
    }
}
