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
    /// opens nothing. With a backend — -Backend already on the line, else $env:IPCPS_BACKEND, as the cmdlet itself
    /// would choose — the names are the backend's objects (a first connection may take up to a second here; a server
    /// that does not answer in that time completes nothing).
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
            var backend = BackendOf(fakeBoundParameters);
            if (backend.Given)
            {
                if (backend.Backend is null) return Enumerable.Empty<CompletionResult>();
                IReadOnlyList<IpcBackendObjectInfo> listed;
                try { listed = backend.Backend.List(null); }
                catch (IpcException) { return Enumerable.Empty<CompletionResult>(); }
                return listed.Where(o => pattern.IsMatch(o.Name) && (kinds is null || Array.IndexOf(kinds, o.Kind) >= 0))
                    .OrderBy(o => o.Name, StringComparer.Ordinal)
                    .Select(o => new CompletionResult(Quoted(o.Name), o.Name, CompletionResultType.ParameterValue, $"{o.Kind} {o.Name} at {o.Address}"));
            }
            return IpcObjects.List(pattern.IsMatch, includeForeign: kinds is null)
                .Where(o => kinds is null || Array.IndexOf(kinds, o.Kind) >= 0)
                .Select(o => new CompletionResult(o.Name, o.Name, CompletionResultType.ParameterValue, $"{o.Kind} {o.Name}"));
        }

        private static readonly TimeSpan CompletionConnectTimeout = TimeSpan.FromSeconds(1);

        /// <summary>
        /// The backend the command on the line would use (BackendArgument's rule): GIVEN false for local objects;
        /// BACKEND null when it cannot be had (a bad value, no server within a second).
        /// </summary>
        private static (bool Given, IIpcBackend? Backend) BackendOf(IDictionary fakeBoundParameters)
        {
            object? value = fakeBoundParameters?.Contains(BackendArgument.ParameterName) == true
                ? fakeBoundParameters[BackendArgument.ParameterName]
                : Environment.GetEnvironmentVariable(BackendArgument.EnvironmentVariable);
            try
            {
                var backend = BackendArgument.From(value, CompletionConnectTimeout);
                return (backend != null, backend);
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is UriFormatException || e is System.IO.IOException) { return (true, null); }
        }

        // Names are validated (letters, digits, '_', '-', '.'), but a listing is the server's answer: quote what
        // PowerShell would split on rather than trust it.
        private static string Quoted(string name) =>
            name.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,&|<>@#".IndexOf(c) >= 0) ? "'" + name.Replace("'", "''") + "'" : name;
    }
}
