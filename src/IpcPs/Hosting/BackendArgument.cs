using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The -Backend parameter shared by the New-* cmdlets of the kinds a backend serves, Get-IpcObject, Remove-IpcObject
    /// and the action cmdlets' -Name: a URI (redis://[user:password@]host:port[/db], rediss://…), an IIpcBackend from
    /// Connect-IpcBackend, or 'local' (this machine, whatever $env:IPCPS_BACKEND says). Not given: $env:IPCPS_BACKEND
    /// when it is set and not empty, else local. Resolved once per cmdlet call (the connection is the process's shared
    /// one: RedisBackend.Connect returns it), never per message, so local objects pay nothing for it.
    /// </summary>
    internal static class BackendArgument
    {
        public const string ParameterName = "Backend";
        public const string EnvironmentVariable = "IPCPS_BACKEND";
        public const string Local = "local";

        /// <summary>How long a first connection may take (Connect-IpcBackend -ConnectTimeout for another value).</summary>
        public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

        /// <summary>
        /// The backend CMDLET's -Backend names (null: local); EXPLICIT tells whether it was given (not taken from the
        /// environment). A cmdlet without a -Backend parameter is always local.
        /// </summary>
        public static IIpcBackend? Resolve(PSCmdlet cmdlet, out bool isExplicit)
        {
            isExplicit = false;
            if (!cmdlet.MyInvocation.MyCommand.Parameters.ContainsKey(ParameterName)) return null;
            if (cmdlet.MyInvocation.BoundParameters.TryGetValue(ParameterName, out var given))
            {
                isExplicit = true;
                return From(given);
            }
            string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(env) ? null : From(env);
        }

        /// <summary>VALUE as a backend: an IIpcBackend, a URI (a first connection within CONNECTTIMEOUT, default 5 s), or 'local' / empty (null).</summary>
        public static IIpcBackend? From(object? value, TimeSpan? connectTimeout = null)
        {
            switch (value is PSObject p ? p.BaseObject : value)
            {
                case null: return null;
                case IIpcBackend b: return b;
                case string s when s.Length == 0 || s.Trim().Equals(Local, StringComparison.OrdinalIgnoreCase): return null;
                case string s when IpcBackends.IsBackendUri(s.Trim()):
                    try { return IpcBackends.Connect(s.Trim(), connectTimeout ?? ConnectTimeout); }
                    catch (System.IO.FileNotFoundException e) { throw new IpcBackendException(e.Message, null, e); }
                    catch (UriFormatException e) { throw new ArgumentException($"'{Redact(s)}' is not a backend address: {e.Message}"); }
                case string s:
                    throw new ArgumentException($"-Backend '{Redact(s)}' is not a backend: give redis://[user:password@]host:port[/db], rediss://…, an object from Connect-IpcBackend, or 'local'.");
                case var other:
                    throw new ArgumentException($"-Backend takes a URI (redis://…), an object from Connect-IpcBackend or 'local', not a {other.GetType().Name}.");
            }
        }

        /// <summary>A URI without its password, for messages.</summary>
        public static string Redact(string uri)
        {
            int at = uri.LastIndexOf('@'), scheme = uri.IndexOf("://", StringComparison.Ordinal);
            return at > 0 && scheme > 0 && at > scheme ? uri.Substring(0, scheme + 3) + "…@" + uri.Substring(at + 1) : uri;
        }
    }
}
