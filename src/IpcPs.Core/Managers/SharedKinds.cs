using System;
using System.Collections;
using System.Globalization;
using IpcPs.Core.Messaging;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// The manager's queues, locks, events, … are the module's own shared-memory objects: the server creates and owns
    /// them (and destroys them at shutdown); a client on the same machine opens the real object by name, so waits are
    /// futex waits, not round trips. Arguments follow CPython's SyncManager methods.
    /// </summary>
    internal static class SharedKinds
    {
        /// <summary>The object for TYPEID, or null when TYPEID is not one of these kinds.</summary>
        public static IpcObject? Create(string typeId, object?[] a)
        {
            switch (typeId)
            {
                case "Queue": return IpcQueue.Create(null, maxSize: Int(a, 0, 0));
                case "JoinableQueue": return IpcQueue.Create(null, maxSize: Int(a, 0, 0), joinable: true);
                case "Lock": return IpcLock.Create(null);
                case "RLock": return IpcLock.Create(null, recursive: true);
                case "Event": return IpcEvent.Create(null);
                case "Semaphore": return IpcSemaphore.Create(null, Int(a, 0, 1));
                case "BoundedSemaphore": return IpcSemaphore.Create(null, Int(a, 0, 1), Int(a, 0, 1));
                case "Condition": return IpcCondition.Create(null, a.Length > 0 ? a[0] as IpcLock : null);
                case "Barrier":
                    return IpcBarrier.Create(null, Int(a, 0, 0), null, a.Length > 1 && a[1] != null ? Convert.ToDouble(a[1], CultureInfo.InvariantCulture) : double.NaN);
                case "Value":
                    return IpcValue.Create(null, Type(a), a.Length > 1 ? a[1] : null);
                case "Array":
                    if (a.Length > 1 && a[1] is IEnumerable values && !(a[1] is string)) return IpcArray.Create(null, Type(a), values);
                    return IpcArray.Create(null, Type(a), Int(a, 1, 0));
                default: return null;
            }
        }

        private static IpcDataType Type(object?[] a) =>
            IpcDataType.Parse(a.Length > 0 && a[0] != null ? Convert.ToString(a[0], CultureInfo.InvariantCulture)! : throw new ArgumentException("Value and Array need a type code (e.g. 'i', 'd')."));

        private static int Int(object?[] a, int i, int otherwise) =>
            a.Length > i && a[i] != null ? Convert.ToInt32(a[i], CultureInfo.InvariantCulture) : otherwise;
    }
}
