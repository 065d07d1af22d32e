using System;
using System.Collections.Generic;
using System.Globalization;

namespace IpcPs.Redis
{
    /// <summary>
    /// An object's settings as read once from its meta hash (ipcps:{NAME}) when a handle opens it. Every byte from Redis is
    /// untrusted: each field is parsed and range-checked here, and a bad one is IpcObjectCorruptException (the operation
    /// fails, the process lives).
    /// </summary>
    internal sealed class MetaReader
    {
        private readonly string _name, _address;
        private readonly Dictionary<string, string> _fields;

        /// <summary>ADDRESS: the backend's, without its password (named in the error's advice).</summary>
        public MetaReader(string name, string address, Dictionary<string, string> fields)
        {
            _name = name;
            _address = address;
            _fields = fields;
        }

        public long Long(string field, long min, long max)
        {
            if (_fields.TryGetValue(field, out var text) && text.Length <= 20
                && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max)
                return v;
            throw new IpcObjectCorruptException(_name, _address, $"its setting '{field}' in Redis is missing or out of range ({min}..{max})");
        }

        public int Int(string field, int min, int max) => (int)Long(field, min, max);

        public double Double(string field)
        {
            if (_fields.TryGetValue(field, out var text) && text.Length <= 40
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                return v;
            throw new IpcObjectCorruptException(_name, _address, $"its setting '{field}' in Redis is not a number");
        }

        public string Text(string field, int maxLength)
        {
            if (_fields.TryGetValue(field, out var text) && text.Length <= maxLength) return text;
            throw new IpcObjectCorruptException(_name, _address, $"its setting '{field}' in Redis is missing or too long");
        }
    }

    /// <summary>PowerShell's wildcards (* ? [abc]) over object names, which never contain them.</summary>
    internal static class Wildcard
    {
        public static bool IsMatch(string text, string pattern) => Match(text, 0, pattern, 0);

        private static bool Match(string t, int i, string p, int j)
        {
            while (j < p.Length)
            {
                char c = p[j];
                if (c == '*')
                {
                    while (j < p.Length && p[j] == '*') j++;
                    if (j == p.Length) return true;
                    for (int k = i; k <= t.Length; k++) if (Match(t, k, p, j)) return true;
                    return false;
                }
                if (i >= t.Length) return false;
                if (c == '?') { i++; j++; continue; }
                if (c == '[')
                {
                    int end = p.IndexOf(']', j + 1);
                    if (end < 0) return false;
                    string set = p.Substring(j + 1, end - j - 1);
                    if (!InSet(char.ToLowerInvariant(t[i]), set.ToLowerInvariant())) return false;
                    i++;
                    j = end + 1;
                    continue;
                }
                if (char.ToLowerInvariant(c) != char.ToLowerInvariant(t[i])) return false;
                i++;
                j++;
            }
            return i == t.Length;
        }

        private static bool InSet(char c, string set)
        {
            for (int k = 0; k < set.Length; k++)
            {
                if (k + 2 < set.Length && set[k + 1] == '-') { if (c >= set[k] && c <= set[k + 2]) return true; k += 2; }
                else if (set[k] == c) return true;
            }
            return false;
        }
    }
}
