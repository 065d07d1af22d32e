using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace IpcPs.Redis
{
    /// <summary>
    /// Loads the Redis backend into an AssemblyLoadContext of its own. Core calls <see cref="Load"/> on the copy of this
    /// assembly it loaded with Assembly.LoadFrom (in the default context); that copy touches no StackExchange.Redis type:
    /// it loads this assembly again into a <see cref="RedisLoadContext"/> and makes the provider there. So
    /// StackExchange.Redis and its dependencies (Pipelines.Sockets.Unofficial, System.IO.Pipelines,
    /// Microsoft.Extensions.Logging.Abstractions, System.IO.Hashing) come from this folder whatever versions PowerShell
    /// itself has loaded, and IpcPs.Core and the framework are shared with the module (so the objects implement the very
    /// interfaces the cmdlets use).
    /// </summary>
    public static class RedisBackendLoader
    {
        private static IIpcBackendProvider? _provider;

        public static IIpcBackendProvider Load()
        {
            if (_provider != null) return _provider;
            string self = typeof(RedisBackendLoader).Assembly.Location;
            if (AssemblyLoadContext.GetLoadContext(typeof(RedisBackendLoader).Assembly) is RedisLoadContext)
                return _provider = new RedisBackendProvider();   // already isolated
            var context = new RedisLoadContext(Path.GetDirectoryName(self)!);
            var isolated = context.LoadFromAssemblyPath(self);
            var type = isolated.GetType(typeof(RedisBackendProvider).FullName!, throwOnError: true)!;
            return _provider = (IIpcBackendProvider)Activator.CreateInstance(type)!;
        }
    }

    /// <summary>
    /// The backend's own load context: an assembly whose file is in the backend's folder loads from there (this one,
    /// StackExchange.Redis and its dependencies); everything else — IpcPs.Core, the framework — from the default context.
    /// </summary>
    public sealed class RedisLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;

        public RedisLoadContext(string folder) : base("IpcPs.Redis", isCollectible: false) => _folder = folder;

        public string Folder => _folder;

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name is null || name.Name == "IpcPs.Core" || name.Name == "IpcPs") return null;
            string path = Path.Combine(_folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }

    /// <summary>The provider Core registers for redis:// and rediss://.</summary>
    public sealed class RedisBackendProvider : IIpcBackendProvider
    {
        public IReadOnlyList<string> Schemes { get; } = new[] { "redis", "rediss" };

        public IIpcBackend Connect(string uri, TimeSpan connectTimeout) => RedisBackend.Connect(uri, connectTimeout);

        public IIpcBackendObject Attach(IpcBackendDescriptor descriptor) => RedisBackend.Attach(descriptor);

        public IIpcBackendStore AttachStore(string address, string storeKind, string name) => RedisBackend.AttachStore(address, storeKind, name);
    }
}
