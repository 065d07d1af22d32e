using System;
using System.Collections.Generic;
using System.Linq;
using IpcPs.Core;
using IpcPs.Core.Lifecycle;
using IpcPs.Core.Platform;

namespace IpcPs
{
    /// <summary>Finds, opens and destroys named objects of any kind. Each kind adds its describer to <see cref="Describers"/>.</summary>
    public static class IpcObjects
    {
        /// <summary>How to make an unattached object of each kind from its name and segment size.</summary>
        private static readonly Dictionary<IpcObjectKind, Func<string, long, IpcObject>> Describers =
            new Dictionary<IpcObjectKind, Func<string, long, IpcObject>>
            {
                [IpcObjectKind.SharedMemory] = SharedMemory.Describe,
                [IpcObjectKind.Lock] = (n, _) => IpcLock.Describe(n, IpcObjectKind.Lock),
                [IpcObjectKind.RLock] = (n, _) => IpcLock.Describe(n, IpcObjectKind.RLock),
                [IpcObjectKind.Semaphore] = (n, _) => IpcSemaphore.Describe(n, IpcObjectKind.Semaphore),
                [IpcObjectKind.BoundedSemaphore] = (n, _) => IpcSemaphore.Describe(n, IpcObjectKind.BoundedSemaphore),
                [IpcObjectKind.Event] = (n, _) => IpcEvent.Describe(n),
                [IpcObjectKind.Condition] = (n, _) => IpcCondition.Describe(n),
                [IpcObjectKind.Barrier] = (n, _) => IpcBarrier.Describe(n),
                [IpcObjectKind.Queue] = (n, _) => IpcQueue.Describe(n),
                [IpcObjectKind.Pipe] = (n, _) => IpcConnection.Describe(n),
                [IpcObjectKind.Value] = (n, _) => IpcValue.Describe(n),
                [IpcObjectKind.Array] = (n, _) => IpcArray.Describe(n),
                [IpcObjectKind.ShareableList] = (n, _) => ShareableList.Describe(n),
            };

        private static Platforms P => Platforms.Current;

        /// <summary>Opens (attaches) the object NAME, of whatever kind it is.</summary>
        public static IpcObject Open(string name)
        {
            var obj = Describe(IpcName.Validate(name)) ?? throw new IpcObjectNotFoundException(name);
            obj.Open();
            return obj;
        }

        /// <summary>
        /// Opens NAME and checks it is of KIND. KIND ShareableList also opens a segment with no record (one CPython
        /// made) as a list, checking its bytes: a ShareableList has no header, so it is known by name or by request.
        /// </summary>
        public static IpcObject Open(string name, IpcObjectKind kind)
        {
            if (kind == IpcObjectKind.ShareableList) return ShareableList.Open(name);
            var obj = Open(name);
            if (obj.Kind == kind) return obj;
            obj.Close();
            throw new IpcObjectKindException(name, $"'{name}' is a {obj.Kind}, not a {kind}.");
        }

        /// <summary>
        /// A described handle for NAME (of KIND, when given): nothing is attached, so reading it never makes this process
        /// a holder; its first use that acts on the object attaches it (docs/design.md, "Lifecycle"). KIND ShareableList
        /// also describes a segment with no record (one CPython made) as a list. IpcObjectNotFoundException when
        /// nothing has that name; IpcObjectKindException when it is of another kind.
        /// </summary>
        public static IpcObject Get(string name, IpcObjectKind? kind = null)
        {
            IpcName.Validate(name);
            IpcObject obj;
            if (kind == IpcObjectKind.ShareableList && P.Registry.Read(name) is null && P.SharedMemory.Exists(name))
            {
                obj = ShareableList.Describe(name);
                _ = obj.ToString();   // a look: checks the bytes are a list (IpcObjectKindException if not), attaches nothing
                return obj;
            }
            obj = Describe(name) ?? throw new IpcObjectNotFoundException(name);
            if (kind is IpcObjectKind k && obj.Kind != k)
                throw new IpcObjectKindException(name, $"'{name}' is a {obj.Kind}, not a {k}.");
            // A look, not an open: the checks an open makes (the owner, the pid namespace, the header and geometry) are
            // made now, so what cannot be opened is reported here; nothing is registered.
            obj.Look();
            return obj;
        }

        /// <summary>
        /// The user's objects whose names match PATTERN (a wildcard test supplied by the caller), not attached.
        /// Foreign segments (no IpcPs record) only when asked for.
        /// </summary>
        public static IEnumerable<IpcObject> List(Func<string, bool> nameMatches, bool includeForeign)
        {
            var names = new SortedSet<string>(P.Registry.Names(), StringComparer.Ordinal);
            if (includeForeign) names.UnionWith(P.SharedMemory.List());
            foreach (var name in names.Where(nameMatches))
            {
                IpcObject? obj;
                // A record that is not this user's regular file (planted while the folder was open to others) is
                // refused where it is opened; a listing skips it rather than failing for every other object.
                try { obj = Describe(name); }
                catch (IpcException) { obj = null; }
                if (obj != null) yield return obj;
            }
        }

        /// <summary>Destroys NAME (record and segment), whoever holds it. False if nothing of that name existed.</summary>
        public static bool Remove(string name) => ObjectLifecycle.Destroy(IpcName.Validate(name));

        internal static IpcObjectStatus StatusOf(string name, RegistryRecord? record)
        {
            if (record != null && record.IsRemoved) return IpcObjectStatus.Removed;   // a tombstone (Windows)
            bool segment = P.SharedMemory.Exists(name);
            if (record is null) return segment ? IpcObjectStatus.Foreign : IpcObjectStatus.Removed;
            if (!segment) return IpcObjectStatus.Orphaned;   // a record whose segment was unlinked by hand
            return record.LiveHolders.Any() ? IpcObjectStatus.Active : IpcObjectStatus.Orphaned;
        }

        /// <summary>
        /// The kind of a segment that has no record (its registry entry was lost): an IpcPs header says which; anything
        /// else is raw shared memory.
        /// </summary>
        private static IpcObjectKind KindFromHeader(string name)
        {
            byte[] head;
            try { head = P.SharedMemory.Peek(name, 12); }
            catch (IpcException) { return IpcObjectKind.SharedMemory; }   // gone, or another user's: opening it will say so
            if (head.Length == 12 && BitConverter.ToInt64(head, 0) == SyncObject.Magic && Enum.IsDefined(typeof(IpcObjectKind), BitConverter.ToInt32(head, 8)))
                return (IpcObjectKind)BitConverter.ToInt32(head, 8);
            return IpcObjectKind.SharedMemory;
        }

        /// <summary>An unattached object for NAME, or null when neither a record nor a segment exists.</summary>
        private static IpcObject? Describe(string name)
        {
            var record = P.Registry.Read(name);
            if (record != null && record.IsRemoved) return null;   // removed (Windows: still open somewhere): not listed, not opened
            long? size = P.SharedMemory.SizeOf(name);
            if (record is null && size is null) return null;
            var kind = record?.Kind ?? KindFromHeader(name);
            var obj = Describers[kind](name, size ?? 0);
            obj.Record = record;
            if (size is long known) obj.DescribedSize = known;
            return obj;
        }
    }
}
