using System;
using System.Collections;
using System.Globalization;
using System.Linq;

namespace IpcPs
{
    /// <summary>Python's repr of plain values, so a managed dict or list prints as CPython prints its own.</summary>
    internal static class PyRepr
    {
        public static string Of(object? v)
        {
            switch (v)
            {
                case null: return "None";
                case bool b: return b ? "True" : "False";
                case string s: return "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
                case char c: return Of(c.ToString());
                case double d: return d.ToString("R", CultureInfo.InvariantCulture);
                case float f: return f.ToString("R", CultureInfo.InvariantCulture);
                case IFormattable n when !(v is DateTime): return n.ToString(null, CultureInfo.InvariantCulture);
                case IManagedProxy p: return p.ToString() ?? "";
                case IDictionary d: return "{" + string.Join(", ", d.Cast<DictionaryEntry>().Select(e => Of(e.Key) + ": " + Of(e.Value))) + "}";
                case IEnumerable e: return "[" + string.Join(", ", e.Cast<object?>().Select(Of)) + "]";
                default: return Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
            }
        }
    }
}
