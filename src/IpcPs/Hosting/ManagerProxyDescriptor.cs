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

        public static bool Is(PSObject pso) =>
            pso.TypeNames.Count > 0 && pso.TypeNames[0].StartsWith(Prefix, StringComparison.Ordinal)
            && pso.Properties["ManagerAddress"]?.Value is string && pso.Properties["ManagerTypeId"]?.Value is string;

        public static object Open(PSObject pso) => IpcManager.FromReference(new ManagerReference(
            (string)pso.Properties["ManagerAddress"].Value,
            Convert.ToInt64(pso.Properties["ManagerObjectId"]?.Value ?? 0L, CultureInfo.InvariantCulture),
            (string)pso.Properties["ManagerTypeId"].Value,
            pso.Properties["ManagerStateDir"]?.Value as string));
    }
}
