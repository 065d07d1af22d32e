using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
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
            sourceValue is PSObject pso && (IsDescriptor(pso) && typeof(IpcObject).IsAssignableFrom(destinationType)
                || ManagerProxyDescriptor.Is(pso) && typeof(IManagedProxy).IsAssignableFrom(destinationType));

        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            if (sourceValue is PSObject proxy && TryOpenProxy(proxy, out var p)) return p!;
            if (sourceValue is PSObject pso && TryOpen(pso, out var obj)) return obj!;
            throw new PSInvalidCastException($"Cannot turn '{sourceValue}' into an IpcPs object: it is not an IpcPs handle descriptor.");
        }

        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new PSInvalidCastException();

        /// <summary>Replaces every handle descriptor in VALUE (arrays, lists, hashtables, property bags) with the live object.</summary>
        public static object? Rehydrate(object? value)
        {
            switch (value)
            {
                case IManagedProxy _: return value;
                case PSObject pso when TryOpenProxy(pso, out var proxy): return proxy;
                case PSObject pso when TryOpen(pso, out var obj): return obj;
                case PSObject pso when pso.BaseObject is IDictionary || pso.BaseObject is IList: Rehydrate(pso.BaseObject); return pso;
                case PSObject pso when pso.BaseObject is PSCustomObject:
                    foreach (var p in pso.Properties.OfType<PSNoteProperty>().ToList()) p.Value = Rehydrate(p.Value);
                    return pso;
                case IDictionary dict:
                    foreach (var key in dict.Keys.Cast<object>().ToList()) dict[key] = Rehydrate(dict[key]);
                    return dict;
                case IList list when !list.IsFixedSize || list is object[]:
                    for (int i = 0; i < list.Count; i++) list[i] = Rehydrate(list[i]);
                    return list;
                default: return value;
            }
        }

        /// <summary>
        /// A copy of VALUE with every live handle replaced by its descriptor (Name, Kind under the type name the
        /// serializer would give the handle), so the trip does not depend on this session's type table.
        /// </summary>
        public static object? Dehydrate(object? value)
        {
            switch (value)
            {
                case IpcObject o:
                    var d = new PSObject();
                    d.TypeNames.Clear();
                    d.TypeNames.Add(o.GetType().FullName!);
                    d.Properties.Add(new PSNoteProperty("Name", o.Name));
                    d.Properties.Add(new PSNoteProperty("Kind", o.Kind.ToString()));
                    if (o is IpcConnection c) d.Properties.Add(new PSNoteProperty("End", c.End));
                    return d;
                case PSObject pso when pso.BaseObject is IpcObject o: return Dehydrate(o);
                case IManagedProxy p: return ManagerProxyDescriptor.Of(p);
                case PSObject pso when pso.BaseObject is IManagedProxy p: return ManagerProxyDescriptor.Of(p);
                case PSObject pso when pso.BaseObject is IDictionary || (pso.BaseObject is IList && !(pso.BaseObject is string)):
                    return Dehydrate(pso.BaseObject);
                case IDictionary dict:
                    var copy = new Hashtable();
                    foreach (DictionaryEntry e in dict) copy[e.Key] = Dehydrate(e.Value);
                    return copy;
                case byte[] bytes: return bytes;
                case IList list:
                    var items = new object?[list.Count];
                    for (int i = 0; i < items.Length; i++) items[i] = Dehydrate(list[i]);
                    return items;
                default: return value;
            }
        }

        /// <summary>Every live handle inside VALUE, found the way <see cref="Rehydrate"/> walks.</summary>
        public static IEnumerable<IpcObject> FindHandles(object? value)
        {
            switch (value)
            {
                case IpcObject o: yield return o; break;
                case IManagedProxy _: break;   // a manager's object: nothing to hold; it reconnects where it lands
                case PSObject pso when pso.BaseObject is IManagedProxy: break;
                case PSObject pso:
                    foreach (var o in FindHandles(pso.BaseObject is PSCustomObject ? null : pso.BaseObject)) yield return o;
                    if (pso.BaseObject is PSCustomObject)
                        foreach (var p in pso.Properties.OfType<PSNoteProperty>())
                            foreach (var o in FindHandles(p.Value)) yield return o;
                    break;
                case IDictionary dict:
                    foreach (DictionaryEntry e in dict)
                        foreach (var o in FindHandles(e.Value)) yield return o;
                    break;
                case string _: break;
                case IEnumerable seq:
                    foreach (var item in seq)
                        foreach (var o in FindHandles(item)) yield return o;
                    break;
            }
        }

        private static bool TryOpenProxy(PSObject pso, out object? proxy)
        {
            proxy = ManagerProxyDescriptor.Is(pso) ? ManagerProxyDescriptor.Open(pso) : null;
            return proxy != null;
        }

        private static bool IsDescriptor(PSObject pso) =>
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
