using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Core's host (<see cref="Core.IIpcHost"/>) in a PowerShell session: script blocks for barrier actions, PSObject as the wrapper.</summary>
    internal sealed class PowerShellHost : Core.IIpcHost
    {
        public Action CompileAction(string text)
        {
            var script = ScriptBlock.Create(text);
            return () => script.Invoke();
        }

        public object? Unwrap(object? value)
        {
            // A PSObject may wrap another PSObject; a few levels at most.
            for (int depth = 0; depth < 4 && value is PSObject pso; depth++)
            {
                var inner = pso.BaseObject;
                if (inner is null || ReferenceEquals(inner, value)) break;
                value = inner;
            }
            return value;
        }

        public bool IsWrapped(object? value) => value is PSObject;

        public Core.Messaging.IMessageFallback Messages { get; } = new PSMessageFallback();

        public System.Threading.CancellationToken Interrupt => PipelineInterrupt.ForCallingThread();

        // PowerShell's + and += (EnumerableOps.AddObject, AddEnumerable) copy an enumerable operand into a new array; it
        // gives a type no say (its op_Addition is never asked). The frames on this thread tell.
        public bool IsConcatenating
        {
            get
            {
                foreach (var frame in new System.Diagnostics.StackTrace(false).GetFrames() ?? Array.Empty<System.Diagnostics.StackFrame>())
                {
                    var method = frame.GetMethod();
                    if (method?.DeclaringType?.FullName == "System.Management.Automation.EnumerableOps"
                        && (method.Name == "AddObject" || method.Name == "AddEnumerable")) return true;
                }
                return false;
            }
        }
    }
}
