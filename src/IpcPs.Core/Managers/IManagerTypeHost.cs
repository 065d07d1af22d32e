using System.Collections.Generic;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Registered custom types, supplied by the hosting layer (PowerShell classes and .NET types are constructed and
    /// called there). Only members a registration exposes may be called; a call names one, it never carries code.
    /// </summary>
    public interface IManagerTypeHost
    {
        /// <summary>The registered type ids (what $m.TypeId() creates).</summary>
        IReadOnlyCollection<string> TypeIds { get; }

        /// <summary>A new instance of the type registered as TYPEID.</summary>
        object Create(string typeId, object?[] args);

        /// <summary>Calls the exposed member METHOD of INSTANCE (registered as TYPEID); throws if it is not exposed.</summary>
        object? Invoke(object instance, string typeId, string method, object?[] args);
    }
}
