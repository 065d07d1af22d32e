using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using IpcPs.Core.Platform;

namespace IpcPs.Core.Lifecycle
{
    /// <summary>
    /// The lifecycle policy (docs/design.md, "Lifecycle"): an object lives while any live process holds it open; the
    /// last process to close it destroys it; Remove-IpcObject (or a scope's end) destroys it at once. A process holds
    /// a name once however many handles it has: the registry lists it as attached on the first open and drops it when
    /// the last handle closes or the process exits. Processes that die without closing are pruned by liveness.
    /// </summary>
    internal static class ObjectLifecycle
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, int> Holds = new Dictionary<string, int>(StringComparer.Ordinal);

        /// <summary>
        /// Names whose last hold was released while no descriptor was left (EMFILE): the record could not be updated, so
        /// this process is still listed as a holder. Detached before this process's next registry change (so the order
        /// is a normal close's: a last holder still destroys the object before it is opened again) and at exit.
        /// </summary>
        private static readonly HashSet<string> Unreleased = new HashSet<string>(StringComparer.Ordinal);
        private static Platforms P => Platforms.Current;

        static ObjectLifecycle() => AppDomain.CurrentDomain.ProcessExit += (_, __) => ReleaseAll();

        /// <summary>Detaches from everything this process holds: at exit, and on SIGTERM (see Hosting/ModuleInitializer).</summary>
        internal static void DetachAll() => ReleaseAll();

        /// <summary>Creates NAME: MAKE makes the segment while the name's record is locked, so racing creators serialise.</summary>
        public static T Create<T>(string name, IpcObjectKind kind, Func<T> make)
        {
            lock (Gate)
            {
                DetachUnreleased();
                T made = P.Registry.Update(name, create: true, current =>
                {
                    if (current != null && current.IsRemoved && P.SharedMemory.Exists(name)) throw RemovedButOpen(name, current);
                    if (P.SharedMemory.Exists(name)) throw P.SharedMemory.Taken(name);
                    // A record without a segment is stale (its object was unlinked by hand): it is replaced.
                    var me = ProcessIdentity.Current;
                    var record = new RegistryRecord(kind, me, DateTime.UtcNow);
                    T obj = make();
                    record.Attached.Add(me);
                    return (record, obj);
                });
                Holds[name] = Holds.TryGetValue(name, out int n) ? n + 1 : 1;
                IpcScope.Record(name);
                return made;
            }
        }

        /// <summary>
        /// Atomically opens NAME if it exists, else creates it with MAKE — under the name's record lock, so of racing
        /// callers exactly one creates. OPEN gets the existing record. Returns the object and whether it was created.
        /// </summary>
        public static (T Value, bool Created) OpenOrCreate<T>(string name, IpcObjectKind kind, Func<T> make, Func<RegistryRecord?, T> open)
        {
            lock (Gate)
            {
                DetachUnreleased();
                var result = P.Registry.Update(name, create: true, current =>
                {
                    var me = ProcessIdentity.Current;
                    if (current != null && current.IsRemoved)
                    {
                        if (P.SharedMemory.Exists(name)) throw RemovedButOpen(name, current);
                        current = null;   // a tombstone whose segment is gone: the name is free again
                    }
                    if (P.SharedMemory.Exists(name))
                    {
                        current?.ThrowIfOtherNamespace(name);
                        T existing = open(current);
                        if (current is null) return ((RegistryRecord?)null, (existing, false));
                        current.PruneDead();
                        if (!current.Attached.Contains(me)) current.Attached.Add(me);
                        return (current, (existing, false));
                    }
                    var record = new RegistryRecord(kind, me, DateTime.UtcNow);
                    T made = make();
                    record.Attached.Add(me);
                    return (record, (made, true));
                });
                Holds[name] = Holds.TryGetValue(name, out int n) ? n + 1 : 1;
                if (result.Item2) IpcScope.Record(name);
                return result;
            }
        }

        /// <summary>
        /// Opens NAME for this process: OPEN runs with the record (null for a foreign segment) while it is locked, so
        /// no last closer can destroy the object between the open and the registration. Always registers (adding this
        /// process is idempotent): a hold count left from an object of the same name that was removed and made anew
        /// must not skip it.
        /// </summary>
        public static T Attach<T>(string name, Func<RegistryRecord?, T> open)
        {
            lock (Gate)
            {
                DetachUnreleased();
                bool removed = false;
                T result = P.Registry.Update(name, create: true, current =>
                {
                    // A tombstone (Windows): the name was removed. Once its segment is gone the record goes too.
                    if (current != null && current.IsRemoved)
                    {
                        if (P.SharedMemory.Exists(name)) throw new IpcObjectNotFoundException(name);
                        removed = true;
                        return ((RegistryRecord?)null, default(T)!);
                    }
                    // With no record, the segment must exist already (a foreign one): the empty record just made is
                    // then dropped again, and nothing is registered.
                    if (current is null && !P.SharedMemory.Exists(name)) throw new IpcObjectNotFoundException(name);
                    current?.ThrowIfOtherNamespace(name);
                    T obj = open(current);
                    if (current is null) return ((RegistryRecord?)null, obj);
                    current.PruneDead();
                    var me = ProcessIdentity.Current;
                    if (!current.Attached.Contains(me)) current.Attached.Add(me);
                    return (current, obj);
                });
                if (removed) throw new IpcObjectNotFoundException(name);
                Holds[name] = Holds.TryGetValue(name, out int n) ? n + 1 : 1;
                return result;
            }
        }

