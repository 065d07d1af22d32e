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
    /// <summary>The manager process could not start (its initialization script failed, a type is unknown, …).</summary>
    public sealed class ManagerStartException : IpcException
    {
        public ManagerStartException(string message) : base(message) { }
    }
}
