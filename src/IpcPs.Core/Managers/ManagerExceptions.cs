using System;

namespace IpcPs
{
    /// <summary>A manager refused the auth key, or the peer is no manager (CPython: AuthenticationError).</summary>
    public sealed class ManagerAuthenticationException : IpcException
    {
        public ManagerAuthenticationException(string address, string message) : base(message, address) { }
    }

    /// <summary>
    /// A call failed inside the manager: <see cref="RemoteType"/> names the exception the server raised and the
    /// message is its message (CPython: the RemoteError / re-raised exception of a proxy call).
    /// </summary>
    public sealed class ManagerRemoteException : IpcException
    {
        public ManagerRemoteException(string address, string remoteType, string message)
            : base(message, address) => RemoteType = remoteType;

        /// <summary>The full name of the exception type raised in the manager process.</summary>
        public string RemoteType { get; }
    }
}

namespace IpcPs
{
    /// <summary>
    /// The address a manager was to listen on is taken (by another manager or any other program): a manager never
    /// shares its port, so connections cannot be split between two servers.
    /// </summary>
    public sealed class ManagerAddressInUseException : IpcException
    {
        public ManagerAddressInUseException(string address)
            : base($"The address '{address}' is already in use (another manager or program listens there); a manager never shares its port. "
                + "Stop the other listener, or choose another port (port 0: any free port).", address) => Address = address;

        /// <summary>The address asked for.</summary>
        public string Address { get; }
    }

    /// <summary>The manager process could not start (its initialization script failed, a type is unknown, …).</summary>
    public sealed class ManagerStartException : IpcException
    {
        public ManagerStartException(string message) : base(message) { }
    }
}
