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

        public string Serialize(object value, int depth) => PSSerializer.Serialize(IpcObjectConverter.Dehydrate(value), depth);

        public object? Deserialize(string text) => IpcObjectConverter.Rehydrate(PSSerializer.Deserialize(text));
    }
}
