using System;
using System.Management.Automation;
using System.Reflection;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On import: lets Core run barrier actions (PowerShell script text), and makes SIGTERM detach this process from
    /// every object it holds before it ends — pwsh ends on SIGTERM without running the runtime's exit handlers, which
    /// would otherwise leave its objects orphaned.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        private static object? _sigterm;   // the registration; kept alive for the process's life

        public void OnImport()
        {
            IpcBarrier.ActionCompiler = text =>
            {
                var script = ScriptBlock.Create(text);
                return () => script.Invoke();
            };
            Core.Messaging.MessageCodec.Fallback = new PSMessageFallback();
            if (_sigterm is null) _sigterm = RegisterSigterm();
        }

        /// <summary>PosixSignalRegistration.Create(SIGTERM, handler), through reflection: the API is .NET 6+, we build for netstandard2.0.</summary>
        private static object? RegisterSigterm()
        {
            var registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices");
            var signal = Type.GetType("System.Runtime.InteropServices.PosixSignal, System.Runtime.InteropServices");
            var context = Type.GetType("System.Runtime.InteropServices.PosixSignalContext, System.Runtime.InteropServices");
            var create = registration?.GetMethod("Create", new[] { signal!, typeof(Action<>).MakeGenericType(context!) });
            if (create is null || signal is null || context is null) return null;   // an older runtime: nothing to do
            var handler = Delegate.CreateDelegate(typeof(Action<>).MakeGenericType(context),
                typeof(ModuleInitializer).GetMethod(nameof(OnSigterm), BindingFlags.NonPublic | BindingFlags.Static)!);
            return create.Invoke(null, new[] { Enum.ToObject(signal, -4 /* PosixSignal.SIGTERM */), handler });
        }

        // Runs on the signal thread; the default action (ending the process) follows.
        private static void OnSigterm(object context) => Core.Lifecycle.ObjectLifecycle.DetachAll();
    }
}