        /// <summary>Drops one hold; the process's last hold detaches it, and the last process destroys the object.</summary>
        public static void Release(string name)
        {
            lock (Gate)
            {
                if (!Holds.TryGetValue(name, out int n)) return;
                if (n > 1) { Holds[name] = n - 1; return; }
                Holds.Remove(name);
                DetachUnreleased();
                // No descriptor left to update the record: the close still succeeds, and the record follows later.
                try { Detach(name); }
                catch (IpcPlatformException e) when (e.IsOutOfDescriptors) { Unreleased.Add(name); }
            }
        }

        /// <summary>Detaches the <see cref="Unreleased"/> names, under Gate; stops while descriptors are still short.</summary>
        private static void DetachUnreleased()
        {
            if (Unreleased.Count == 0) return;
            foreach (var name in Unreleased.ToList())
            {
                try { Detach(name); }
                catch (IpcPlatformException e) when (e.IsOutOfDescriptors) { return; }   // still none: the next change tries again
                catch (IpcException) { /* left to liveness, as any failed detach */ }
                Unreleased.Remove(name);
            }
        }

        /// <summary>
        /// Destroys NAME now, whoever holds it: new opens fail, and every handle on it says so when it is used (see
        /// <see cref="MarkRemoved"/>). False if it was already gone. A Value, Array or Condition takes its hidden lock
        /// (NAME.lock) with it.
        /// </summary>
        public static bool Destroy(string name)
        {
            string? companion = null;
            bool destroyed = P.Registry.Update(name, create: false, current =>
            {
                // Removed already (a tombstone, Windows): gone for IpcPs, as on Linux, where a second unlink finds no name.
                if (current != null && current.IsRemoved) return (Tombstone(name, current).Next, false);
                companion = CompanionLockOf(name, current);
                MarkRemoved(name, current);
                bool removed = P.SharedMemory.Unlink(name);
                if (!P.SharedMemory.UnlinkRemovesName && removed)
                {
                    // Windows: the mapping lives while anyone has it open. Its record becomes a tombstone, which hides
                    // the name until the holders have closed it; a segment IpcPs did not make cannot be hidden.
                    if (current is null) throw NotRemovable(name);
                    current.RemovedUtc = DateTime.UtcNow;
                    return Tombstone(name, current);
                }
                return ((RegistryRecord?)null, removed || current != null);
            });
            if (companion != null) Destroy(companion);
            return destroyed;
        }

        /// <summary>A tombstone kept while its segment exists, else dropped; the name was removed either way.</summary>
        private static (RegistryRecord? Next, bool Removed) Tombstone(string name, RegistryRecord record) =>
            (P.SharedMemory.Exists(name) ? record : null, true);

        /// <summary>The error for creating a name that was removed while processes still had it open (Windows).</summary>
        private static IpcObjectExistsException RemovedButOpen(string name, RegistryRecord tombstone)
        {
            var pids = tombstone.LiveHolders.Select(p => p.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            string who = pids.Count == 0 ? "a process outside IpcPs still has it open"
                : $"process{(pids.Count == 1 ? "" : "es")} {string.Join(", ", pids)} still {(pids.Count == 1 ? "has" : "have")} it open";
            return new IpcObjectExistsException(name,
                $"The IPC object '{name}' was removed, but {who}: on Windows a name is freed only when the last process closes it. Choose another name, or create it again once they have closed it.");
        }

        private static InvalidOperationException NotRemovable(string name) => new InvalidOperationException(
            $"'{name}' was not made by IpcPs, and on Windows shared memory lives until the last process that has it open closes it (CPython's unlink does nothing there either): IpcPs cannot remove it. Close it in the programs that hold it.");


        private static long _removalStamp;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> Removed =
            new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);

        /// <summary>Moves on each time this process destroys an object: a handle compares it with what it last checked.</summary>
        public static long RemovalStamp => Interlocked.Read(ref _removalStamp);

        /// <summary>The <see cref="RemovalStamp"/> at which this process last destroyed NAME (0: never).</summary>
        public static long RemovedAt(string name) => Removed.TryGetValue(name, out long stamp) ? stamp : 0;

        /// <summary>Offset of the removed mark in the IpcPs header (reserved bytes 32..63): an i32, 1 once destroyed.</summary>
        internal const int RemovedMarkOffset = 32;

