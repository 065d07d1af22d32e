using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IpcPs.Hosting
{
    /// <summary>Tab completion of -Type: the CPython typecodes and the .NET names New-IpcValue and New-IpcArray accept.</summary>
    public sealed class IpcDataTypeCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = (wordToComplete ?? "").Trim('\'', '"');
            return IpcDataType.KnownNames
                .Where(n => n.StartsWith(word, n.Length == 1 ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, IpcDataType.Parse(n).ToString()));
        }
    }
}
