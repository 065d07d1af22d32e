using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>
    /// What the message codec cannot encode itself travels as CLIXML, through PowerShell's own serializer, so objects
    /// arrive as remoting delivers them (Deserialized.* type names, properties to the depth asked for). IPC handles
    /// inside such objects arrive re-attached.
    /// </summary>
    internal sealed class PSMessageFallback : IMessageFallback
    {
        /// <summary>
        /// A PSObject around a plain value (an int from the pipeline, a string from Get-Content) sends the value; a
        /// [pscustomobject], or a PSObject around any other type, is serialized whole, with its extra properties.
        /// </summary>
        public object? Unwrap(object value) =>
            value is PSObject pso && !(pso.BaseObject is PSCustomObject) ? pso.BaseObject : value;

        public bool TryGetPropertyBag(object value, out string[] typeNames, out KeyValuePair<string, object?>[] properties)
        {
            typeNames = Array.Empty<string>();
            properties = Array.Empty<KeyValuePair<string, object?>>();
            if (!(value is PSObject pso) || !(pso.BaseObject is PSCustomObject)) return false;
            if (CustomObjects.TryRead(pso, out typeNames, out properties)) return true;   // a plain custom object, fast
            typeNames = pso.TypeNames.ToArray();
            properties = ReadableProperties(pso).ToArray();
            return true;
        }

        /// <summary>
        /// What the serializer writes of a custom object: its note properties, and the values of its script, alias and
        /// code properties (one whose getter fails is left out).
        /// </summary>
        internal static List<KeyValuePair<string, object?>> ReadableProperties(PSObject pso)
        {
            var list = new List<KeyValuePair<string, object?>>();
            foreach (var p in pso.Properties)
            {
                object? v;
                try { v = p.Value; }
                catch (GetValueException) { continue; }
                list.Add(new KeyValuePair<string, object?>(p.Name, v));
            }
            return list;
        }

        public object CreatePropertyBag(string[] typeNames, int properties) => CustomObjects.CreateBag(typeNames, properties);

        public void AddProperties(object bag, string[] names, object?[] values, int count) =>
            CustomObjects.AddProperties((PSObject)bag, names, values, count);

        public string Serialize(object value, int depth) => PSSerializer.Serialize(IpcObjectConverter.Dehydrate(value), depth);

        public long Check(string text) => ClixmlGuard.Check(text);

        public object? Deserialize(string text)
        {
            object? value;
            // PowerShell's deserializer attaches handles itself (types.ps1xml) as it reads: if the text fails after one,
            // the log is all that reaches them.
            using (var attached = AttachLog.Open())
            {
                try { value = PSSerializer.Deserialize(text); }
                catch
                {
                    attached.CloseAll();
                    throw;
                }
            }
            try { return IpcObjectConverter.Rehydrate(value); }
            catch
            {
                // The walk replaces in place: the handles it attached before the one that failed are inside VALUE.
                IpcObjectConverter.CloseAll(new[] { value });
                throw;
            }
        }

        public void Abandon(IReadOnlyList<object?> values) => IpcObjectConverter.CloseAll(values);
    }
}