        /// <summary>
        /// Under NAME's record lock, before its segment is unlinked: remembers in this process that NAME was destroyed
        /// (handles of it attached earlier refuse to be used), and for a kind with the IpcPs header writes the removed
        /// mark into the segment, so handles in every process see it on their next use. SharedMemory and ShareableList
        /// keep CPython's bytes (no header, no mark): only this process's handles of those learn it.
        /// </summary>
        private static void MarkRemoved(string name, RegistryRecord? record)
        {
            Removed[name] = Interlocked.Increment(ref _removalStamp);
            var kind = record?.Kind;
            if (kind == IpcObjectKind.SharedMemory || kind == IpcObjectKind.ShareableList) return;
            try
            {
                using (var segment = P.SharedMemory.Open(name))
                {
                    if (segment.Size < SyncObject.StateOffset) return;
                    unsafe
                    {
                        byte* b = (byte*)segment.Address;
                        // Only a segment that is an IpcPs object: a record-less one may be anybody's bytes.
                        if (Volatile.Read(ref *(long*)b) != SyncObject.Magic) return;
                        Volatile.Write(ref *(int*)(b + RemovedMarkOffset), 1);
                    }
                }
            }
            catch (IpcException) { /* gone already, or not this user's: nothing to mark */ }
        }

        /// <summary>Offset of the lock's name (u16 length + UTF-8) in a Value's, an Array's and a Condition's segment.</summary>
        private const int CompanionNameOffset = 128, CompanionNameCapacity = 260;

        /// <summary>
        /// The hidden lock a Value, Array or Condition made for itself (named NAME.lock, by the same creator), or null:
        /// a lock the user gave a Condition is the user's, and outlives it.
        /// </summary>
        private static string? CompanionLockOf(string name, RegistryRecord? record)
        {
            if (record is null || !(record.Kind == IpcObjectKind.Value || record.Kind == IpcObjectKind.Array || record.Kind == IpcObjectKind.Condition)) return null;
            byte[] head;
            try { head = P.SharedMemory.Peek(name, CompanionNameOffset + CompanionNameCapacity); }
            catch (IpcException) { return null; }
            if (head.Length < CompanionNameOffset + 2) return null;
            int length = BitConverter.ToUInt16(head, CompanionNameOffset);
            if (length + 2 > CompanionNameCapacity || CompanionNameOffset + 2 + length > head.Length) return null;
            string lockName = System.Text.Encoding.UTF8.GetString(head, CompanionNameOffset + 2, length);
            if (lockName != name + ".lock") return null;
            var lockRecord = P.Registry.Read(lockName);
            return lockRecord != null && lockRecord.Creator.Equals(record.Creator) ? lockName : null;
        }

        /// <summary>
        /// Destroys NAME if it is still the object this process created (a scope's end): an object of the same name
        /// made since by another process, after this one's was gone, is left alone.
        /// </summary>
        public static bool DestroyOwn(string name) =>
            P.Registry.Update(name, create: false, current =>
            {
                if (current is null || current.IsRemoved || !current.SameNamespace || !current.Creator.Equals(ProcessIdentity.Current)) return (current, false);
                MarkRemoved(name, current);
                if (P.SharedMemory.Unlink(name) && !P.SharedMemory.UnlinkRemovesName)
                {
                    current.RemovedUtc = DateTime.UtcNow;   // Windows: still open somewhere (see Destroy)
                    return Tombstone(name, current);
                }
                return ((RegistryRecord?)null, true);
            });

        private static void Detach(string name) =>
            P.Registry.Update(name, create: false, current =>
            {
                if (current is null) return ((RegistryRecord?)null, 0);
                current.Attached.RemoveAll(p => p.Equals(ProcessIdentity.Current));
                current.PruneDead();
                if (current.Attached.Count > 0) return (current, 0);
                // The last holder. Linux: the segment is unlinked with the record. Windows: the mapping goes with the
                // last handle; a removed object's tombstone goes with its last holder, even if a look (a described
                // handle's view, which never holds) or a program outside IpcPs still maps it: the kernel then still
                // refuses to make the name again (IpcObjectExists), and nothing of IpcPs is left behind.
                if (current.IsRemoved) return ((RegistryRecord?)null, 0);
                P.SharedMemory.Unlink(name);
                return ((RegistryRecord?)null, 0);
            });

        /// <summary>Raised first when the process detaches from everything (exit, SIGTERM): pipe ends give up their holds.</summary>
        internal static event Action? Detaching;

        /// <summary>At process exit: detach from everything still held, so a normal exit never orphans anything.</summary>
        private static void ReleaseAll()
        {
            try { Detaching?.Invoke(); }
            catch (Exception) { /* exiting: liveness covers what a handler could not do */ }
            string[] names;
            lock (Gate)
            {
                names = Holds.Keys.Concat(Unreleased).ToArray();
                Holds.Clear();
                Unreleased.Clear();
            }
            foreach (var name in names)
            {
                try { Detach(name); }
                catch (Exception) { /* exiting: what cannot be detached is pruned later by liveness */ }
            }
        }
    }
}
