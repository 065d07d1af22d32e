using System;
using IpcPs.Core;

namespace IpcPs.Redis
{
    public sealed partial class RedisBackend
    {
        /// <summary>
        /// Re-attaches the object DESCRIPTOR names: the process's connection to its address (made with the password this
        /// process remembers for it: given to Connect, or inherited from its parent), then the object opened by name and kind.
        /// The descriptor is untrusted input (it may come from a message): its address must parse as a Redis address with no
        /// password in it, and its name be a valid name; and the address must be one this process trusts
        /// (<see cref="IpcBackendCredentials.IsTrusted"/>), else IpcBackendNotTrustedException, with nothing sent anywhere.
        /// </summary>
        public static RedisObject Attach(IpcBackendDescriptor descriptor)
        {
            if (descriptor is null) throw new ArgumentNullException(nameof(descriptor));
            var address = RedisAddress.Parse(descriptor.Address);
            if (address.Password != null) throw new ArgumentException("A descriptor's address carries no password.", nameof(descriptor));
            if (!IpcBackendCredentials.IsTrusted(address.Display)) throw new IpcBackendNotTrustedException(address.Display, descriptor.Name);
            var backend = Connect(address.Display, DefaultConnectTimeout);
            return backend.Open(descriptor.Name, descriptor.Kind);
        }

        /// <summary>
        /// Re-attaches the manager store STOREKIND ("Dict", "List", "Namespace") NAME at ADDRESS, as <see cref="Attach"/>
        /// does a handle (the same checks: untrusted input). Like the manager's Dict('name'), it opens the store, or
        /// creates it empty if it was removed meanwhile; a name that holds another kind is refused.
        /// </summary>
        public static IIpcBackendStore AttachStore(string address, string storeKind, string name)
        {
            var parsed = RedisAddress.Parse(address);
            if (parsed.Password != null) throw new ArgumentException("A descriptor's address carries no password.", nameof(address));
            name = IpcName.Validate(name);
            if (!IpcBackendCredentials.IsTrusted(parsed.Display)) throw new IpcBackendNotTrustedException(parsed.Display, name);
            var manager = new RedisManager(Connect(parsed.Display, DefaultConnectTimeout));
            switch (storeKind)
            {
                case "Dict": return manager.Dict(name);
                case "List": return manager.List(name);
                case "Namespace": return manager.Namespace(name);
                default: throw new ArgumentException($"'{storeKind}' is not a kind of manager store (Dict, List, Namespace).", nameof(storeKind));
            }
        }
    }
}
