using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using IpcPs.Core.Messaging;

namespace IpcPs
{
    /// <summary>A proxy whose ToString() prints what the manager holds (a dict, a list, a namespace).</summary>
    internal interface IReprWriter : IManagedProxy
    {
        /// <summary>Writes the contents, fetched in one call, into REPR (nested proxies are written there too).</summary>
        void WriteRepr(PyRepr repr);

        /// <summary>What stands for this object met again inside itself (Python's "[...]", "{...}").</summary>
        string CycleText { get; }
    }

    /// <summary>
    /// Python's repr of plain values, so a managed dict or list prints as CPython prints its own. What is printed was
    /// written by any client of the manager (or a hostile manager), so the walk is bounded by what it prints, not by
    /// what the graph unfolds to: a container met again inside itself (a value that contains itself, a dict holding
    /// its own proxy) prints as Python prints it, "[...]" / "{...}"; nesting past <see cref="ObjectGraph.MaxNesting"/>
    /// prints "..."; and the text stops at <see cref="MaxChars"/> characters, ending with "..." (shared references can
    /// unfold a small message into 2^60 items).
    /// </summary>
    internal sealed class PyRepr
    {
        /// <summary>The longest text a repr makes (then "..." is appended).</summary>
        public const int MaxChars = 1 << 20;

        private readonly StringBuilder _text = new StringBuilder();
        private readonly List<object> _open = new List<object>();   // containers and proxies being written, outermost first

        private PyRepr() { }

        /// <summary>True once the text is past <see cref="MaxChars"/>: every further write is dropped (and the text is cut).</summary>
        public bool Full => _text.Length > MaxChars;

        public static string Of(object? v)
        {
            var r = new PyRepr();
            r.Write(v);
            if (!r.Full) return r._text.ToString();
            return r._text.ToString(0, MaxChars) + "...";
        }

        public void Text(string s)
        {
            if (!Full) _text.Append(s);
        }

        public void Write(object? v)
        {
            if (Full) return;
            switch (v)
            {
                case null: Text("None"); return;
                case bool b: Text(b ? "True" : "False"); return;
                case string s: Text("'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'"); return;
                case char c: Write(c.ToString()); return;
                case double d: Text(d.ToString("R", CultureInfo.InvariantCulture)); return;
                case float f: Text(f.ToString("R", CultureInfo.InvariantCulture)); return;
                case IFormattable n when !(v is DateTime): Text(n.ToString(null, CultureInfo.InvariantCulture)); return;
                case IReprWriter p:
                    // A proxy is known by its manager and id: a new proxy object for the same managed object is the same.
                    Nested(p.Reference.Address + "#" + p.Reference.Id.ToString(CultureInfo.InvariantCulture), p.CycleText, () => p.WriteRepr(this));
                    return;
                case IManagedProxy p: Text(p.ToString() ?? ""); return;
                case IDictionary d: Nested(d, "{...}", () => WriteDict(d)); return;
                case IEnumerable e: Nested(e, "[...]", () => WriteList(e)); return;
                default: Text(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""); return;
            }
        }

        /// <summary>{k: v, …}; ENTRIES is read only as far as the text goes.</summary>
        public void WriteDict(IDictionary entries) =>
            WriteSequence("{", entries.Cast<DictionaryEntry>(), e => { Write(e.Key); Text(": "); Write(e.Value); }, "}");

        /// <summary>[a, b, …]; ITEMS is read only as far as the text goes.</summary>
        public void WriteList(IEnumerable items) => WriteSequence("[", items.Cast<object?>(), Write, "]");

        /// <summary>OPEN, each of ITEMS written by WRITE with ", " between them, CLOSE; ITEMS is read only as far as the text goes.</summary>
        public void WriteSequence<T>(string open, IEnumerable<T> items, Action<T> write, string close)
        {
            Text(open);
            bool first = true;
            foreach (var item in items)
            {
                if (Full) return;
                if (!first) Text(", ");
                first = false;
                write(item);
            }
            Text(close);
        }

        // Writes a container or proxy (KEY: by reference, or a proxy's address and id) unless it is being written
        // already (a cycle: CYCLETEXT) or the nesting is too deep ("...").
        private void Nested(object key, string cycleText, Action write)
        {
            foreach (var open in _open)
                if (ReferenceEquals(open, key) || (key is string s && open is string o && s == o)) { Text(cycleText); return; }
            if (_open.Count >= ObjectGraph.MaxNesting) { Text("..."); return; }
            ObjectGraph.CheckStack(_open.Count);
            _open.Add(key);
            try { write(); }
            finally { _open.RemoveAt(_open.Count - 1); }
        }
    }
}
