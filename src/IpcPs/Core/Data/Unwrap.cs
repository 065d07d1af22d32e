using System;
using System.Reflection;

namespace IpcPs.Core
{
    /// <summary>
    /// A value as a host gave it, without a wrapper: PowerShell may hand over a PSObject around the real value. Core
    /// does not reference PowerShell, so the wrapper is recognised by name (only on the slow path of a conversion).
    /// </summary>
    internal static class Unwrap
    {
        private static PropertyInfo? _baseObject;

        public static object? Value(object? value)
        {
            for (int depth = 0; depth < 4 && value != null && value.GetType().FullName == "System.Management.Automation.PSObject"; depth++)
            {
                var p = _baseObject ??= value.GetType().GetProperty("BaseObject", BindingFlags.Public | BindingFlags.Instance);
                var inner = p?.GetValue(value);
                if (inner is null || ReferenceEquals(inner, value)) break;
                value = inner;
            }
            return value;
        }

        public static bool IsWrapped(object? value) => value != null && value.GetType().FullName == "System.Management.Automation.PSObject";
    }
}
