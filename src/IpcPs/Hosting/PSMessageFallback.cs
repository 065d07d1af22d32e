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
            typeNames = pso.TypeNames.ToArray();
            var list = new List<KeyValuePair<string, object?>>();
            foreach (var p in pso.Properties)
            {
                // What the serializer would write: note properties, and the values of script/alias/code properties.
                object? v;
                try { v = p.Value; }
                catch (GetValueException) { continue; }
                list.Add(new KeyValuePair<string, object?>(p.Name, v));
            }
            properties = list.ToArray();
            return true;
        }

        public object CreatePropertyBag(string[] typeNames, KeyValuePair<string, object?>[] properties)
        {
            var pso = new PSObject();
            pso.TypeNames.Clear();
            foreach (var t in typeNames)
                pso.TypeNames.Add(t.StartsWith(Deserialized, StringComparison.Ordinal) ? t : Deserialized + t);
            foreach (var p in properties) pso.Properties.Add(new PSNoteProperty(p.Key, p.Value));
            return pso;
        }

        private const string Deserialized = "Deserialized.";

        public string Serialize(object value, int depth) => PSSerializer.Serialize(IpcObjectConverter.Dehydrate(value), depth);

        public object? Deserialize(string text) => IpcObjectConverter.Rehydrate(PSSerializer.Deserialize(text));
    }
}
