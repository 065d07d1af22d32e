using System.Collections.Generic;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// What the codec cannot encode itself goes here: the hosting layer plugs in PowerShell's serializer (CLIXML), so
    /// Core needs no System.Management.Automation. Without one (Core alone, e.g. the C# benchmark) such values are refused.
    /// </summary>
    public interface IMessageFallback
    {
        /// <summary>The value underneath a wrapper (a PSObject around an int), or VALUE itself when it is no wrapper.</summary>
        object? Unwrap(object value);

        /// <summary>
        /// A [pscustomobject]'s type names and properties, for the binary path (values are encoded like any other);
        /// false for anything else.
        /// </summary>
        bool TryGetPropertyBag(object value, out string[] typeNames, out KeyValuePair<string, object?>[] properties);

        /// <summary>The object a property bag arrives as: what remoting would deliver for it (Deserialized.* type names).</summary>
        object CreatePropertyBag(string[] typeNames, KeyValuePair<string, object?>[] properties);

        /// <summary>VALUE as text, DEPTH levels of properties deep.</summary>
        string Serialize(object value, int depth);

        /// <summary>The object TEXT describes.</summary>
        object? Deserialize(string text);
    }
}
