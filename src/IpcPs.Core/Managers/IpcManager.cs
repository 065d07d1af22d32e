using System;
using System.Collections;
using System.Diagnostics;
using System.Dynamic;
using System.Linq;
using IpcPs.Core.Managers;

namespace IpcPs
{
    /// <summary>
    /// A manager (CPython's SyncManager): $m.Dict(), $m.List(), $m.Namespace() make objects that live in the manager
    /// process and return proxies; $m.Queue(), $m.Lock(), … make shared-memory objects the manager owns and return
    /// them opened; $m.TypeId(args) makes an instance of a registered custom type. Stop-IpcManager (or Shutdown)
    /// destroys all of them.
    /// </summary>
    public sealed class IpcManager : DynamicObject, IManagedProxy, IDisposable
    {
        private readonly ManagerReference _reference;
        private string[]? _typeIds;
        private bool _shutDown;

        internal IpcManager(string address, string? stateDir, Process? process)
        {
            _reference = new ManagerReference(address, 0, "Manager", stateDir);
            Process = process;
        }

        ManagerReference IManagedProxy.Reference => _reference;

        /// <summary>Where the manager listens: unix:/… (the default) or host:port.</summary>
        public string Address => _reference.Address;

        /// <summary>The manager's process id.</summary>
        public int Pid => _reference.Call<int>("Pid");

        /// <summary>The server process when this session started it (null when connected to one).</summary>
        internal Process? Process { get; }

        /// <summary>The manager's 0700 directory on this machine (its Unix socket and key file); null when unknown (connected by address).</summary>
        public string? Directory => _reference.StateDir;

        private string? StateDir => _reference.StateDir;

        /// <summary>
        /// Running or Stopped, as this session can tell without a call: a manager it started is its process; a manager
        /// of this machine keeps its folder while it runs. Unknown for one on another machine (only a call tells).
        /// </summary>
        public string State
        {
            get
            {
                if (_shutDown) return "Stopped";
                try { if (Process != null) return Process.HasExited ? "Stopped" : "Running"; }
                catch (InvalidOperationException) { return "Stopped"; }
                if (StateDir != null) return System.IO.Directory.Exists(StateDir) ? "Running" : "Stopped";
                return "Unknown";
            }
        }

        /// <summary>The registered custom type ids.</summary>
        public string[] TypeIds => _typeIds ??= _reference.Call<object?[]>("TypeIds").Select(t => ManagerReply.Expect<string>(t, "TypeIds", Address)).ToArray();

        public ManagedDict Dict() => Dict(null);
        public ManagedDict Dict(IDictionary? initial) => new ManagedDict(Make("Dict", initial is null ? null : initial as Hashtable ?? new Hashtable(initial)));
        public ManagedList List() => new ManagedList(Make("List"));
        public ManagedList List(object? initial) => new ManagedList(Make("List", new object?[] { initial is IEnumerable e && !(initial is string) ? e.Cast<object?>().ToArray() : new[] { initial } }));
        public ManagedNamespace Namespace() => new ManagedNamespace(Make("Namespace"));
        public ManagedNamespace Namespace(IDictionary initial) => new ManagedNamespace(Make("Namespace", initial as Hashtable ?? new Hashtable(initial)));

        public IpcQueue Queue() => Queue(0);
        public IpcQueue Queue(int maxSize) => (IpcQueue)Shared("Queue", maxSize);
        public IpcQueue JoinableQueue() => JoinableQueue(0);
        public IpcQueue JoinableQueue(int maxSize) => (IpcQueue)Shared("JoinableQueue", maxSize);
        public IpcLock Lock() => (IpcLock)Shared("Lock");
        public IpcLock RLock() => (IpcLock)Shared("RLock");
        public IpcEvent Event() => (IpcEvent)Shared("Event");
        public IpcSemaphore Semaphore() => Semaphore(1);
        public IpcSemaphore Semaphore(int value) => (IpcSemaphore)Shared("Semaphore", value);
        public IpcSemaphore BoundedSemaphore() => BoundedSemaphore(1);
        public IpcSemaphore BoundedSemaphore(int value) => (IpcSemaphore)Shared("BoundedSemaphore", value);
        public IpcCondition Condition() => (IpcCondition)Shared("Condition");
        public IpcCondition Condition(IpcLock @lock) => (IpcCondition)Shared("Condition", @lock);
        public IpcBarrier Barrier(int parties) => (IpcBarrier)Shared("Barrier", parties);
        public IpcBarrier Barrier(int parties, double timeoutSeconds) => (IpcBarrier)Shared("Barrier", parties, timeoutSeconds);
        public IpcValue Value(string typeCode) => (IpcValue)Shared("Value", typeCode);
        public IpcValue Value(string typeCode, object? value) => (IpcValue)Shared("Value", typeCode, value);
        public IpcArray Array(string typeCode, object lengthOrValues) =>
            (IpcArray)Shared("Array", typeCode, lengthOrValues is IEnumerable e && !(lengthOrValues is string) ? e.Cast<object?>().ToArray() : lengthOrValues);

