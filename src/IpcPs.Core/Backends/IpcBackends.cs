using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;

namespace IpcPs
{
    /// <summary>
    /// Finds the backend for a URI scheme, loading its assembly on first use: IpcPs.Redis.dll from the folder "redis" beside
    /// IpcPs.Core.dll (the module folder), or beside it. IpcPs.Redis loads StackExchange.Redis and its dependencies into an
    /// isolated AssemblyLoadContext of its own, so importing the module loads none of them, and their versions never meet
    /// PowerShell's own copies of the same assemblies.
    /// </summary>
    public static class IpcBackends
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, IIpcBackendProvider> Providers = new Dictionary<string, IIpcBackendProvider>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The assembly that serves redis:// and rediss://, and the type in it that loads it.</summary>
        public const string RedisAssemblyFile = "IpcPs.Redis.dll";
        private const string RedisLoaderType = "IpcPs.Redis.RedisBackendLoader";

        /// <summary>True when URI names a remote backend (a scheme with "://" that a backend serves).</summary>
        public static bool IsBackendUri(string? uri) =>
            uri != null && (uri.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase));

        /// <summary>Connects to URI (redis://[user:password@]host:port[/db], rediss:// for TLS) within CONNECTTIMEOUT.</summary>
        public static IIpcBackend Connect(string uri, TimeSpan connectTimeout) => ProviderFor(uri).Connect(uri, connectTimeout);

        /// <summary>Re-attaches the object a descriptor names (credentials: <see cref="IpcBackendCredentials"/>).</summary>
        public static IIpcBackendObject Attach(IpcBackendDescriptor descriptor) => ProviderFor(descriptor.Address).Attach(descriptor);

        /// <summary>The kinds of manager store a descriptor may name (<see cref="IIpcBackendStore.StoreKind"/>).</summary>
        public static readonly IReadOnlyList<string> StoreKinds = new[] { "Dict", "List", "Namespace" };

        /// <summary>Re-attaches the manager store STOREKIND NAME at ADDRESS (credentials and trust: <see cref="IpcBackendCredentials"/>).</summary>
        public static IIpcBackendStore AttachStore(string address, string storeKind, string name) => ProviderFor(address).AttachStore(address, storeKind, name);

        /// <summary>Makes PROVIDER serve its schemes (the loader registers the Redis provider; tests may register one directly).</summary>
        public static void Register(IIpcBackendProvider provider)
        {
            lock (Gate) foreach (var s in provider.Schemes) Providers[s] = provider;
        }

        /// <summary>True once a backend assembly has been loaded or registered in this process.</summary>
        public static bool AnyLoaded { get { lock (Gate) return Providers.Count > 0; } }

        private static IIpcBackendProvider ProviderFor(string uri)
        {
            int colon = uri.IndexOf("://", StringComparison.Ordinal);
            if (colon <= 0) throw new ArgumentException($"'{uri}' is not a backend address: expected redis://[user:password@]host:port[/db] or rediss://….", nameof(uri));
            string scheme = uri.Substring(0, colon);
            lock (Gate)
            {
                if (Providers.TryGetValue(scheme, out var p)) return p;
                if (!scheme.Equals("redis", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"No backend serves the scheme '{scheme}': IpcPs knows redis:// and rediss://.", nameof(uri));
                var provider = LoadRedis();
                foreach (var s in provider.Schemes) Providers[s] = provider;
                return provider;
            }
        }

        private static IIpcBackendProvider LoadRedis()
        {
            string here = Path.GetDirectoryName(typeof(IpcBackends).Assembly.Location) ?? ".";
            string path = Path.Combine(here, "redis", RedisAssemblyFile);
            if (!File.Exists(path)) path = Path.Combine(here, RedisAssemblyFile);
            if (!File.Exists(path))
                throw new FileNotFoundException($"The Redis backend ({RedisAssemblyFile}) is not installed beside IpcPs: looked in {Path.Combine(here, "redis")} and {here}.", path);
            var loader = Assembly.LoadFrom(path).GetType(RedisLoaderType, throwOnError: true)!;
            var load = loader.GetMethod("Load", BindingFlags.Public | BindingFlags.Static, null, Type.EmptyTypes, null)
                       ?? throw new MissingMethodException(RedisLoaderType, "Load");
            try { return (IIpcBackendProvider)load.Invoke(null, null)!; }
            catch (TargetInvocationException e) when (e.InnerException != null) { throw e.InnerException; }
        }
    }

    /// <summary>
    /// The backend credentials this process remembers, by address without password (redis://user@host:port/db → password):
    /// given with Connect-IpcBackend, or inherited from the parent over its private channel (stdin or the pool's pipe), as
    /// manager keys travel (never on a command line). A descriptor carries none.
    ///
    /// And the addresses this process trusts: a handle descriptor (untrusted input: it may come in a message) re-attaches
    /// only to one of them, so a descriptor alone never makes a process connect anywhere. Trusted are the addresses this
    /// process connected to, those with a remembered password, those its parent passed (with or without a password), and
    /// those in the environment variable IPCPS_TRUSTED_BACKENDS (';'-separated, no passwords), which IpcPs keeps up to date
    /// in its own environment so that any child it or the user starts later (Start-Job too) inherits the trust. Only the
    /// user's own processes can set it; a message cannot.
    /// </summary>
    public static class IpcBackendCredentials
    {
        /// <summary>The inherited list of trusted addresses (no passwords): set by IpcPs, read by its children.</summary>
        public const string TrustedVariable = "IPCPS_TRUSTED_BACKENDS";
        private const int MaxAddress = 4096, MaxTrusted = 64;

        private static readonly Dictionary<string, string> Secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        private static readonly HashSet<string> Trusted = new HashSet<string>(StringComparer.Ordinal);

        public static void Remember(string address, string password)
        {
            if (string.IsNullOrEmpty(address)) throw new ArgumentException("An address is needed.", nameof(address));
            lock (Secrets) Secrets[address] = password ?? throw new ArgumentNullException(nameof(password));
            Trust(address);
        }

        public static bool TryGet(string address, out string password)
        {
            lock (Secrets) return Secrets.TryGetValue(address, out password!);
        }

        /// <summary>Marks ADDRESS (without password) trusted, here and in the environment children inherit.</summary>
        public static void Trust(string address)
        {
            if (!IpcBackends.IsBackendUri(address) || address.Length > MaxAddress || address.IndexOf(';') >= 0) return;
            lock (Secrets)
            {
                if (Trusted.Count >= MaxTrusted || !Trusted.Add(address)) return;
                var inherited = Environment.GetEnvironmentVariable(TrustedVariable);
                var list = new List<string>(string.IsNullOrEmpty(inherited) ? Array.Empty<string>() : inherited!.Split(';'));
                if (list.Contains(address) || list.Count >= MaxTrusted) return;
                list.Add(address);
                Environment.SetEnvironmentVariable(TrustedVariable, string.Join(";", list));
            }
        }

        /// <summary>True when a descriptor naming ADDRESS may re-attach (see the class comment).</summary>
        public static bool IsTrusted(string address)
        {
            lock (Secrets) if (Trusted.Contains(address) || Secrets.ContainsKey(address)) return true;
            var inherited = Environment.GetEnvironmentVariable(TrustedVariable);
            if (string.IsNullOrEmpty(inherited) || inherited!.Length > MaxTrusted * (MaxAddress + 1)) return false;
            return Array.IndexOf(inherited.Split(';'), address) >= 0;
        }

        /// <summary>
        /// Every remembered pair, for a child to adopt (<see cref="Adopt"/>); a trusted address without a password comes
        /// with an empty one, which the child takes as trust alone.
        /// </summary>
        public static KeyValuePair<string, string>[] ForChild()
        {
            lock (Secrets)
            {
                var pairs = new List<KeyValuePair<string, string>>(Secrets);
                foreach (var a in Trusted) if (!Secrets.ContainsKey(a)) pairs.Add(new KeyValuePair<string, string>(a, ""));
                return pairs.ToArray();
            }
        }

        /// <summary>Remembers what a parent sent; entries that are not an address and a text are ignored.</summary>
        public static void Adopt(IEnumerable<KeyValuePair<string, string>> pairs)
        {
            foreach (var p in pairs)
            {
                if (!(IpcBackends.IsBackendUri(p.Key) && p.Key.Length <= MaxAddress && p.Value != null && p.Value.Length <= 4096)) continue;
                if (p.Value.Length == 0) Trust(p.Key);
                else Remember(p.Key, p.Value);
            }
        }
    }
}
