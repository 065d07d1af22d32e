using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcPs.Core;
using IpcPs.Core.Messaging;
using IpcPs.Core.Sync;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A connection to a Redis server holding IpcPs objects. One per process and address (<see cref="Connect"/> returns the
    /// one already open), as manager connections are: its multiplexer carries every object's commands, and one subscription
    /// connection carries every wake-up. Keys of an object NAME all carry the hash tag {NAME} (ipcps:{NAME}, ipcps:{NAME}:r,
    /// …), so one object's keys share a slot and every script touches one slot.
    /// </summary>
    public sealed partial class RedisBackend : IIpcBackend
    {
        private static readonly Dictionary<string, RedisBackend> Shared = new Dictionary<string, RedisBackend>(StringComparer.Ordinal);
        public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

        /// <summary>
        /// How long one command may take, whatever the connect timeout: a command not yet sent waits at most this long for
        /// the connection (BackendUnavailable; a call with a deadline of its own waits at most until it), a command sent at
        /// most this long for its answer (BackendOutcomeUnknown for a change).
        /// </summary>
        public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

        private readonly ConnectionMultiplexer _mux;
        private volatile bool _closed;

        private RedisBackend(RedisAddress address, ConnectionMultiplexer mux)
        {
            Target = address;
            _mux = mux;
            Database = mux.GetDatabase(address.Database);
            Notifier = new Notifier(mux);
            Reconnection = new Reconnection(mux);
        }

        internal RedisAddress Target { get; }
        internal IDatabase Database { get; }
        internal Notifier Notifier { get; }
        internal Reconnection Reconnection { get; }

        /// <summary>redis://[user@]host:port/db: the address without its password.</summary>
        public string Address => Target.Display;

        /// <summary>The largest encoded message a queue accepts (and the largest value read back as one): 16 MiB.</summary>
        public int MaxMessageBytes { get; set; } = 16 << 20;

        public bool IsConnected => !_closed && _mux.IsConnected;

        /// <summary>
        /// The process's connection to URI, made on first use within CONNECTTIMEOUT. The password is the URI's, else the one
        /// remembered for its address (<see cref="IpcBackendCredentials"/>); a password given in the URI is remembered, so
        /// handles re-attach and child processes inherit it. IpcBackendAuthenticationException for refused credentials,
        /// IpcBackendUnavailableException for a server that cannot be reached in time. The table's lock is not held while
        /// connecting (a connect waited for another thread's to another server, its whole timeout); two threads that
        /// connect to one address at once both connect, and the second to finish closes its own and takes the first's.
        /// </summary>
        public static RedisBackend Connect(string uri, TimeSpan connectTimeout)
        {
            var address = RedisAddress.Parse(uri);
            string? password = address.Password;
            if (password is null && IpcBackendCredentials.TryGet(address.Display, out var remembered)) password = remembered;
            lock (Shared) if (TryShared(address, out var b)) return b;
            var made = ConnectNew(address, password, connectTimeout);
            lock (Shared)
            {
                if (TryShared(address, out var b))
                {
                    made.Discard();
                    return b;
                }
                Shared[address.Display] = made;
                if (password != null) IpcBackendCredentials.Remember(address.Display, password);
                else IpcBackendCredentials.Trust(address.Display);   // connected to: its handles may re-attach here
                return made;
            }
        }

        /// <summary>The open shared connection to ADDRESS, unless ADDRESS names another password (it then replaces it). Under the table's lock.</summary>
        private static bool TryShared(RedisAddress address, out RedisBackend backend) =>
            Shared.TryGetValue(address.Display, out backend!) && !backend._closed && (address.Password is null || address.Password == backend._password);

        public static RedisBackend Connect(string uri) => Connect(uri, DefaultConnectTimeout);

        /// <summary>A connection of its own (not shared with the rest of the process): benchmarks and tests.</summary>
        public static RedisBackend ConnectPrivate(string uri, TimeSpan connectTimeout)
        {
            var address = RedisAddress.Parse(uri);
            string? password = address.Password;
            if (password is null && IpcBackendCredentials.TryGet(address.Display, out var remembered)) password = remembered;
            return ConnectNew(address, password, connectTimeout);
        }

        private string? _password;

        /// <summary>
        /// Connects and checks the user's rights with a PING (ACLs: a user that may connect but not run commands is refused
        /// here), both within CONNECTTIMEOUT plus the client's own allowance (half a second at most). The client's
        /// synchronous connect could not be used: when it gives up on a connection it has made (a server that answered the
        /// handshake, then nothing), it closes it with a QUIT and waits the whole operation timeout for the answer, so it
        /// took the connect timeout plus 5 s; and the PING waited the operation timeout too. Here a connect still under way
        /// at the deadline is left to end by itself (a late connection is closed, a late error observed) and a PING not
        /// answered in time closes the connection without a QUIT.
        /// </summary>
        private static RedisBackend ConnectNew(RedisAddress address, string? password, TimeSpan connectTimeout)
        {
            var options = address.Options(connectTimeout, OperationTimeout, password);
            var deadline = Deadline.After(TimeSpan.FromMilliseconds(options.ConnectTimeout + Math.Min(500, options.ConnectTimeout)));
            string late = $"Connect: the server did not answer within the connect timeout ({connectTimeout.TotalSeconds:0.###} s).";
            ConnectionMultiplexer mux;
            try
            {
                var connecting = ConnectionMultiplexer.ConnectAsync(options);
                if (!connecting.Wait(deadline.RemainingMilliseconds()))
                {
                    connecting.ContinueWith(t => { if (t.Status == TaskStatus.RanToCompletion) t.Result.Close(allowCommandsToComplete: false); else _ = t.Exception; },
                                            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                    throw new IpcBackendUnavailableException(address.Display, late);
                }
                mux = connecting.Result;
            }
            catch (Exception e) when (!(e is IpcBackendException)) { throw RedisErrors.Map(e is AggregateException a && a.InnerException != null ? a.InnerException : e, address.Display, "Connect", null, write: false); }
            var b = new RedisBackend(address, mux) { _password = options.Password };
            try
            {
                var ping = b.Database.PingAsync();
                if (!ping.Wait(Math.Max(deadline.RemainingMilliseconds(), 100))) throw new IpcBackendUnavailableException(address.Display, late);
            }
            catch (Exception e)
            {
                mux.Close(allowCommandsToComplete: false);   // no QUIT to wait for; fails the PING if it is still waiting
                if (e is IpcBackendException) throw;
                throw RedisErrors.Map(e is AggregateException a && a.InnerException != null ? a.InnerException : e, address.Display, "Connect", null, write: false);
            }
            return b;
        }

        /// <summary>Closes a connection never shared (no QUIT to wait for).</summary>
        private void Discard()
        {
            _closed = true;
            _mux.Close(allowCommandsToComplete: false);
        }

        /// <summary>Closes the connection (for every handle of this process that uses it).</summary>
        public void Dispose()
        {
            if (_closed) return;
            _closed = true;
            lock (Shared) if (Shared.TryGetValue(Address, out var b) && ReferenceEquals(b, this)) Shared.Remove(Address);
            _mux.Dispose();
        }

        internal void ThrowIfClosed()
        {
            if (_closed) throw new ObjectDisposedException($"The connection to {Address}");
        }

        // ---- keys and channels -------------------------------------------------------------------------------------

        internal static RedisKey MetaKey(string name) => "ipcps:{" + name + "}";

        internal static RedisKey Key(string name, string part) => "ipcps:{" + name + "}:" + part;

        /// <summary>Pub/sub channels span every database of a server: the database number keeps objects of two databases apart.</summary>
        internal string Channel(string name, string what) => "ipcps:" + Target.Database + ":{" + name + "}:" + what;

        // ---- running commands ----------------------------------------------------------------------------------------
        //
        // Every command goes through the client's asynchronous API; a synchronous caller waits for the task on its own
        // thread. The client's synchronous API is never used: it recycles a result box per thread and type, and a command
        // whose error reply (NOSCRIPT, WRONGTYPE, an IPCPS error) it read before its caller began to wait was completed
        // late, waking the box already handed to the thread's next command: that one returned nothing (a script: null,
        // read as the object damaged, its script run all the same) and each after it the answer of the one before
        // (StackExchange.Redis 2.13, ConnectionMultiplexer.ExecuteSyncImpl and SimpleResultBox; RedisScriptFlushTests).
        // An asynchronous command's box is its own task.

        /// <summary>
        /// Runs a script (see <see cref="Call"/>): WITHIN is the caller's deadline (none: the operation timeout alone), CANCEL
        /// ends a wait for the connection. A key of KEYS that holds another type than its part's (TYPES, else
        /// <see cref="KeyTypes.Of"/>) is named in the IpcObjectCorruptException its WRONGTYPE becomes.
        /// </summary>
        /// ABANDON: CANCEL also ends the wait for the answer of a script sent (OperationCanceledException, its outcome
        /// unknown: its answer, when it comes, is dropped), for a script whose caller can tell later whether it ran, and
        /// that may be sent again (TaskDone: a delivery is marked once, by its id and delivery number).
        internal RedisResult Eval(string script, RedisKey[] keys, RedisValue[] args, string operation, string? name, bool write,
                                  Deadline? within = null, CancellationToken cancel = default, Func<string, string[]>? types = null, bool abandon = false) =>
            Answered(Call(() => Script(script, keys, args), within ?? Deadline.Infinite, cancel, operation, name, write, keys, types, abandon), operation, name, write);

        /// <summary>
        /// Runs a script once without holding a thread while it waits (a lease's renewal, from a timer): on Linux every
        /// reply is read on a thread-pool thread, so pool threads held in synchronous waits for replies leave none to read
        /// them until the pool grows, which it does slowly (eight locks' renewals at once lost every lease on a 2-CPU
        /// machine). A connection that is down is not waited for (the caller tries again); its errors are Eval's.
        /// </summary>
        internal async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] args, string operation, string name, bool write,
                                                   Func<string, string[]>? types)
        {
            ThrowIfClosed();
            try { return Answered(await Script(script, keys, args).ConfigureAwait(false), operation, name, write); }
            catch (Exception e) when (e is RedisException || e is RedisTimeoutException)
            {
                throw await Failure(e, operation, name, write, keys, types).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The typed error for the client's error E of a command on NAME (<see cref="Call"/>'s and <see cref="EvalAsync"/>'s):
        /// a WRONGTYPE on a named object whose KEYS are known is IpcObjectCorrupt naming the key of another type (KeyTypes:
        /// it asks their types, without holding a thread), anything else RedisErrors.Map's.
        /// </summary>
        private async Task<Exception> Failure(Exception e, string operation, string? name, bool write, RedisKey[]? keys, Func<string, string[]>? types)
        {
            if (e is RedisServerException s && name != null && keys != null && KeyTypes.IsWrongType(s))
                return await KeyTypes.DamagedAsync(Database, name, Address, keys, types).ConfigureAwait(false);
            return RedisErrors.Map(e, Address, operation, name, write);
        }

        /// <summary>
        /// Sends SCRIPT as EVALSHA of its hash and, when the server does not have it (NOSCRIPT: flushed, as after a restart or
        /// a failover; never run), as EVAL of its text, which also loads it. Two commands at most, whatever other clients
        /// flush meanwhile (the client's own retry sent EVALSHA again when another thread had loaded the script since, and
        /// a flush in between failed the call with NOSCRIPT); a script is never run twice.
        /// </summary>
        private async Task<RedisResult> Script(string script, RedisKey[] keys, RedisValue[] args)
        {
            var hash = Hashes.GetOrAdd(script, s => SHA1.HashData(Encoding.UTF8.GetBytes(s)));
            try { return await Database.ScriptEvaluateAsync(hash, keys, args).ConfigureAwait(false); }
            catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                return await Database.ScriptEvaluateAsync(script, keys, args, CommandFlags.NoScriptCache).ConfigureAwait(false);
            }
        }

        /// <summary>Each script's SHA-1 (what EVALSHA names it by): the scripts are a fixed set of constants.</summary>
        private static readonly ConcurrentDictionary<string, byte[]> Hashes = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);

        /// <summary>
        /// R, which is a reply of Redis: a nil that Redis answered is a RedisResult (IsNull), never null. A null is the
        /// client's own "no answer" (never seen since no call is synchronous; the old synchronous calls gave one) and is
        /// never read as the object damaged: a change's outcome is unknown, a read is unavailable (nothing changed).
        /// </summary>
        internal RedisResult Answered(RedisResult? r, string operation, string? name, bool write) => r ?? throw (write
            ? new IpcBackendOutcomeUnknownException(Address, operation, name)
            : new IpcBackendUnavailableException(Address, $"{operation}: the client gave no answer", name));

        /// <summary>Runs a plain command the same way; KEYS: those it reads or writes (named when one has the wrong type).</summary>
        internal T Run<T>(Func<IDatabase, Task<T>> command, string operation, string? name, bool write, RedisKey[]? keys = null) =>
            Call(() => command(Database), Deadline.Infinite, CancellationToken.None, operation, name, write, keys, null);

        /// <summary>
        /// Runs COMMAND on the interactive connection and waits for its answer on the caller's thread; every client error
        /// becomes a typed one (RedisErrors.Map). While the connection is down the client fails a command unsent
        /// (BacklogPolicy.FailFast); it is sent again once the connection is back, waited for at most until WITHIN (a call
        /// whose deadline has passed tries once) and never longer than <see cref="OperationTimeout"/>, then
        /// BackendUnavailable: nothing was sent, and nothing will be. A command sent waits for its answer up to the operation
        /// timeout (the client's own, checked at its heartbeat: 5 to 6 s), whatever WITHIN: its answer may still come, so a
        /// change is never given up earlier.
        /// </summary>
        private T Call<T>(Func<Task<T>> command, Deadline within, CancellationToken cancel, string operation, string? name, bool write,
                          RedisKey[]? keys, Func<string, string[]>? types, bool abandon = false)
        {
            ThrowIfClosed();
            var until = within.Min(Deadline.After(OperationTimeout));
            while (true)
            {
                var back = Reconnection.Next;   // taken before the try: a reconnection after the failure is not missed
                try { return Wait(command(), abandon ? cancel : CancellationToken.None); }
                catch (RedisConnectionException e) when (RedisErrors.NotSent(e))
                {
                    if (until.HasPassed || !Notifier.Wait(back, until.RemainingMilliseconds(), cancel)) throw RedisErrors.Map(e, Address, operation, name, write);
                    ThrowIfClosed();
                }
                catch (Exception e) when (e is RedisException || e is RedisTimeoutException) { throw Failure(e, operation, name, write, keys, types).GetAwaiter().GetResult(); }
                catch (TimeoutException e) when (!(e is RedisTimeoutException))   // Wait's backstop: sent, and no answer
                {
                    throw write ? new IpcBackendOutcomeUnknownException(Address, operation, name, e)
                                : (Exception)new IpcBackendUnavailableException(Address, $"{operation}: no answer within the operation timeout", name, e);
                }
            }
        }

        /// <summary>
        /// The answer of the client's task, waited for on this thread; its exception as thrown (not an AggregateException).
        /// The client ends a task by its operation timeout at its next heartbeat (every second); a task it has not ended 3 s
        /// after that is given up here with a TimeoutException (and its later end observed).
        /// </summary>
        internal static T Wait<T>(Task<T> asked, CancellationToken cancel = default)
        {
            Ended(asked, cancel);
            return asked.GetAwaiter().GetResult();
        }

        internal static void Wait(Task asked)
        {
            Ended(asked, CancellationToken.None);
            asked.GetAwaiter().GetResult();
        }

        /// <summary>
        /// Waits for ASKED to end (its outcome is read by the caller, once), else the backstop's TimeoutException, or
        /// CANCEL's OperationCanceledException (a caller that abandons the answer: Eval's ABANDON). A task given up is
        /// left to end by itself, its exception observed.
        /// </summary>
        private static void Ended(Task asked, CancellationToken cancel)
        {
            bool ended;
            try { ended = asked.Wait((int)(OperationTimeout + TimeSpan.FromSeconds(3)).TotalMilliseconds, cancel); }
            catch (AggregateException) { ended = true; }   // failed: the caller's GetResult throws its exception, as itself
            catch (OperationCanceledException)
            {
                // An answer that came as the caller was cancelled is read, cancelled or not (review: a filter on the
                // task's state let the exception through when the answer came between the wait and the filter).
                if (!asked.IsCompleted)
                {
                    Abandon(asked);
                    throw;
                }
                ended = true;
            }
            if (!ended)
            {
                Abandon(asked);
                throw new TimeoutException($"The client did not end the command within {OperationTimeout.TotalSeconds + 3:0} s.");
            }
        }

        private static void Abandon(Task asked) =>
            asked.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        /// <summary>Watches CHANNEL for a wait on NAME (Notifier.Watch), its Redis errors typed.</summary>
        internal Notifier.Watcher Watch(string channel, string? name)
        {
            try { return Notifier.Watch(channel); }
            catch (Exception e) when (e is RedisException || e is RedisTimeoutException) { throw RedisErrors.Map(e, Address, "Subscribe", name, write: false); }
            catch (TimeoutException e) { throw new IpcBackendUnavailableException(Address, "Subscribe: no answer within the operation timeout", name, e); }
        }

        // ---- the object table ----------------------------------------------------------------------------------------

        IIpcBackendObject IIpcBackend.Create(IpcObjectKind kind, string? name, IpcBackendOptions options) => Create(kind, name, options);

        IIpcBackendObject IIpcBackend.Open(string name, IpcObjectKind? kind) => Open(name, kind);

        /// <summary>Creates (or with OpenOrCreate opens) an object of KIND.</summary>
        public RedisObject Create(IpcObjectKind kind, string? name, IpcBackendOptions options)
        {
            if (options is null) throw new ArgumentNullException(nameof(options));
            string n = name is null ? IpcName.Generate() : IpcName.Validate(name);
            var fields = kind switch
            {
                IpcObjectKind.Queue => RedisQueue.MetaFields(options),
                IpcObjectKind.Lock => RedisLock.MetaFields(options),
                IpcObjectKind.Semaphore or IpcObjectKind.BoundedSemaphore => RedisSemaphore.MetaFields(options),
                IpcObjectKind.Event => RedisEvent.MetaFields(options),
                IpcObjectKind.Barrier => RedisBarrier.MetaFields(options),
                IpcObjectKind.Value => RedisNumber.MetaFields(options),
                _ => throw new NotSupportedException($"A Redis backend has no {kind} objects: it serves Queue, Lock, Semaphore, Event, Barrier and Value (and the manager's Dict, List and Namespace)."),
            };
            string kindName = StoredKind(kind);
            var args = new List<RedisValue> { kindName, options.OpenOrCreate ? 1 : 0 };
            foreach (var f in fields) { args.Add(f.Key); args.Add(f.Value); }
            var r = Eval(Scripts.Create, ObjectKeys(n), args.ToArray(), "Create", n, write: true);
            if (ScriptReply.Word(r, n, Address, "Create", "created", "opened", "exists") == "exists") throw new IpcObjectExistsException(n);
            return Open(n, kind);
        }

        /// <summary>Opens the object NAME (any kind when KIND is null), reading its settings once and checking them.</summary>
        public RedisObject Open(string name, IpcObjectKind? kind)
        {
            IpcName.Validate(name);
            var entries = Run(db => db.HashGetAllAsync(MetaKey(name)), "Open", name, write: false, new[] { MetaKey(name) });
            if (entries.Length == 0) throw new IpcObjectNotFoundException(name);
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in entries.Take(64)) meta[(string?)e.Name ?? ""] = (string?)e.Value ?? "";
            var stored = ParseKind(name, meta.TryGetValue("kind", out var k) ? k : "");
            if (kind is IpcObjectKind wanted && !SameFamily(wanted, stored))
                throw new IpcObjectKindException(name, $"The object '{name}' at {Address} is a {stored}, not a {wanted}.");
            var settings = new MetaReader(name, Address, meta);
            return stored switch
            {
                IpcObjectKind.Queue => new RedisQueue(this, name, settings),
                IpcObjectKind.Lock => new RedisLock(this, name, settings),
                IpcObjectKind.Semaphore => new RedisSemaphore(this, name, settings),
                IpcObjectKind.Event => new RedisEvent(this, name),
                IpcObjectKind.Barrier => new RedisBarrier(this, name, settings),
                IpcObjectKind.Value => new RedisNumber(this, name, settings),
                _ => throw new IpcObjectKindException(name, $"The object '{name}' at {Address} is a {stored}, which this backend does not open by name."),
            };
        }

        public RedisQueue Queue(string? name, IpcBackendOptions? options = null) => (RedisQueue)Create(IpcObjectKind.Queue, name, options ?? new IpcBackendOptions());
        public RedisLock Lock(string? name, IpcBackendOptions? options = null) => (RedisLock)Create(IpcObjectKind.Lock, name, options ?? new IpcBackendOptions());
        public RedisSemaphore Semaphore(string? name, IpcBackendOptions options) => (RedisSemaphore)Create(IpcObjectKind.Semaphore, name, options);
        public RedisEvent Event(string? name, IpcBackendOptions? options = null) => (RedisEvent)Create(IpcObjectKind.Event, name, options ?? new IpcBackendOptions());
        public RedisBarrier Barrier(string? name, IpcBackendOptions options) => (RedisBarrier)Create(IpcObjectKind.Barrier, name, options);
        public RedisNumber Value(string? name, IpcBackendOptions options) => (RedisNumber)Create(IpcObjectKind.Value, name, options);

        /// <summary>The objects (every kind, the manager's stores included) whose names match the wildcard PATTERN.</summary>
        public IReadOnlyList<IpcBackendObjectInfo> List(string? pattern)
        {
            var result = new List<IpcBackendObjectInfo>();
            var keys = AllKeys();
            foreach (var key in keys)
            {
                string k = key.ToString();
                if (!(k.StartsWith("ipcps:{", StringComparison.Ordinal) && k.EndsWith("}", StringComparison.Ordinal))) continue;
                string name = k.Substring(7, k.Length - 8);
                if (!IpcNameIsValid(name) || (pattern != null && !Wildcard.IsMatch(name, pattern))) continue;
                string? kind = Run(db => KindOf(db, key), "List", name, write: false);
                if (kind != null && TryParseKind(kind, out var parsed)) result.Add(new IpcBackendObjectInfo(name, parsed, Address));
            }
            result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return result;
        }

        /// <summary>
        /// The stored kind of the key K that List found, null for a key that is not an IpcPs object: a key of another type
        /// (a string someone SET under ipcps:{…}) answers WRONGTYPE, and one such key must not fail the list of all others.
        /// </summary>
        private static async Task<string?> KindOf(IDatabase db, RedisKey k)
        {
            try { return (string?)await db.HashGetAsync(k, "kind").ConfigureAwait(false); }
            catch (RedisServerException e) when (e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal)) { return null; }
        }

        /// <summary>The keys of this database that may be objects' metas: SCAN, a page of 500 a call (each its own timeout).</summary>
        private List<RedisKey> AllKeys()
        {
            var keys = new List<RedisKey>();
            RedisValue cursor = 0;
            do
            {
                var page = Run(db => db.ExecuteAsync("SCAN", cursor, "MATCH", "ipcps:{*}", "COUNT", 500), "List", null, write: false);
                if (page.Resp2Type != ResultType.Array || page.Length != 2 || page[1].Resp2Type != ResultType.Array)
                    throw new IpcBackendException($"List: the Redis server at {Address} answered SCAN with something else than a page of keys.");
                cursor = (RedisValue)page[0];
                keys.AddRange((RedisKey[])page[1]!);
            }
            while (cursor != "0");
            return keys;
        }

        /// <summary>
        /// Destroys NAME at once: its keys go, waiters wake and find it gone, holders' renewals fail. Data keys left by an
        /// object whose meta was deleted by hand go too (True: something was removed); False when nothing was there.
        /// </summary>
        public bool Remove(string name)
        {
            IpcName.Validate(name);
            var channels = AllChannels.Select(c => (RedisValue)Channel(name, c)).ToArray();
            var r = Eval(Scripts.Remove, ObjectKeys(name), channels, "Remove", name, write: true);
            return ScriptReply.Integer(r, name, Address, "Remove") > 0;
        }

        /// <summary>Every key an object NAME may have: its meta first, then each data part (AllParts).</summary>
        internal static RedisKey[] ObjectKeys(string name)
        {
            var keys = new List<RedisKey> { MetaKey(name) };
            foreach (var part in AllParts) keys.Add(Key(name, part));
            return keys.ToArray();
        }

        /// <summary>A manager whose stores live in this server (Connect-IpcManager -Address redis://…).</summary>
        public RedisManager Manager() => new RedisManager(this);

        object IIpcBackend.Manager() => Manager();

        internal static readonly string[] AllParts = { "r", "b", "f", "d", "p", "x", "h", "s", "dict", "list", "arr", "arrp" };
        internal static readonly string[] AllChannels = { "get", "put", "join", "rel", "ev", "bar" };

        internal static string StoredKind(IpcObjectKind kind) => kind == IpcObjectKind.BoundedSemaphore ? "Semaphore" : kind.ToString();

        private static bool SameFamily(IpcObjectKind wanted, IpcObjectKind stored) =>
            wanted == stored || (wanted == IpcObjectKind.BoundedSemaphore && stored == IpcObjectKind.Semaphore);

        private IpcObjectKind ParseKind(string name, string text) =>
            TryParseKind(text, out var k) ? k : throw new IpcObjectKindException(name, $"The key of '{name}' at {Address} is not an IpcPs object (kind '{Truncate(text)}').");

        private static bool TryParseKind(string text, out IpcObjectKind kind) =>
            Enum.TryParse(text, ignoreCase: false, out kind) && Enum.IsDefined(typeof(IpcObjectKind), kind) && text.All(char.IsLetter);

        private static bool IpcNameIsValid(string name)
        {
            try { IpcName.Validate(name); return true; }
            catch (InvalidIpcNameException) { return false; }
        }

        internal static string Truncate(string s) => s.Length <= 40 ? s : s.Substring(0, 40) + "…";

        public override string ToString() => $"RedisBackend({Address}, {(IsConnected ? "connected" : "disconnected")})";
    }
}