        /// <summary>A new instance of the registered type TYPEID, made in the manager (also $m.TypeId(args)).</summary>
        public ManagedObject Create(string typeId, params object?[] args) => new ManagedObject(Make(typeId, args));

        public override bool TryInvokeMember(InvokeMemberBinder binder, object?[] args, out object? result)
        {
            result = null;
            if (!TypeIds.Contains(binder.Name, StringComparer.OrdinalIgnoreCase)) return false;
            result = Create(binder.Name, args);
            return true;
        }

        private static readonly TimeSpan ShutdownReplyTimeout = TimeSpan.FromSeconds(10);

        /// <summary>Shuts the manager down: every object it owns is destroyed, its process ends.</summary>
        public void Shutdown()
        {
            if (Process != null && _shutDown) return;   // a manager this process started and already stopped: nothing to do
            _shutDown = true;
            if (Process is null) _reference.Call("Shutdown");   // another's manager: an ordinary call (Ctrl+C ends its wait)
            else
            {
                // A manager this process started is always ended: asked first, for a bounded time that Ctrl+C does not
                // cut (Use-IpcManager shuts it down as its stopped pipeline unwinds), then waited for, then killed.
                using var bounded = new System.Threading.CancellationTokenSource(ShutdownReplyTimeout);
                try { _reference.CallWith(bounded.Token, "Shutdown"); }
                catch (ConnectionClosedException) { /* it closed the connection as it went: waited for below */ }
                catch (OperationCanceledException) { /* no reply in time: ended below */ }
            }
            ManagerClient.Forget(Address);
            if (Process != null)
            {
                if (!Process.WaitForExit(10_000))
                {
                    using (var child = IpcPs.Core.Platform.Platforms.Current.Processes.Pin(Process)) child.Kill();   // never a process that took its pid
                    Process.WaitForExit();
                }
                Process.Dispose();
                if (StateDir != null) ManagerState.Remove(StateDir);   // normally gone already: the server removes it
            }
        }

        /// <summary>Closes this process's connection (the manager goes on; Stop-IpcManager shuts it down).</summary>
        public void Dispose() => ManagerClient.Forget(Address);

        private ManagerReference Make(string typeId, params object?[] args)
        {
            var r = Created(typeId, args, 2);   // [id, typeId]
            return new ManagerReference(Address, ManagerReply.Expect<long>(r[0], "Create", Address), ManagerReply.Expect<string>(r[1], "Create", Address), StateDir);
        }

        private IpcObject Shared(string typeId, params object?[] args)
        {
            var r = Created(typeId, args, 4);   // [id, typeId, name, kind]
            string name = ManagerReply.Expect<string>(r[2], "Create", Address), kindName = ManagerReply.Expect<string>(r[3], "Create", Address);
            if (!Enum.TryParse(kindName, out IpcObjectKind kind) || !Enum.IsDefined(typeof(IpcObjectKind), kind) || !char.IsLetter(kindName, 0))
                throw ManagerReply.Wrong("Create", Address, $"names the kind '{kindName}', which is none");
            try { return IpcObjects.Open(name, kind); }
            catch (IpcObjectNotFoundException e)
            {
                // The manager made it, but not on this machine: these kinds are shared memory, not proxies.
                throw new InvalidOperationException($"A manager's {typeId} is a shared-memory object of the manager's machine, and the manager at '{Address}' "
                    + "is not on this one: over the network use Dict, List, Namespace and registered types.", e);
            }
        }

        // Create's reply: at least N items (a reply of a newer manager may carry more).
        private object?[] Created(string typeId, object?[] args, int n)
        {
            var r = _reference.Call<object?[]>("Create", typeId, args);
            return r.Length >= n ? r : throw ManagerReply.Wrong("Create", Address, $"has {r.Length} items, not {n}");
        }

        public override string ToString() => $"IpcManager at {Address}";

        /// <summary>The proxy a reference stands for (what a proxy that crossed processes becomes again).</summary>
        public static IManagedProxy FromReference(ManagerReference r) => r.TypeId switch
        {
            "Manager" => new IpcManager(r.Address, r.StateDir, null),
            "Dict" => new ManagedDict(r),
            "List" => new ManagedList(r),
            "Namespace" => new ManagedNamespace(r),
            _ => new ManagedObject(r),
        };
    }
}
