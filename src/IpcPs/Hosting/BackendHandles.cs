using System;
using System.Linq;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// How a backend's handle (a Redis queue, lock…) crosses a process boundary: its descriptor — Name, Kind and the
    /// backend's Address without a password — under the type name IpcPs.IIpcBackendObject (Start-IpcProcess, the pool),
    /// or under its own type name when PowerShell's serializer writes it (Start-Job, remoting: types.ps1xml names those
    /// three properties). The receiving process re-attaches through its own connection to that address, with the
    /// password it remembers for it: the parent's, sent over the child's private channel beside the manager keys
    /// (ManagerKeys.ForChild). A descriptor is untrusted: an address that is not a backend's, or carries a password, a
    /// name or a kind out of range, is refused by IpcBackends.Attach (RedisBackend.Attach) or here.
    /// </summary>
    internal static class BackendHandles
    {
        public const string DescriptorType = "IpcPs.IIpcBackendObject";
        private const string Deserialized = "Deserialized.";
        private const string RedisTypes = "Deserialized.IpcPs.Redis.";
        private const int MaxText = 4096;

        public static PSObject Describe(IIpcBackendObject handle)
        {
            var d = handle.Descriptor;
            var pso = new PSObject();
            pso.TypeNames.Clear();
            pso.TypeNames.Add(DescriptorType);
            pso.Properties.Add(new PSNoteProperty("Name", d.Name));
            pso.Properties.Add(new PSNoteProperty("Kind", d.Kind.ToString()));
            pso.Properties.Add(new PSNoteProperty("Address", d.Address));
            return pso;
        }

        public const string StoreDescriptorType = "IpcPs.IIpcBackendStore";

        /// <summary>A manager store's descriptor: Name, StoreKind, Address (no password), as a handle's.</summary>
        public static PSObject DescribeStore(IIpcBackendStore store)
        {
            var pso = new PSObject();
            pso.TypeNames.Clear();
            pso.TypeNames.Add(StoreDescriptorType);
            pso.Properties.Add(new PSNoteProperty("Name", store.Name));
            pso.Properties.Add(new PSNoteProperty("StoreKind", store.StoreKind));
            pso.Properties.Add(new PSNoteProperty("Address", store.Address));
            return pso;
        }

        /// <summary>True for what DescribeStore made, once deserialized (a known store kind, a backend address).</summary>
        public static bool IsStoreDescriptor(PSObject pso) =>
            pso.TypeNames.Count > 0 && pso.TypeNames[0] == Deserialized + StoreDescriptorType
            && Text(pso, "Name") != null && Text(pso, "StoreKind") is string kind && IpcBackends.StoreKinds.Contains(kind)
            && Text(pso, "Address") is string a && IpcBackends.IsBackendUri(a);

        /// <summary>The live store a store descriptor names (password and trust as <see cref="Attach"/>).</summary>
        public static IIpcBackendStore AttachStore(PSObject pso)
        {
            string name = Text(pso, "Name")!, kind = Text(pso, "StoreKind")!, address = Text(pso, "Address")!;
            if (!IpcBackendCredentials.TryGet(address, out _)) AdoptFromEnvironment(address);
            return IpcBackends.AttachStore(address, kind, name);
        }

        /// <summary>True for what Describe made, once deserialized, or a Redis handle PowerShell's serializer wrote.</summary>
        public static bool IsDescriptor(PSObject pso)
        {
            if (pso.TypeNames.Count == 0) return false;
            string type = pso.TypeNames[0];
            if (!(type == Deserialized + DescriptorType || type.StartsWith(RedisTypes, StringComparison.Ordinal))) return false;
            return Text(pso, "Name") != null && Text(pso, "Kind") != null && Text(pso, "Address") is string a && IpcBackends.IsBackendUri(a);
        }

        /// <summary>
        /// The live handle a descriptor names. With no password remembered for its address, a password the user put in
        /// $env:IPCPS_BACKEND for that same address is used (a Start-Job child inherits the user's environment; IpcPs
        /// itself never puts a password there).
        /// </summary>
        public static IIpcBackendObject Attach(PSObject pso)
        {
            string name = Text(pso, "Name")!, kindText = Text(pso, "Kind")!, address = Text(pso, "Address")!;
            if (!Enum.TryParse(kindText, out IpcObjectKind kind) || !Enum.IsDefined(typeof(IpcObjectKind), kind) || !IsLetters(kindText))
                throw new IpcObjectKindException(name, $"'{name}' was sent as a '{kindText}', a kind this IpcPs does not know.");
            if (!IpcBackendCredentials.TryGet(address, out _)) AdoptFromEnvironment(address);
            return IpcBackends.Attach(new IpcBackendDescriptor(address, kind, name));
        }

        private static void AdoptFromEnvironment(string address)
        {
            string? env = Environment.GetEnvironmentVariable(BackendArgument.EnvironmentVariable)?.Trim();
            if (string.IsNullOrEmpty(env) || !IpcBackends.IsBackendUri(env)) return;
            try
            {
                var b = IpcBackends.Connect(env!, BackendArgument.ConnectTimeout);   // remembers the password for its address
                if (b.Address != address) return;
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is UriFormatException) { /* Attach reports what fails */ }
        }

        private static string? Text(PSObject pso, string property)
        {
            var v = pso.Properties[property]?.Value;
            if (v is PSObject p) v = p.BaseObject;
            return v is string s && s.Length > 0 && s.Length <= MaxText ? s : v is Enum e ? e.ToString() : null;
        }

        private static bool IsLetters(string s)
        {
            foreach (char c in s) if (!char.IsLetter(c)) return false;
            return true;
        }
    }
}
