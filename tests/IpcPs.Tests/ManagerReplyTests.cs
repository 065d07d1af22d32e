using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core.Managers;
using IpcPs.Core.Messaging;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A manager that holds the key can still answer anything: every proxy method that expects a reply of some type
    /// (a count, a flag, a list of keys, a new object's id…) meets a reply of another type with MessageFormatException,
    /// never InvalidCastException, NullReferenceException or a half-built result (docs/design.md, "Managers", "Requests").
    /// </summary>
    public sealed class ManagerReplyTests : IDisposable
    {
        private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<FrameSocket> _peers = new List<FrameSocket>();
        private readonly Task _server;
        private readonly string _address;
        private object? _answer;   // what the fake manager answers to every request

        public ManagerReplyTests()
        {
            _listener.Start();
            _address = "127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;
            ManagerClient.RememberKey(_address, Key);
            _server = Task.Run(Serve);
        }

        // The hostile manager: the real handshake and frame protection, then [true, _answer] to whatever it is asked.
        private async Task Serve()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try { s = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException) { return; }
                var fs = new FrameSocket(s) { PeerName = "test client" };
                lock (_peers) _peers.Add(fs);
                _ = Task.Run(() =>
                {
                    try
                    {
                        if (ManagerAuth.Accept(fs, Key, out var seal) != HandshakeOutcome.Authenticated) return;
                        fs.Protect(seal!);
                        fs.Limit = FrameSocket.DefaultLimit;
                        while (fs.Receive() is ArraySegment<byte>)
                            fs.Send(MessageCodec.EncodeToArray(new object?[] { true, Volatile.Read(ref _answer) }, 2));
                    }
                    catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is IpcException) { /* the test ended */ }
                });
            }
        }

        private IpcManager Manager => new IpcManager(_address, null, null);
        private ManagedDict Dict => new ManagedDict(new ManagerReference(_address, 1, "Dict", null));
        private ManagedList List => new ManagedList(new ManagerReference(_address, 2, "List", null));
        private ManagedNamespace Namespace => new ManagedNamespace(new ManagerReference(_address, 3, "Namespace", null));

        private static readonly object?[] NotAnInt = { "7", null, 3.5, true, long.MaxValue, new object?[] { 1 } };
        private static readonly object?[] NotABool = { "true", null, 1, new object?[] { true } };
        private static readonly object?[] NotAnArray = { "x", null, 5, true, new Hashtable() };
        private static readonly object?[] NotPairs = NotAnArray.Concat(new object?[] { new object?[] { 1, 2, 3 }, new object?[] { null, 1 } }).ToArray();
        private static readonly object?[] NotNamedPairs = NotPairs.Concat(new object?[] { new object?[] { 1, 2 } }).ToArray();
        private static readonly object?[] NotNames = { "x", null, new object?[] { 1 }, new object?[] { null } };
        private static readonly object?[] NotCreated = { null, "x", new object?[] { 1L }, new object?[] { "a", "Dict" }, new object?[] { 1L, 2 }, new object?[] { "1", "Dict" } };
        private static readonly object?[] NotShared = NotCreated.Concat(new object?[]
        {
            new object?[] { 1L, "Queue", null, "Queue" }, new object?[] { 1L, "Queue", "n", null }, new object?[] { 1L, "Queue", "n", "NoSuchKind" },
            new object?[] { 1L, "Queue", "n", "999" }, new object?[] { 1L, "Queue", "n", 3 },
        }).ToArray();
        private static readonly object?[] NotTryGet = { "x", null, Array.Empty<object?>(), new object?[] { "yes", 1 }, new object?[] { true } };

        /// <summary>Every proxy method whose reply has a type, with replies of other types.</summary>
        private IEnumerable<(string Method, Action Call, object?[] Wrong)> Cases() => new (string, Action, object?[])[]
        {
            ("Dict.GetCount", () => Dict.GetCount(), NotAnInt),
            ("Dict.Count", () => _ = Dict.Count, NotAnInt),
            ("Dict.Keys", () => _ = Dict.Keys, NotAnArray),
            ("Dict.Values", () => _ = Dict.Values, NotAnArray),
            ("Dict.ContainsKey", () => Dict.ContainsKey("k"), NotABool),
            ("Dict.Remove", () => Dict.Remove("k"), NotABool),
            ("Dict.Get(key, otherwise)", () => Dict.Get("k", "otherwise"), NotTryGet),
            ("Dict.ToHashtable", () => Dict.ToHashtable(), NotPairs),
            ("Dict enumeration", () => Dict.Cast<object>().ToArray(), NotPairs),
            ("List.GetCount", () => List.GetCount(), NotAnInt),
            ("List.Add", () => List.Add(1), NotAnInt),
            ("List.IndexOf", () => List.IndexOf(1), NotAnInt),
            ("List.Remove", () => List.Remove(1), NotABool),
            ("List.Contains", () => List.Contains(1), NotABool),
            ("List.ToArray", () => List.ToArray(), NotAnArray),
            ("Namespace.Items", () => Namespace.Items(), NotNamedPairs),
            ("Namespace.GetDynamicMemberNames", () => Namespace.GetDynamicMemberNames().ToArray(), NotNamedPairs),
            ("Namespace.Remove", () => Namespace.Remove("x"), NotABool),
            ("Manager.Pid", () => _ = Manager.Pid, NotAnInt),
            ("Manager.TypeIds", () => _ = Manager.TypeIds, NotNames),
            ("Manager.Dict", () => Manager.Dict(), NotCreated),
            ("Manager.Create", () => Manager.Create("Maths"), NotCreated),
            ("Manager.Queue", () => Manager.Queue(), NotShared),
        };

        [Fact]
        public void TheFakeManagerIsAManager()
        {
            // The harness itself: with replies of the right type the same proxies work.
            _answer = 3;
            Assert.Equal(3, Dict.GetCount());
            _answer = true;
            Assert.True(List.Contains(1));
            _answer = new object?[] { "a", "b", 1, 2 };
            Assert.Equal(2, Namespace.Items()["b"]);
            _answer = new object?[] { 77L, "Dict" };
            Assert.Equal(77L, ((IManagedProxy)Manager.Dict()).Reference.Id);
        }

        [Fact]
        public void EveryReplyOfTheWrongTypeIsAMessageFormatError()
        {
            var untyped = new List<string>();
            foreach (var (method, call, wrong) in Cases())
                foreach (var answer in wrong)
                {
                    Volatile.Write(ref _answer, answer);
                    string what = $"{method} answered {Describe(answer)}";
                    try { call(); untyped.Add($"{what}: no error"); }
                    catch (MessageFormatException e) { Assert.Contains(_address, e.Message); }
                    catch (Exception e) { untyped.Add($"{what}: {e.GetType().Name}: {e.Message}"); }
                }
            Assert.True(untyped.Count == 0, "Replies of the wrong type that were not a MessageFormat error:\n" + string.Join("\n", untyped));
            // The connection is still in step: a good reply is read as such.
            Volatile.Write(ref _answer, 5);
            Assert.Equal(5, List.GetCount());
        }

        private static string Describe(object? v) => v switch
        {
            null => "null",
            object?[] a => "[" + string.Join(", ", a.Select(Describe)) + "]",
            string s => $"'{s}'",
            _ => $"{v} ({v.GetType().Name})",
        };

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            ManagerClient.Forget(_address);
            lock (_peers) foreach (var p in _peers) p.Dispose();
            _server.Wait(TimeSpan.FromSeconds(30));
            _stop.Dispose();
        }
    }
}
