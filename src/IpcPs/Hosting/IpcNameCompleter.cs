using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IpcPs.Hosting
{
    /// <summary>Tab completion over the names of live objects (registered ones; foreign segments too).</summary>
    public sealed class IpcNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return IpcObjects.List(pattern.IsMatch, includeForeign: true)
                .Select(o => new CompletionResult(o.Name, o.Name, CompletionResultType.ParameterValue, $"{o.Kind} {o.Name}"));
        }
    }
}
