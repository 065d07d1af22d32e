using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Turns a handle that crossed a process boundary back into a live, attached object. A handle is serialized as its
    /// descriptor, the properties Name and Kind (types.ps1xml: SerializationMethod SpecificProperties); the receiving
    /// side sees "Deserialized.IpcPs.KIND" and, through TargetTypeForDeserialization, lands here. Start-IpcProcess
    /// calls <see cref="Rehydrate"/> itself so it never depends on the receiving session's type table.
    /// </summary>
    public sealed class IpcObjectConverter : PSTypeConverter
    {
        private const string Prefix = "Deserialized.IpcPs.";

        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            sourceValue is PSObject pso && (BackendHandles.IsDescriptor(pso) && typeof(IIpcBackendObject).IsAssignableFrom(destinationType)
                || IsDescriptor(pso) && typeof(IpcObject).IsAssignableFrom(destinationType)
                || ManagerProxyDescriptor.Is(pso) && typeof(IManagedProxy).IsAssignableFrom(destinationType));

        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            // What is attached here is logged (AttachLog): PowerShell's deserializer calls this itself, and a CLIXML text
            // that fails after it leaves the handles attached so far in no value.
            if (sourceValue is PSObject remote && BackendHandles.IsDescriptor(remote)) return AttachLog.Note(BackendHandles.Attach(remote));
            if (sourceValue is PSObject proxy && TryOpenProxy(proxy, out var p)) return p!;
            if (sourceValue is PSObject pso && TryOpen(pso, out var obj)) return AttachLog.Note(obj!);
            throw new PSInvalidCastException($"Cannot turn '{sourceValue}' into an IpcPs object: it is not an IpcPs handle descriptor.");
        }

        // PowerShell gives the object overloads above the base object of a PSObject that is not a property bag; a
        // descriptor of an enumerable handle (an IpcArray, a ShareableList) arrives around the list of its items
        // (the serializer writes them too), so the descriptor is judged on the PSObject itself.
        public override bool CanConvertFrom(PSObject sourceValue, Type destinationType) => CanConvertFrom((object)sourceValue, destinationType);

        public override object ConvertFrom(PSObject sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            ConvertFrom((object)sourceValue, destinationType, formatProvider, ignoreCase);

        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new PSInvalidCastException();

        /// <summary>
        /// Replaces every handle descriptor in VALUE (arrays, lists, hashtables, property bags, however they nest or
        /// refer to each other) with the live object, in place; returns VALUE, or the live object when VALUE is a descriptor.
        /// </summary>
        public static object? Rehydrate(object? value) => new ObjectGraphWalker(ObjectGraphWalker.Mode.Replace, Attach).Walk(value);

        /// <summary>
        /// VALUE with every live handle replaced by its descriptor (Name, Kind under the type name the serializer
        /// would give the handle), so the trip does not depend on this session's type table. A value without handles
        /// is returned as it is; one with handles is copied (lists as object[], dictionaries as hashtables), keeping
        /// its cycles and shared references.
        /// </summary>
        public static object? Dehydrate(object? value)
        {
            bool live = false;
            new ObjectGraphWalker(ObjectGraphWalker.Mode.Find, leaf => { live |= IsLive(leaf); return leaf; }).Walk(value);
            return live ? new ObjectGraphWalker(ObjectGraphWalker.Mode.Copy, Describe).Walk(value) : value;
        }

        /// <summary>
        /// Closes every live handle inside VALUES (each once, however often it is met) — what a decode that failed had
        /// attached (see <see cref="PSMessageFallback.Abandon"/>); one that fails to close does not stop the others.
        /// </summary>
        internal static void CloseAll(IEnumerable<object?> values)
        {
            var found = new List<IDisposable>();
            var seen = new Core.Messaging.IdentityMap();
            var walker = new ObjectGraphWalker(ObjectGraphWalker.Mode.Find, leaf =>
            {
                if ((leaf is PSObject pso ? pso.BaseObject : leaf) is var inner && (inner is IpcObject || inner is IIpcBackendObject) && seen.FindOrAdd(inner) < 0)
                    found.Add((IDisposable)inner);
                return leaf;
            });
            foreach (var value in values) walker.Walk(value);
            foreach (var handle in found)
            {
                try { handle.Dispose(); }
                catch (Exception) { /* the decode's own error is what the caller reports */ }
            }
        }

        /// <summary>Every live handle inside VALUE, found the way <see cref="Rehydrate"/> walks.</summary>
        public static IEnumerable<IpcObject> FindHandles(object? value)
        {
            var found = new List<IpcObject>();
            new ObjectGraphWalker(ObjectGraphWalker.Mode.Find, leaf =>
            {
                if ((leaf is PSObject pso ? pso.BaseObject : leaf) is IpcObject o) found.Add(o);
                return leaf;
            }).Walk(value);
            return found;
        }

        private static object? Attach(object leaf) =>
            leaf is PSObject pso ? (BackendHandles.IsDescriptor(pso) ? OrInert(pso, BackendHandles.Attach) : BackendHandles.IsStoreDescriptor(pso) ? OrInert(pso, BackendHandles.AttachStore)
                : TryOpenProxy(pso, out var proxy) ? proxy : TryOpen(pso, out var obj) ? obj : leaf) : leaf;

        // A backend descriptor (a handle's or a manager store's) naming an address this process does not trust stays
        // what it is, an inert record of its properties (nothing is connected to, nothing lost): received handles
        // re-attach only to servers this process already uses (IpcBackendCredentials.IsTrusted).
        private static object OrInert<T>(PSObject pso, Func<PSObject, T> attach) where T : class
        {
            try { return attach(pso); }
            catch (IpcBackendNotTrustedException) { return pso; }
        }

        private static bool IsLive(object leaf) =>
            (leaf is PSObject pso ? pso.BaseObject : leaf) is var inner && (inner is IpcObject || inner is IManagedProxy || inner is IIpcBackendObject || inner is IIpcBackendStore);

        private static object Describe(object leaf)
        {
            switch (leaf is PSObject pso ? pso.BaseObject : leaf)
            {
                case IpcObject o:
                    var d = new PSObject();
                    d.TypeNames.Clear();
                    d.TypeNames.Add(o.GetType().FullName!);
                    d.Properties.Add(new PSNoteProperty("Name", o.Name));
                    d.Properties.Add(new PSNoteProperty("Kind", o.Kind.ToString()));
                    if (o is IpcConnection c) d.Properties.Add(new PSNoteProperty("End", c.End));
                    return d;
                case IManagedProxy p: return ManagerProxyDescriptor.Of(p);
                case IIpcBackendObject remote: return BackendHandles.Describe(remote);
                case IIpcBackendStore store: return BackendHandles.DescribeStore(store);
                default: return leaf;
            }
        }

        private static bool TryOpenProxy(PSObject pso, out object? proxy)
        {
            proxy = ManagerProxyDescriptor.Is(pso) ? ManagerProxyDescriptor.Open(pso) : null;
            return proxy != null;
        }

        internal static bool IsDescriptor(PSObject pso) =>
            pso.TypeNames.Count > 0 && pso.TypeNames[0].StartsWith(Prefix, StringComparison.Ordinal)
            && pso.Properties["Name"]?.Value is string && pso.Properties["Kind"]?.Value != null;

        private static bool TryOpen(PSObject pso, out IpcObject? obj)
        {
            obj = null;
            if (!IsDescriptor(pso)) return false;
            string name = (string)pso.Properties["Name"].Value;
            string kindText = pso.Properties["Kind"].Value.ToString();
            if (!Enum.TryParse(kindText, out IpcObjectKind kind))
                throw new IpcObjectKindException(name, $"'{name}' was sent as a '{kindText}', a kind this IpcPs does not know.");
            if (kind == IpcObjectKind.Pipe && pso.Properties["End"]?.Value is object end)
                obj = IpcConnection.Open(name, System.Convert.ToInt32(end, System.Globalization.CultureInfo.InvariantCulture));
            else obj = IpcObjects.Open(name, kind);
            return true;
        }
    }
}
