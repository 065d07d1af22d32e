using System;
using System.Management.Automation;
using IpcPs.Core.Managers;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Connects to a running manager, on this machine or another (CPython: BaseManager(address, authkey).connect()).
    /// The connection is authenticated at once: a wrong key is an error here, not at the first call.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "IpcManager", DefaultParameterSetName = AddressSet)]
    [OutputType(typeof(IpcManager), typeof(object))]
    public sealed class ConnectIpcManagerCommand : IpcCmdlet
    {
        private const string AddressSet = "Address", NameSet = "Name";

        /// <summary>host:port (TCP) or unix:/path/to/socket, as the manager's Address shows; or redis://[user:password@]host:port[/db] (rediss:// for TLS): a manager whose stores live in Redis. Without a ':' it is a name, as -Name.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = AddressSet)]
        public string Address { get; set; } = null!;

        /// <summary>The name given to Start-IpcManager -Name (a manager of this user on this machine).</summary>
        [Parameter(Mandatory = true, ParameterSetName = NameSet)]
        public string Name { get; set; } = null!;

        /// <summary>The manager's auth key (a string, taken as UTF-8, or bytes; at least 16 bytes for a TCP address). Optional for a manager of this user on this machine started by name.</summary>
        [Parameter(ParameterSetName = AddressSet)]
        [Parameter(ParameterSetName = NameSet)]
        public object? AuthKey { get; set; }

        protected override void EndProcessing()
        {
            try
            {
                // Every address has a ':' (host:port, unix:…, redis://…) and no name has one: Connect-IpcManager NAME.
                bool byName = ParameterSetName == NameSet || !Address.Contains(":");
                string? name = ParameterSetName == NameSet ? Name : byName ? Address.Trim() : null;
                if (!byName && IpcBackends.IsBackendUri(Address.Trim()))
                {
                    // A Redis server: its password is in the URI (or remembered from Connect-IpcBackend), not an auth key.
                    if (AuthKey != null) throw new ArgumentException("-AuthKey is for an IpcPs manager; a redis:// address takes its password in the URI (redis://user:password@host:port) or from Connect-IpcBackend -Credential.");
                    WriteObject(BackendArgument.From(Address.Trim())!.Manager());
                    return;
                }
                if (!byName && AuthKey is null)
                    throw new ArgumentException("-AuthKey is needed to connect to a manager by address (the key it was started with).");
                string? dir = null;
                string address = Address;
                if (name != null)
                {
                    dir = ManagerState.Find(name) ?? throw new IpcObjectNotFoundException(name);
                    address = ManagerState.LocalOverLoopback
                        ? ManagerState.LocalAddressOf(dir) ?? throw new IpcObjectNotFoundException(name)   // Windows: the address file
                        : ManagerAddress.UnixPrefix + System.IO.Path.Combine(dir, ManagerState.SocketFile);
                }
                byte[]? key = null;
                if (AuthKey != null)
                {
                    key = ManagerKeys.From(AuthKey);
                    ManagerKeys.CheckForAddress(key, address);
                }
                // Authenticate now (with -AuthKey, that key only); then this process remembers the key for the address.
                // Ctrl+C ends the connect and the handshake at once.
                ManagerClient.Open(address, dir, key, StopToken).Dispose();
                if (key != null) ManagerClient.RememberKey(address, key);
                ManagerClient.Forget(address);
                WriteObject(new IpcManager(address, dir, null));
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is System.Net.Sockets.SocketException)
            {
                ThrowIpcError(e, Address is null ? Name : BackendArgument.Redact(Address));
            }
        }
    }
}
