using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Managers;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Fuzz targets over what a manager reads from a socket (docs/design.md, "Managers"): the frame reader, both sides
    /// of the handshake, and the dispatcher behind an authenticated connection. Each input runs over real sockets; it
    /// may end only in the exceptions listed, within a time bound, and (for the frame reader) with allocation bounded
    /// by the bytes that arrived, not by the lengths they claim.
    /// </summary>
    public sealed class ManagerFuzzTests
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();
        private static readonly byte[] Cs = Enumerable.Range(0, 32).Select(i => (byte)(0x40 + i)).ToArray();
        private static readonly byte[] Cc = Enumerable.Range(0, 32).Select(i => (byte)(0x80 + i)).ToArray();
        private const int ReceiveTimeoutMs = 5000;

        private static readonly Type[] WireErrors = { typeof(MessageFormatException), typeof(ConnectionClosedException), typeof(ManagerAuthenticationException) };

        /// <summary>Runs READ on one end of a socket pair whose other end carries INPUT and then ends (written by another thread).</summary>
        private static T OverSocket<T>(byte[] input, Func<FrameSocket, T> read)
        {
            var (a, b) = SocketPair.Create();
            using var reader = new FrameSocket(b);
            b.ReceiveTimeout = ReceiveTimeoutMs;   // a read that waits past it is a hang: SocketException, which no target allows
            // A thread of its own, not the thread pool: with every pool thread busy (fuzz targets in parallel, a
            // long run), a pooled writer could start after the reader's timeout and fail the input for nothing.
            var writer = new Thread(() =>
            {
                try { SocketPair.WriteAll(a, input); a.Shutdown(SocketShutdown.Send); }
                catch (SocketException) { }        // the reader gave up first and closed its end
                catch (ObjectDisposedException) { }
            }) { IsBackground = true };
            writer.Start();
            try { return read(reader); }
            finally
            {
                reader.Dispose();
                writer.Join();
                a.Dispose();
            }
        }

        private static byte[] Sealed(FrameSeal seal, byte[] payload)
        {
            var tag = new byte[FrameSeal.TagBytes];
            seal.Sign(payload, 0, payload.Length, null, tag, 0);
            return Frames.Frame(Frames.Concat(payload, tag));
        }

        [Fact]
        public void FrameReaderOnlySaysFormatOrClosedAndAllocatesWithTheBytes()
        {
            var requests = new[] { Frames.Encoded(new object?[] { 1L, "Get", new object?[] { "k" } }), Frames.Encoded(new object?[] { 2L, "Add", new object?[] { new string('x', 300) } }), new byte[0] };
            var seeds = new List<byte[]>
            {
                Frames.Concat(requests.Select(Frames.Frame).ToArray()),
                Frames.Concat(Sealed(FrameSeal.ForClient(Key, Cs, Cc), requests[0]), Sealed(FrameSeal.ForClient(Key, Cs, Cc), requests[1])),
                Frames.Concat(BitConverter.GetBytes(64 << 20), new byte[64]),
                Frames.Concat(BitConverter.GetBytes(1000), new byte[10]),
            };
            Fuzzing.Run("manager.frames", Fuzzing.Mutations(seeds), input =>
            {
                bool sealed_ = input.Length > 0 && (input[0] & 1) == 1;   // half the inputs read as an authenticated connection
                OverSocket(input, fs =>
                {
                    fs.Limit = FrameSocket.DefaultLimit;
                    if (sealed_) fs.Protect(FrameSeal.ForServer(Key, Cs, Cc));
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    try
                    {
                        while (fs.Receive() is ArraySegment<byte> frame) Assert.True(frame.Count <= input.Length);
                    }
                    finally
                    {
                        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                        Assert.True(allocated <= 4L * input.Length + (64 << 10),
                            $"reading {input.Length:N0} bytes allocated {allocated:N0} bytes");
                    }
                    return 0;
                });
            }, WireErrors);
        }

        [Fact]
        public void ServerHandshakeAuthenticatesOnlyTheRightProof()
        {
            var valid = Frames.Frame(Frames.Concat(Cc, ManagerAuth.Mac(Key, Encoding.ASCII.GetBytes("client"), Cs, Cc)));
            var seeds = new List<byte[]> { valid, Frames.Concat(valid, valid), Frames.Frame(new byte[64]), Frames.Frame(new byte[32]), new byte[] { 64, 0, 0, 0 } };
            Fuzzing.Run("manager.handshake.server", Fuzzing.Mutations(seeds), input =>
            {
                var outcome = OverSocket(input, fs => ManagerAuth.Accept(fs, Key, out var seal, Cs));
                if (outcome == HandshakeOutcome.Authenticated)
                    Assert.True(input.Length >= valid.Length && input.AsSpan(0, valid.Length).SequenceEqual(valid), "a handshake passed without the proof");
            }, WireErrors);
        }

        [Fact]
        public void ClientHandshakeAcceptsOnlyAServerThatKnowsTheKey()
        {
            var hello = Frames.Frame(Frames.Concat(ManagerAuth.Magic, Cs));
            var ok = Frames.Frame(Frames.Concat(Encoding.ASCII.GetBytes("OK"), ManagerAuth.Mac(Key, Encoding.ASCII.GetBytes("server"), Cs, Cc)));
            var seeds = new List<byte[]>
            {
                Frames.Concat(hello, ok), Frames.Concat(hello, Frames.Frame(Encoding.ASCII.GetBytes("FAIL"))), hello,
                Frames.Concat(Frames.Frame(Frames.Concat(Encoding.ASCII.GetBytes("IPCPS-MANAGER-1"), Cs)), ok),
            };
            var valid = Frames.Concat(hello, ok);
            Fuzzing.Run("manager.handshake.client", Fuzzing.Mutations(seeds), input =>
            {
                OverSocket(input, fs => ManagerAuth.Connect(fs, Key, "fuzz", Cc));
                Assert.True(input.Length >= valid.Length && input.AsSpan(0, valid.Length).SequenceEqual(valid), "the client accepted a server without the key's proof");
            }, WireErrors);
        }

        /// <summary>
        /// Mutated requests, sealed with valid tags (so they reach the dispatcher), to an in-process manager over TCP:
        /// each gets a reply or a closed connection within the bound, and the manager goes on serving others.
        /// </summary>
        [Fact]
        public void DispatcherAnswersOrDropsAndTheManagerGoesOn()
        {
            string dir = ManagerState.Create(null);
            var server = new ManagerServer("127.0.0.1:0", dir, Key, null);
            server.Start();
            try
            {
                Session? session = null;
                foreach (var create in new[] { "Dict", "List", "Namespace" })   // objects 1, 2, 3
                    Call(ref session, server.Address, Frames.Encoded(new object?[] { 0L, "Create", new object?[] { create, new object?[0] } }));
                var seeds = new List<byte[]>
                {
                    Frames.Encoded(new object?[] { 1L, "Set", new object?[] { "k", 1 } }),
                    Frames.Encoded(new object?[] { 1L, "Get", new object?[] { "k" } }),
                    Frames.Encoded(new object?[] { 1L, "Update", new object?[] { new Hashtable { ["a"] = new object?[] { 1, "b" } } } }),
                    Frames.Encoded(new object?[] { 2L, "Add", new object?[] { "x" } }),
                    Frames.Encoded(new object?[] { 2L, "Insert", new object?[] { -1, 2.5 } }),
                    Frames.Encoded(new object?[] { 2L, "Get", new object?[] { -1 } }),
                    Frames.Encoded(new object?[] { 2L, "Extend", new object?[] { new object?[] { 1, 2, 3 } } }),
                    Frames.Encoded(new object?[] { 3L, "Set", new object?[] { "name", "v" } }),
                    Frames.Encoded(new object?[] { 0L, "TypeIds", new object?[0] }),
                    Frames.Encoded(new object?[] { 0L, "Create", new object?[] { "List", new object?[] { new object?[] { 1 } } } }),
                    Frames.Encoded(new object?[] { 9L, "Get", new object?[0] }),
                };
                long answered = 0, dropped = 0;
                Fuzzing.Run("manager.dispatch", Fuzzing.Mutations(seeds), input =>
                {
                    if (Harmful(input)) return;
                    if (Call(ref session, server.Address, input) is null) dropped++; else answered++;
                }, typeof(ConnectionClosedException));
                Assert.True(answered > 0, "no mutated request was answered");
                // The manager still serves a new client after all that.
                Session? fresh = null;
                var reply = Call(ref fresh, server.Address, Frames.Encoded(new object?[] { 0L, "TypeIds", new object?[0] }));
                Assert.NotNull(reply);
                Assert.Equal(true, (MessageCodec.Decode(reply!) as object?[])?[0]);
                fresh?.Dispose();
                session?.Dispose();
                _ = dropped;
            }
            finally { server.Shutdown(); }
        }

        // Requests the fuzzer must not send: Shutdown (it would end the run), and Create of a shared-memory kind (a
        // mutated size could ask /dev/shm for gigabytes; those kinds are not parsers of the request).
        private static bool Harmful(byte[] request)
        {
            object? decoded;
            try { decoded = MessageCodec.Decode(request); }
            catch (Exception) { return false; }   // the server will refuse it too
            if (!(decoded is object?[] r) || r.Length < 2 || !(r[1] is string member)) return false;
            if (member == "Shutdown") return true;
            return member == "Create" && !(r.Length > 2 && r[2] is object?[] args && args.Length > 0
                && args[0] is string type && (type == "Dict" || type == "List" || type == "Namespace"));
        }

        private sealed class Session : IDisposable
        {
            public Session(FrameSocket socket) { Socket = socket; }
            public FrameSocket Socket { get; }
            public void Dispose() => Socket.Dispose();
        }

        /// <summary>Sends PAYLOAD as a sealed request on SESSION (made when null); the reply's payload, or null when the server dropped the connection.</summary>
        private static byte[]? Call(ref Session? session, string address, byte[] payload)
        {
            if (session is null)
            {
                var endPoint = ManagerAddress.Parse(address);
                var socket = ManagerAddress.NewSocket(endPoint);
                socket.Connect(endPoint);
                socket.ReceiveTimeout = ReceiveTimeoutMs;
                var fs = new FrameSocket(socket) { PeerName = address };
                fs.Protect(ManagerAuth.Connect(fs, Key, address));
                fs.Limit = FrameSocket.DefaultLimit;
                session = new Session(fs);
            }
            try
            {
                session.Socket.Send(payload);
                var reply = session.Socket.Receive();
                if (reply is ArraySegment<byte> r) return r.ToArray();
            }
            catch (SocketException e) when (e.SocketErrorCode != SocketError.TimedOut) { }   // the server closed it: a drop
            catch (ConnectionClosedException) { }
            session.Dispose();
            session = null;
            return null;
        }
    }
}
