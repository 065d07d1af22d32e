using System;
using System.Globalization;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// How a manager proxy crosses a process boundary (Start-IpcProcess, a value stored in a managed dict or list):
    /// its reference (manager address, object id, type id, manager directory) as note properties under the proxy's
    /// type name. It arrives as "Deserialized.IpcPs.ManagedDict" etc. and becomes a proxy again, unconnected until used.
    /// </summary>
    internal static class ManagerProxyDescriptor
    {
        private const string Prefix = "Deserialized.IpcPs.";

        public static PSObject Of(IManagedProxy proxy)
        {
            var r = proxy.Reference;
            var d = new PSObject();
            d.TypeNames.Clear();
            d.TypeNames.Add(proxy.GetType().FullName!);
            d.Properties.Add(new PSNoteProperty("ManagerAddress", r.Address));
            d.Properties.Add(new PSNoteProperty("ManagerObjectId", r.Id));
            d.Properties.Add(new PSNoteProperty("ManagerTypeId", r.TypeId));
            d.Properties.Add(new PSNoteProperty("ManagerStateDir", r.StateDir));
            return d;
        }

        /// <summary>
        /// True for a well-formed descriptor: an address (at most 4 KiB), an integral object id, a type id and, if any, a
        /// folder path, each of the expected type. Anything else stays the plain object it is (it arrived from another
        /// process: adversary's bytes). A descriptor is only a reference: which key, if any, may be used for its
        /// address is decided when it connects (ManagerClient.Open), never taken from the descriptor.
        /// </summary>
        public static bool Is(PSObject pso) =>
            pso.TypeNames.Count > 0 && pso.TypeNames[0].StartsWith(Prefix, StringComparison.Ordinal)
            && Value(pso, "ManagerAddress") is string address && address.Length > 0 && address.Length <= MaxText
            && Value(pso, "ManagerTypeId") is string typeId && typeId.Length > 0 && typeId.Length <= 256
            && ObjectId(Value(pso, "ManagerObjectId")) != null
            && (Value(pso, "ManagerStateDir") is null || Value(pso, "ManagerStateDir") is string dir && dir.Length <= MaxText);

        public static object Open(PSObject pso) => IpcManager.FromReference(new ManagerReference(
            (string)Value(pso, "ManagerAddress")!,
            ObjectId(Value(pso, "ManagerObjectId")) ?? 0L,
            (string)Value(pso, "ManagerTypeId")!,
            Value(pso, "ManagerStateDir") as string));

        private const int MaxText = 4096;

        private static object? Value(PSObject pso, string name)
        {
            var v = pso.Properties[name]?.Value;
            return v is PSObject p ? p.BaseObject : v;
        }

        private static long? ObjectId(object? v) => v switch
        {
            null => 0L,
            long l => l,
            int i => i,
            short s => s,
            byte b => b,
            uint u => u,
            ushort us => us,
            sbyte sb => sb,
            _ => null,
        };
    }
}
