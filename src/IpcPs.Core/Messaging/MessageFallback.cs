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

        /// <summary>
        /// A new property bag with these type names and no properties yet: what remoting would deliver for it
        /// (Deserialized.* type names). The decoder numbers it before it reads the properties, so a property can
        /// refer back to the bag itself (a child's Parent). TYPENAMES may be shared with other bags (never change it);
        /// PROPERTIES is how many the message claims (checked against its size, not yet read: a hint, not a promise).
        /// </summary>
        object CreatePropertyBag(string[] typeNames, int properties);

        /// <summary>
        /// Adds NAMES[i] = VALUES[i] (i below COUNT) as the properties of a bag from <see cref="CreatePropertyBag"/>, in
        /// order; throws for names the bag cannot take (twice, reserved). Values may refer to the bag itself.
        /// </summary>
        void AddProperties(object bag, string[] names, object?[] values, int count);

        /// <summary>VALUE as text, DEPTH levels of properties deep.</summary>
        string Serialize(object value, int depth);

        /// <summary>
        /// Checks TEXT before anything deserializes it and returns how many bytes <see cref="Deserialize"/> may
        /// allocate for it; throws <see cref="MessageFormatException"/> for text that nests too deep for the
        /// deserializer or is not what <see cref="Serialize"/> writes. The encoder calls it too, on what it is about
        /// to send, so a sender learns at once what its receiver would refuse.
        /// </summary>
        long Check(string text);

        /// <summary>
        /// The object TEXT describes; only for text that passed <see cref="Check"/>. Handles in it arrive attached; if
        /// it throws, it has closed those it had attached.
        /// </summary>
        object? Deserialize(string text);

        /// <summary>
        /// The decode of a message failed after it had made VALUES (the message's containers and what
        /// <see cref="Deserialize"/> returned, in no order, a value possibly inside another): closes every handle among
        /// them, which nobody else could close (the message is lost with the error). A value may be met twice.
        /// </summary>
        void Abandon(IReadOnlyList<object?> values);
    }
}
