using System;
using System.Collections.Generic;
using System.Reflection;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// Clean-up to run when the process is sent SIGTERM (Stop-Job, kill, a service manager). pwsh on .NET 10 ends on
    /// SIGTERM without running the runtime's exit handlers, so without this a process would die holding its objects.
    /// One PosixSignalRegistration (.NET 6+, reached by reflection: this assembly targets netstandard2.0) runs every
    /// action added, the newest first (as nested scopes unwind); it does not cancel the signal, so the process then
    /// ends as SIGTERM would have ended it.
    /// </summary>
    internal static class TerminationSignal
    {
        private const int SigTerm = -4;   // PosixSignal.SIGTERM
        private static readonly List<Action> Actions = new List<Action>();
        private static object? _registration;   // kept for the process's life: a collected registration unregisters

        /// <summary>Adds ACTION. False where the runtime has no PosixSignalRegistration (nothing will run it).</summary>
        public static bool Add(Action action)
        {
            lock (Actions)
            {
                if (_registration is null) _registration = Register();
                if (_registration is null) return false;
                Actions.Add(action);
                return true;
            }
        }

        private static object? Register()
        {
            var core = typeof(object).Assembly;
            var registration = core.GetType("System.Runtime.InteropServices.PosixSignalRegistration");
            var signal = core.GetType("System.Runtime.InteropServices.PosixSignal");
            var context = core.GetType("System.Runtime.InteropServices.PosixSignalContext");
            if (registration is null || signal is null || context is null) return null;   // an older runtime
            var handlerType = typeof(Action<>).MakeGenericType(context);
            var create = registration.GetMethod("Create", new[] { signal, handlerType });
            if (create is null) return null;
            var handler = Delegate.CreateDelegate(handlerType,
                typeof(TerminationSignal).GetMethod(nameof(OnSigterm), BindingFlags.NonPublic | BindingFlags.Static)!);
            return create.Invoke(null, new[] { Enum.ToObject(signal, SigTerm), handler });
        }

        // Runs on the runtime's signal thread; the default action (ending the process) follows.
        private static void OnSigterm(object context)
        {
            Action[] actions;
            lock (Actions) actions = Actions.ToArray();
            for (int i = actions.Length - 1; i >= 0; i--)
            {
                try { actions[i](); }
                catch (Exception) { /* the process is ending either way; the other actions still run */ }
            }
        }
    }
}
