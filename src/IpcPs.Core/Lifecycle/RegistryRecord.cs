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
    /// pidns=4026531836         (the pid namespace these pids belong to: the inode of /proc/self/ns/pid)
    /// removed=2026-11-26T…Z    (Windows only: a tombstone, see <see cref="RemovedUtc"/>)
    /// </code>
    /// Unknown keys are kept, so an older IpcPs reading a newer record does not drop them. Holders are judged only
    /// from the record's own pid namespace (a record without one is judged as ours): from another namespace the pids
    /// mean other processes, so nothing is pruned and everyone counts as alive (opening is refused, see
    /// <see cref="ThrowIfOtherNamespace"/>).
    /// </summary>
    internal sealed class RegistryRecord
    {
        public RegistryRecord(IpcObjectKind kind, ProcessIdentity creator, DateTime createdUtc)
            : this(kind, creator, createdUtc, Platform.Platforms.Current.Processes.PidNamespace) { }

        private RegistryRecord(IpcObjectKind kind, ProcessIdentity creator, DateTime createdUtc, uint pidNamespace)
        {
            Kind = kind;
            Creator = creator;
            CreatedUtc = createdUtc;
            PidNamespace = pidNamespace;
        }

        public IpcObjectKind Kind { get; }
        public ProcessIdentity Creator { get; }
        public DateTime CreatedUtc { get; }
        public List<ProcessIdentity> Attached { get; } = new List<ProcessIdentity>();

        /// <summary>The pid namespace of the pids in this record; 0 when not recorded.</summary>
        public uint PidNamespace { get; }

        /// <summary>
        /// When the object was removed while its segment could not be (Windows: still open somewhere), or null. Such
        /// a record is a tombstone: the name no longer opens, and the record goes when its holders have closed it
        /// (docs/design.md, "Lifecycle on Windows"). Never set on Linux, where removing unlinks the segment.
        /// </summary>
        public DateTime? RemovedUtc { get; set; }

        public bool IsRemoved => RemovedUtc != null;

        private List<string> Extra { get; } = new List<string>();

        /// <summary>True when this process can judge the record's pids (same pid namespace, or either is unknown).</summary>
        public bool SameNamespace
        {
            get
            {
                uint mine = Platform.Platforms.Current.Processes.PidNamespace;
                return PidNamespace == 0 || mine == 0 || PidNamespace == mine;
            }
        }

        /// <summary>Whether holder P may still run: only a holder known to be gone is not (never one of another namespace).</summary>
        public bool HolderAlive(ProcessIdentity p) => !SameNamespace || !p.IsGone;

        /// <summary>The holders not known to be gone.</summary>
        public IEnumerable<ProcessIdentity> LiveHolders => Attached.Where(HolderAlive);

        /// <summary>Drops processes known to have died (SIGKILL included). Returns how many were dropped.</summary>
        public int PruneDead() => SameNamespace ? Attached.RemoveAll(p => p.IsGone) : 0;

        /// <summary>Refuses to use an object whose holders this process cannot judge (see <see cref="IpcPidNamespaceException"/>).</summary>
        public void ThrowIfOtherNamespace(string name)
        {
            if (!SameNamespace) throw new IpcPidNamespaceException(name, PidNamespace, Platform.Platforms.Current.Processes.PidNamespace);
        }

        public string Serialize()
        {
            var sb = new StringBuilder();
            sb.Append("kind=").Append(Kind).Append('\n');
            sb.Append("creator=").Append(Creator).Append('\n');
            sb.Append("created=").Append(CreatedUtc.ToString("o", CultureInfo.InvariantCulture)).Append('\n');
            foreach (var p in Attached) sb.Append("attached=").Append(p).Append('\n');
            if (PidNamespace != 0) sb.Append("pidns=").Append(PidNamespace.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (RemovedUtc is DateTime removed) sb.Append("removed=").Append(removed.ToString("o", CultureInfo.InvariantCulture)).Append('\n');
            foreach (var line in Extra) sb.Append(line).Append('\n');
            return sb.ToString();
        }

        /// <summary>Parses a record; null for an empty or unreadable one (a creator that died mid-create).</summary>
        public static RegistryRecord? Parse(string text)
        {
            IpcObjectKind? kind = null;
            ProcessIdentity creator = default;
            DateTime created = default;
            uint pidns = 0;
            DateTime? removedAt = null;
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
                    case "pidns": uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pidns); break;
                    case "removed":
                        // A tombstone stays one even if its time cannot be read: it must never make a removed name open again.
                        removedAt = DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : DateTime.MinValue;
                        break;
                    default: extra.Add(line); break;
                }
            }
            if (kind is null) return null;
            var record = new RegistryRecord(kind.Value, creator, created, pidns) { RemovedUtc = removedAt };
            record.Attached.AddRange(attached);
            record.Extra.AddRange(extra);
            return record;
        }
    }
}
