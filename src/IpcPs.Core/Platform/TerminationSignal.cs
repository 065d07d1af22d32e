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
    /// <para>Windows has no SIGTERM: a process is ended by TerminateProcess (Stop-Process, taskkill /F), which runs
    /// nothing; the kernel then closes its handles (mappings, wait objects, registry locks), and the registry's records
    /// keep it as a holder until liveness prunes it. What .NET maps onto these signals there are the console's events:
    /// SIGHUP (CTRL_CLOSE_EVENT: the console window closed), so closing a console detaches its objects within the few
    /// seconds Windows allows; SIGTERM (CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT), which only services receive
    /// (HandlerRoutine: "Interactive applications are terminated at logoff"). Both are registered, but logoff and
    /// shutdown end an interactive process as TerminateProcess does: its records keep it as a holder until liveness
    /// prunes it.</para>
    /// </summary>
    internal static class TerminationSignal
    {
        private const int SigHup = -1, SigTerm = -4;   // PosixSignal.SIGHUP, SIGTERM
        private static readonly List<Action> Actions = new List<Action>();
        private static object? _registration, _hangUp;   // kept for the process's life: a collected registration unregisters

        /// <summary>Adds ACTION. False where the runtime has no PosixSignalRegistration (nothing will run it).</summary>
        public static bool Add(Action action)
        {
            lock (Actions)
            {
                if (_registration is null)
                {
                    _registration = Register(SigTerm);
                    if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                        _hangUp = Register(SigHup);
                }
                if (_registration is null) return false;
                Actions.Add(action);
                return true;
            }
        }

        private static object? Register(int which)
        {
            // In CoreLib on .NET 8 and later; in System.Runtime.InteropServices on .NET 6 and 7.
            static Type? Find(string name) => typeof(object).Assembly.GetType("System.Runtime.InteropServices." + name)
                ?? Type.GetType("System.Runtime.InteropServices." + name + ", System.Runtime.InteropServices");
            var registration = Find("PosixSignalRegistration");
            var signal = Find("PosixSignal");
            var context = Find("PosixSignalContext");
            if (registration is null || signal is null || context is null) return null;   // an older runtime
            var handlerType = typeof(Action<>).MakeGenericType(context);
            var create = registration.GetMethod("Create", new[] { signal, handlerType });
            if (create is null) return null;
            var handler = Delegate.CreateDelegate(handlerType,
                typeof(TerminationSignal).GetMethod(nameof(OnSigterm), BindingFlags.NonPublic | BindingFlags.Static)!);
            return create.Invoke(null, new[] { Enum.ToObject(signal, which), handler });
        }

        /// <summary>How long the actions may take together before the process ends anyway.</summary>
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

        // Runs on the runtime's signal thread; the default action (ending the process) follows. The actions run on a
        // thread of their own, waited for at most Limit: one that blocks (a user's Dispose) must not make the process
        // unkillable by SIGTERM.
        private static void OnSigterm(object context) => RunActions();

        /// <summary>
        /// Runs the actions as SIGTERM does (last added first, at most <see cref="Limit"/> together). Windows has no
        /// SIGTERM: a child asked to stop through its channel (Start-IpcProcess's polite stop) calls this before it exits.
        /// </summary>
        public static void RunActions()
        {
            Action[] actions;
            lock (Actions) actions = Actions.ToArray();
            var worker = new System.Threading.Thread(() =>
            {
                for (int i = actions.Length - 1; i >= 0; i--)
                {
                    try { actions[i](); }
                    catch (Exception) { /* the process is ending either way; the other actions still run */ }
                }
            }) { IsBackground = true, Name = "IpcPs SIGTERM clean-up" };
            worker.Start();
            worker.Join(Limit);
        }
    }
}
