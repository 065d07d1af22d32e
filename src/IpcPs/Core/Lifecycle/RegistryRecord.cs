using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace IpcPs.Core.Lifecycle
{
    /// <summary>
    /// What the registry knows of one named object. Stored as UTF-8 text, one "key=value" per line:
    /// <code>
    /// kind=SharedMemory
    /// creator=4711:983245      (pid:start of the creating process)
    /// created=2026-11-26T17:00:00.0000000Z
    /// attached=4711:983245     (one line per process holding the object open)
    /// </code>
    /// Unknown keys are kept, so an older IpcPs reading a newer record does not drop them.
    /// </summary>
    internal sealed class RegistryRecord
    {
        public RegistryRecord(IpcObjectKind kind, ProcessIdentity creator, DateTime createdUtc)
        {
            Kind = kind;
            Creator = creator;
            CreatedUtc = createdUtc;
        }

        public IpcObjectKind Kind { get; }
        public ProcessIdentity Creator { get; }
        public DateTime CreatedUtc { get; }
        public List<ProcessIdentity> Attached { get; } = new List<ProcessIdentity>();
        private List<string> Extra { get; } = new List<string>();

        /// <summary>Drops processes that have died (SIGKILL included). Returns how many were dropped.</summary>
        public int PruneDead() => Attached.RemoveAll(p => !p.IsAlive);

        public string Serialize()
        {
            var sb = new StringBuilder();
            sb.Append("kind=").Append(Kind).Append('\n');
            sb.Append("creator=").Append(Creator).Append('\n');
            sb.Append("created=").Append(CreatedUtc.ToString("o", CultureInfo.InvariantCulture)).Append('\n');
            foreach (var p in Attached) sb.Append("attached=").Append(p).Append('\n');
            foreach (var line in Extra) sb.Append(line).Append('\n');
            return sb.ToString();
        }

        /// <summary>Parses a record; null for an empty or unreadable one (a creator that died mid-create).</summary>
        public static RegistryRecord? Parse(string text)
        {
            IpcObjectKind? kind = null;
            ProcessIdentity creator = default;
            DateTime created = default;
            var attached = new List<ProcessIdentity>();
            var extra = new List<string>();
            foreach (var line in text.Split('\n').Where(l => l.Length > 0))
            {
                int eq = line.IndexOf('=');
                string key = eq < 0 ? line : line.Substring(0, eq), value = eq < 0 ? "" : line.Substring(eq + 1);
                switch (key)
                {
                    case "kind": if (Enum.TryParse(value, out IpcObjectKind k)) kind = k; break;
                    case "creator": ProcessIdentity.TryParse(value, out creator); break;
                    case "created": DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out created); break;
                    case "attached": if (ProcessIdentity.TryParse(value, out var p)) attached.Add(p); break;
                    default: extra.Add(line); break;
                }
            }
            if (kind is null) return null;
            var record = new RegistryRecord(kind.Value, creator, created);
            record.Attached.AddRange(attached);
            record.Extra.AddRange(extra);
            return record;
        }
    }
}
