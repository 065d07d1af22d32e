using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using IpcPs.Core.Platform;

namespace IpcPs.Hosting
{
    /// <summary>
    /// $using: for scripts that run in another process, as Start-Job has it: the parent reads each $using:NAME from
    /// the caller's scope, and the script text is rewritten to read it from a hashtable the child's runspace holds
    /// (<c>$__ipcUsing['KEY']</c>, see <see cref="Key"/>). Indexes and members after it ($using:a[1], $using:h.Key) keep
    /// working.
    /// </summary>
    internal static class UsingVariables
    {
        /// <summary>
        /// The script text to send, and the values of its $using: variables (handles still live), by <see cref="Key"/>:
        /// the table compares keys as they are (two captures, a script's and its initialization script's, share one).
        /// </summary>
        public static (string Script, Hashtable Values) Capture(ScriptBlock script, SessionState state)
        {
            var values = new Hashtable();
            var body = script.Ast;
            string text = body.Extent.Text;
            int origin = body.Extent.StartOffset;
            var uses = body.FindAll(a => a is UsingExpressionAst u && !ResolvedByInnerCommand(u, body), true).Cast<UsingExpressionAst>()
                .Select(u => (Using: u, Variable: UsingExpressionAst.ExtractUsingVariable(u)))
                .OrderByDescending(v => v.Variable.Extent.StartOffset).ToList();
            foreach (var (use, variable) in uses)
            {
                string key = Key(variable.VariablePath);
                if (!values.ContainsKey(key)) values[key] = Value(variable.VariablePath, state);
                string replacement = "$" + ChildRunspace.UsingVariable + "['" + key.Replace("'", "''") + "']";
                // Inside "…$using:x…" the text is expanded, not evaluated: only a subexpression reads the table there.
                if (use.Parent is ExpandableStringExpressionAst) replacement = "$(" + replacement + ")";
                text = text.Substring(0, variable.Extent.StartOffset - origin) + replacement + text.Substring(variable.Extent.EndOffset - origin);
            }
            // A script block literal's extent includes its braces; the child wants the body.
            if (body.Parent is ScriptBlockExpressionAst && text.StartsWith("{", StringComparison.Ordinal) && text.EndsWith("}", StringComparison.Ordinal))
                text = text.Substring(1, text.Length - 2);
            return (uses.Count == 0 ? script.ToString() : text, values);
        }

        /// <summary>
        /// The key of $using:PATH in the table: one per item the caller's session tells apart. A variable's name ignores
        /// case ($using:x and $using:X are one variable everywhere); so does a drive-qualified item's on Windows, whose
        /// environment is one variable per name whatever its case. Elsewhere the item's name keeps its case: Linux has
        /// env:a and env:A apart, and the child must too (one key for both gave both the value of one). The rest is
        /// upper case, so that two spellings of one variable find one key, whatever comparer the child's rebuilt table
        /// has (CLIXML's ignores case unless two keys differ only in case; the pool's codec keeps this one's).
        /// </summary>
        internal static string Key(VariablePath path)
        {
            string name = path.UserPath;
            if (!path.IsDriveQualified || Platforms.Current.IsWindows) return name.ToUpperInvariant();
            int item = name.IndexOf(':') + 1;   // after the drive's name, which ignores case
            return name.Substring(0, item).ToUpperInvariant() + name.Substring(item);
        }

        /// <summary>
        /// The value of $using:PATH in the caller's scope, as Start-Job reads it: a drive-qualified path ($using:env:X)
        /// through its provider, null when there is no such item; a variable ($using:x, $using:script:x, and
        /// $using:variable:x, which VariablePath does not count as drive-qualified) must be set.
        /// </summary>
        private static object? Value(VariablePath path, SessionState state)
        {
            if (path.IsDriveQualified) return state.PSVariable.GetValue(path.UserPath);
            string name = path.UserPath;
            if (name.StartsWith(VariableDrive, StringComparison.OrdinalIgnoreCase)) name = name.Substring(VariableDrive.Length);
            var found = state.PSVariable.Get(name);   // null for "variable:x" itself: hence the prefix's removal
            if (found is null)
                throw new ArgumentException($"The value of the using variable '$using:{path.UserPath}' cannot be retrieved because it has not been set in the local session.");
            return found.Value;
        }

        private const string VariableDrive = "variable:";

        // Commands that take $using: in a script block of their own when they run (in the child): theirs is left for
        // them, as Start-Job leaves it, so `ForEach-Object -Parallel { $using:x }` in the child reads the child's $x.
        private static readonly string[] UsingCommands =
            { "Start-Job", "sajb", "Start-ThreadJob", "Invoke-Command", "icm", "Start-IpcProcess", "Invoke-IpcPool" };
        private static readonly string[] ForEachNames = { "ForEach-Object", "foreach", "%" };

        /// <summary>True when USE sits in a script block (inside ROOT) given to a command that resolves $using: itself.</summary>
        private static bool ResolvedByInnerCommand(UsingExpressionAst use, Ast root)
        {
            for (Ast? a = use.Parent; a != null && a != root; a = a.Parent)
            {
                if (!(a is ScriptBlockExpressionAst block)) continue;
                var command = block.Parent as CommandAst ?? (block.Parent as CommandParameterAst)?.Parent as CommandAst;
                string? name = command?.GetCommandName();
                if (name is null) continue;
                int slash = name.LastIndexOf('\\');
                if (slash >= 0) name = name.Substring(slash + 1);   // Module\Command
                if (UsingCommands.Any(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase))
                    && (!IsInvokeCommand(name) || IsRemote(command!))) return true;
                if (ForEachNames.Any(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)) && IsParallelBlock(command!, block)) return true;
            }
            return false;
        }

        private static bool IsInvokeCommand(string name) =>
            string.Equals(name, "Invoke-Command", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "icm", StringComparison.OrdinalIgnoreCase);

        // Invoke-Command takes $using: only when it runs elsewhere; run here, the script block is the child's own.
        private static readonly string[] RemoteParameters =
            { "ComputerName", "Cn", "Session", "ConnectionUri", "Uri", "Cu", "VMName", "VMId", "VMGuid", "ContainerId", "HostName", "SSHConnection" };

        private static bool IsRemote(CommandAst command) =>
            command.CommandElements.OfType<CommandParameterAst>().Any(p =>
                RemoteParameters.Any(r => r.StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase) && p.ParameterName.Length >= 2));

        // -Parallel { } or -Parallel:{ } (any unambiguous abbreviation, -pa at least).
        private static bool IsParallelBlock(CommandAst command, ScriptBlockExpressionAst block)
        {
            static bool IsParallel(CommandParameterAst p) =>
                p.ParameterName.Length >= 2 && "Parallel".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase);
            if (block.Parent is CommandParameterAst own) return IsParallel(own);
            int i = command.CommandElements.IndexOf(block);
            return i > 0 && command.CommandElements[i - 1] is CommandParameterAst p && p.Argument is null && IsParallel(p);
        }
    }
}
