using System;
using System.Collections.Generic;
using System.Threading;

namespace IpcPs
{
    /// <summary>
    /// Python's <c>with SharedMemoryManager():</c> for every kind. While a scope is active on the current thread, every
    /// object this process creates on that thread is recorded in the innermost active scope (an AsyncLocal stack,
    /// plus the thread's id: a thread started inside the scope inherits the AsyncLocal, but is another runspace's —
    /// a thread job, ForEach-Object -Parallel — and is not captured); <see cref="Dispose"/> destroys them all, newest first (Remove-IpcObject:
    /// the names go at once, mappings already made stay valid). Scopes nest; ending one ends none of its parents.
    /// Objects that existed before the scope, and objects merely opened inside it, are left alone.
    /// </summary>
    public sealed class IpcScope : IDisposable
    {
        private static readonly AsyncLocal<IpcScope?> CurrentScope = new AsyncLocal<IpcScope?>();
        private readonly IpcScope? _parent;
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly List<string> _names = new List<string>();
        private int _ended;

        private IpcScope(IpcScope? parent) => _parent = parent;

        /// <summary>Starts a scope on the current logical thread, nested in the active one if any.</summary>
        public static IpcScope Begin()
        {
            var scope = new IpcScope(CurrentScope.Value);
            CurrentScope.Value = scope;
            return scope;
        }

        /// <summary>The innermost active scope of the current logical thread, or null.</summary>
        public static IpcScope? Current
        {
            get
            {
                var s = CurrentScope.Value;
                while (s != null && Volatile.Read(ref s._ended) != 0) s = s._parent;   // a thread that outlived its scope
                return s != null && s._thread == Environment.CurrentManagedThreadId ? s : null;
            }
        }

        /// <summary>Names created in this scope so far, oldest first.</summary>
        public string[] Names { get { lock (_names) return _names.ToArray(); } }

        /// <summary>Called by ObjectLifecycle when this process creates NAME.</summary>
        internal static void Record(string name)
        {
            var scope = Current;
            if (scope is null) return;
            lock (scope._names) scope._names.Add(name);
        }

        /// <summary>
        /// Ends the scope: destroys every object created in it, newest first, going on past failures (the first is
        /// rethrown at the end), and makes its parent current again.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0) return;
            if (CurrentScope.Value == this) CurrentScope.Value = _parent;
            string[] names;
            lock (_names) { names = _names.ToArray(); _names.Clear(); }
            Exception? first = null;
            for (int i = names.Length - 1; i >= 0; i--)
            {
                try { Core.Lifecycle.ObjectLifecycle.DestroyOwn(names[i]); }
                catch (Exception e) when (!(e is OutOfMemoryException)) { first ??= e; }
            }
            if (first != null) throw first;
        }
    }
}
