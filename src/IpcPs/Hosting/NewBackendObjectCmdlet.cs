using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A New-* cmdlet whose kind a backend also serves (Queue, Lock, Semaphore, Event, Barrier, Value): -Backend (else
    /// $env:IPCPS_BACKEND) makes the object there instead of on this machine. Parameters that only one side has are
    /// refused on the other, naming the parameter (a Redis lock cannot be -Recursive; a local queue has no -VisibilityTimeout).
    /// </summary>
    public abstract class NewBackendObjectCmdlet : NewIpcObjectCmdlet
    {
        private IIpcBackend? _backend;
        private bool _resolved;

        /// <summary>Where to make it: a URI (redis://[user:password@]host:port[/db], rediss://…), an object from Connect-IpcBackend, or 'local'; $env:IPCPS_BACKEND when omitted.</summary>
        [Parameter]
        public object? Backend { get; set; }

        /// <summary>The kind made in a backend.</summary>
        protected abstract IpcObjectKind BackendKind { get; }

        /// <summary>This cmdlet's parameters as a backend takes them.</summary>
        protected abstract IpcBackendOptions BackendOptions();

        /// <summary>Parameters only a local object has.</summary>
        protected virtual string[] LocalOnly => Array.Empty<string>();

        /// <summary>Parameters only a backend's object has.</summary>
        protected virtual string[] BackendOnly => Array.Empty<string>();

        private IIpcBackend? ResolvedBackend()
        {
            if (!_resolved)
            {
                _backend = BackendArgument.Resolve(this, out _);
                _resolved = true;
            }
            return _backend;
        }

        protected override object CreateObject()
        {
            var backend = ResolvedBackend();
            foreach (var p in backend is null ? BackendOnly : LocalOnly)
                if (MyInvocation.BoundParameters.ContainsKey(p))
                    throw new ArgumentException(backend is null
                        ? $"-{p} applies to an object in a backend (-Backend redis://…); this one is made on this machine."
                        : $"-{p} applies to an object on this machine; a {BackendKind} at {backend.Address} does not have it.");
            if (backend is null) return Create();
            try { return backend.Create(BackendKind, Name, BackendOptions()); }
            catch (NotSupportedException e) { throw new ArgumentException(e.Message); }
        }

        protected override string ExistingKind(string name)
        {
            var backend = ResolvedBackend();
            if (backend is null) return base.ExistingKind(name);
            try
            {
                using var there = backend.Open(name, null);
                return $" (a {there.Kind} at {backend.Address})";
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException) { return ""; }
        }
    }
}
