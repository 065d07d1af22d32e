using System;

namespace IpcPs
{
    /// <summary>Base of the errors of a remote backend (Redis): the server, the connection, a lease.</summary>
    public class IpcBackendException : IpcException
    {
        public IpcBackendException(string message, string? objectName = null, Exception? inner = null) : base(message, objectName, inner) { }
    }

    /// <summary>
    /// A handle descriptor (from a message, a child's arguments or a job) names a backend address this process does not
    /// know: one it never connected to, was not given by its parent and is not $env:IPCPS_BACKEND's. Nothing was sent to
    /// that address: a descriptor alone never makes a process connect anywhere.
    /// </summary>
    public sealed class IpcBackendNotTrustedException : IpcBackendException
    {
        public IpcBackendNotTrustedException(string address, string objectName)
            : base($"'{objectName}' is on {address}, a backend this process has not connected to: connect to it first (Connect-IpcBackend), then open the object by name (Get-IpcObject -Backend … -Open) or receive its handle again.", objectName)
            => Address = address;

        public string Address { get; }
    }

    /// <summary>The backend refused the credentials (a wrong user or password, an ACL that forbids a command).</summary>
    public sealed class IpcBackendAuthenticationException : IpcBackendException
    {
        public IpcBackendAuthenticationException(string address, string detail, Exception? inner = null)
            : base($"The backend {address} refused the credentials: {detail}", null, inner) => Address = address;

        public string Address { get; }
    }

    /// <summary>
    /// The backend could not be reached in time (unreachable host, refused port, a server restarting), and the operation was
    /// not sent: nothing was changed, so it is safe to try again.
    /// </summary>
    public sealed class IpcBackendUnavailableException : IpcBackendException
    {
        public IpcBackendUnavailableException(string address, string detail, string? objectName = null, Exception? inner = null)
            : base($"The backend {address} is not reachable: {detail}", objectName, inner) => Address = address;

        public string Address { get; }
    }

    /// <summary>
    /// A change was sent to the backend but its answer never came (the connection broke, the server was restarted, the
    /// answer timed out): it may or may not have been applied. Never reported as done. A Put that ends with this error may
    /// have stored its message; retrying it may store it twice.
    /// </summary>
    public sealed class IpcBackendOutcomeUnknownException : IpcBackendException
    {
        public IpcBackendOutcomeUnknownException(string address, string operation, string? objectName, Exception? inner = null)
            : base($"{operation} on '{objectName}' was sent to {address}, but no answer came: it may or may not have been applied.", objectName, inner)
        {
            Address = address;
            Operation = operation;
        }

        public string Address { get; }
        public string Operation { get; }
    }

    /// <summary>
    /// A lease (a remote lock or semaphore permit) was lost while held: the holder stopped renewing it in time (paused,
    /// partitioned, too slow), it expired, and another holder may have taken it since, with a higher fencing token.
    /// </summary>
    public sealed class LeaseLostException : IpcBackendException
    {
        public LeaseLostException(string name, string kind, long token, string how)
            : base($"The {kind} '{name}' was no longer held by this handle (fencing token {token}): {how}", name) => Token = token;

        /// <summary>The fencing token of the lost lease.</summary>
        public long Token { get; }
    }

    /// <summary>
    /// A TaskDone came after the message's visibility timeout: the message was delivered again (or dead-lettered) and is no
    /// longer this consumer's to mark done.
    /// </summary>
    public sealed class DeliveryExpiredException : IpcBackendException
    {
        public DeliveryExpiredException(string name, string receipt)
            : base($"The delivery {receipt} of the queue '{name}' is no longer outstanding: its visibility timeout passed and it was delivered again "
                   + "or dead-lettered (or it was already marked done).", name) => Receipt = receipt;

        public string Receipt { get; }
    }
}
