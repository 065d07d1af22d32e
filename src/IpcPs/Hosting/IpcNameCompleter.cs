using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Tab completion over the names of live objects (registered ones; foreign segments too), offering for an action
    /// cmdlet's -Name only the kinds it acts on (Set-IpcEvent: events; Send-IpcMessage: queues and pipes…). Listing
    /// opens nothing.
    /// </summary>
    public sealed class IpcNameCompleter : IArgumentCompleter
    {
        private static readonly IpcObjectKind[] Lockables =
            { IpcObjectKind.Lock, IpcObjectKind.RLock, IpcObjectKind.Semaphore, IpcObjectKind.BoundedSemaphore, IpcObjectKind.Condition, IpcObjectKind.Value, IpcObjectKind.Array };
        private static readonly IpcObjectKind[] Channels = { IpcObjectKind.Queue, IpcObjectKind.Pipe };

        private static readonly Dictionary<string, IpcObjectKind[]> KindsOf = new Dictionary<string, IpcObjectKind[]>(StringComparer.OrdinalIgnoreCase)
        {
            ["Enter-IpcLock"] = Lockables,
            ["Exit-IpcLock"] = Lockables,
            ["Use-IpcLock"] = Lockables,
            ["Set-IpcEvent"] = new[] { IpcObjectKind.Event },
            ["Reset-IpcEvent"] = new[] { IpcObjectKind.Event },
            ["Wait-IpcEvent"] = new[] { IpcObjectKind.Event },
            ["Wait-IpcBarrier"] = new[] { IpcObjectKind.Barrier },
            ["Wait-IpcQueue"] = new[] { IpcObjectKind.Queue },
            ["Send-IpcMessage"] = Channels,
            ["Receive-IpcMessage"] = Channels,
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            KindsOf.TryGetValue(commandName ?? "", out var kinds);
            return IpcObjects.List(pattern.IsMatch, includeForeign: kinds is null)
                .Where(o => kinds is null || Array.IndexOf(kinds, o.Kind) >= 0)
                .Select(o => new CompletionResult(o.Name, o.Name, CompletionResultType.ParameterValue, $"{o.Kind} {o.Name}"));
        }
    }
}
