using System;
using IpcPs.Core.Managers;

namespace IpcPs
{
    /// <summary>
    /// What a proxy is: the manager's address, the object's id there and its type id (plus the manager's directory,
    /// where a process of the same user finds the auth key). This is all a proxy carries across processes; it
    /// connects (lazily, on its first call) wherever it lands.
    /// </summary>
    public sealed class ManagerReference
    {
        private ManagerClient? _client;

        public ManagerReference(string address, long id, string typeId, string? stateDir)
        {
            Address = address;
            Id = id;
            TypeId = typeId;
            StateDir = stateDir;
        }

        public string Address { get; }
        public long Id { get; }
        public string TypeId { get; }
        public string? StateDir { get; }

        /// <summary>
        /// Calls MEMBER; the caller's interrupt (Ctrl+C) ends the wait for the reply and, when this process has no
        /// connection to the manager yet, the connect and the handshake too.
        /// </summary>
        internal object? Call(string member, params object?[] args) => CallWith(Core.IpcHost.CallerInterrupt, member, args);

        /// <summary>The same, its reply checked to be a T (<see cref="ManagerReply"/>): a reply of another type is MessageFormatException.</summary>
        internal T Call<T>(string member, params object?[] args) => ManagerReply.Expect<T>(Call(member, args), member, Address);

        /// <summary>A call (and its connect) ended by CANCEL, not by the caller's interrupt (see <see cref="ManagerClient.Call(long, string, object[], System.Threading.CancellationToken)"/>).</summary>
        internal object? CallWith(System.Threading.CancellationToken cancel, string member, params object?[] args) => Client(cancel).Call(Id, member, args, cancel);

        private ManagerClient Client(System.Threading.CancellationToken cancel)
        {
            var c = _client;
            if (c is null || c.IsBroken) _client = c = ManagerClient.For(Address, StateDir, cancel);
            return c;
        }

        public override string ToString() => $"{TypeId} {Id} at {Address}";
    }

    /// <summary>Every manager proxy (dict, list, namespace, custom object, the manager itself) has a reference.</summary>
    public interface IManagedProxy
    {
        ManagerReference Reference { get; }
    }
}
