using System;
using System.Management.Automation;
using System.Net;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Connects to a remote backend (Redis) and outputs it: the object whose methods create and open the same queues,
    /// locks, semaphores, events, barriers and values on it, and whose Manager() serves dicts, lists and namespaces. Loads
    /// the backend's assembly on first use (never at import). The password comes in the URI or -Credential; either way it
    /// is remembered in this process for the address (without it), so handles re-attach and child processes inherit it.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "IpcBackend")]
    [OutputType(typeof(IIpcBackend))]
    public sealed class ConnectIpcBackendCommand : IpcCmdlet
    {
        /// <summary>redis://[user:password@]host[:port][/db], or rediss://… for TLS.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public string Uri { get; set; } = null!;

        /// <summary>The user (optional) and password, instead of putting them in the URI.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>How long connecting may take before it fails (seconds or a TimeSpan; default 5 s).</summary>
        [Parameter, IpcTimeoutTransformation]
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

        protected override void ProcessRecord()
        {
            try
            {
                string uri = Uri;
                if (Credential != null)
                {
                    var c = Credential.GetNetworkCredential();
                    var b = new UriBuilder(uri) { UserName = System.Uri.EscapeDataString(c.UserName ?? ""), Password = System.Uri.EscapeDataString(c.Password ?? "") };
                    uri = b.Uri.AbsoluteUri;
                }
                var timeout = ConnectTimeout < TimeSpan.Zero ? TimeSpan.FromSeconds(5) : ConnectTimeout;
                WriteObject(IpcBackends.Connect(uri, timeout));
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is UriFormatException || e is System.IO.FileNotFoundException)
            {
                ThrowIpcError(e, Redact(Uri));
            }
        }

        /// <summary>The URI without its password, for error records.</summary>
        private static string Redact(string uri)
        {
            int at = uri.IndexOf('@'), scheme = uri.IndexOf("://", StringComparison.Ordinal);
            return at > 0 && scheme > 0 && at > scheme ? uri.Substring(0, scheme + 3) + "…@" + uri.Substring(at + 1) : uri;
        }
    }
}
