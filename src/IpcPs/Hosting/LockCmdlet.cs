using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Shared by Enter-IpcLock, Exit-IpcLock and Use-IpcLock: the lock by object or by name, taken in time or not at all.</summary>
    public abstract class LockCmdlet : IpcCmdlet
    {
        /// <summary>What a lock cmdlet takes, for messages.</summary>
        protected const string Lockable = "a Lock, RLock, Semaphore, Condition, Value or Array";

        /// <summary>
        /// Takes LOCK within TIMEOUT. A timeout is the timeout rule's error (non-terminating) and false: the caller runs
        /// nothing that needs the lock. An abandoned lock is taken, with a warning.
        /// </summary>
        protected bool Acquire(ILockable lockable, TimeSpan timeout)
        {
            LockAcquisition result;
            try { result = lockable.TryAcquire(timeout, StopToken); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ObjectDisposedException)
            {
                ThrowIpcError(e, lockable);
                return false;
            }
            if (result == LockAcquisition.TimedOut)
            {
                WriteTimeout($"Could not take the {lockable.Kind} '{lockable.Name}' {Within(timeout)}.", lockable.Name, lockable);
                return false;
            }
            if (result != LockAcquisition.Abandoned) return true;
            try { WriteWarning(new AbandonedLockException(lockable.Name, lockable.Kind.ToString()).Message); }
            catch
            {
                lockable.Release();   // -WarningAction Stop turned the warning into an error: the command failed, so it must not keep the lock
                throw;
            }
            return true;
        }
    }

    /// <summary>
    /// Locks taken with Enter-IpcLock -Name, by name, so that Exit-IpcLock -Name releases them through the same handle
    /// and closes it: a lock taken by name keeps its handle open while it is held (the object cannot be destroyed under
    /// its holder), and no longer.
    /// </summary>
    internal static class NamedLocks
    {
        private static readonly ConcurrentDictionary<string, Stack<ILockable>> Held = new ConcurrentDictionary<string, Stack<ILockable>>(StringComparer.Ordinal);

        public static void Push(ILockable l)
        {
            var stack = Held.GetOrAdd(l.Name, _ => new Stack<ILockable>());
            lock (stack) stack.Push(l);
        }

        public static ILockable? Pop(string name)
        {
            if (!Held.TryGetValue(name, out var stack)) return null;
            lock (stack) return stack.Count > 0 ? stack.Pop() : null;
        }

        /// <summary>Puts back a handle whose release failed (Exit-IpcLock from another thread of an RLock): it is still held.</summary>
        public static void Restore(ILockable l) => Push(l);
    }
}
