using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Text;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Starts a child pwsh the way the current one was started: the pwsh executable itself, or, under a .NET tool,
    /// "dotnet …/pwsh.dll". The child runs <see cref="Bootstrap"/>, which imports this very module and hands the
    /// request to <see cref="ChildChannel"/>.
    /// </summary>
    internal static class ChildLauncher
    {
        /// <summary>The child's script. Everything the user's script emits (all streams merged) goes to the parent.</summary>
        private const string Bootstrap = @"
$ErrorActionPreference = 'Stop'
Import-Module -Name '{0}'
$__ipcChannel = [IpcPs.Hosting.ChildChannel]::Connect()
$ErrorActionPreference = 'Continue'
try {{
    if ($__ipcChannel.WorkingDirectory) {{ Set-Location -LiteralPath $__ipcChannel.WorkingDirectory }}
    $__ipcScript = [scriptblock]::Create($__ipcChannel.Script)
    $__ipcArgs = $__ipcChannel.Arguments
    if ($__ipcChannel.HasInput) {{
        $__ipcChannel.Input | & $__ipcScript @__ipcArgs *>&1 | ForEach-Object {{ $__ipcChannel.Send($_) }}
    }} else {{
        & $__ipcScript @__ipcArgs *>&1 | ForEach-Object {{ $__ipcChannel.Send($_) }}
    }}
    $__ipcChannel.Finish()
}} catch {{
    $__ipcChannel.SendTerminating($_)
    exit 1
}}
exit 0
";

        public static ProcessStartInfo StartInfo(string modulePath, string workingDirectory)
        {
            var (exe, prefix) = PwshCommand();
            string script = string.Format(Bootstrap, modulePath.Replace("'", "''"));
            string encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes(script));
            return new ProcessStartInfo
            {
                FileName = exe,
                Arguments = prefix + "-NoProfile -NonInteractive -NoLogo -OutputFormat Text -EncodedCommand " + encoded,
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
                WorkingDirectory = workingDirectory,
                CreateNoWindow = true,
            };
        }

        /// <summary>The executable, and the arguments that must come first (the quoted pwsh.dll under dotnet).</summary>
        internal static (string Exe, string Prefix) PwshCommand()
        {
            string exe = Process.GetCurrentProcess().MainModule?.FileName
                ?? throw new InvalidOperationException("Cannot tell which executable runs this PowerShell.");
            string file = Path.GetFileNameWithoutExtension(exe);
            if (!file.Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return (exe, "");
            string dll = Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("PowerShell runs under dotnet, but its pwsh.dll cannot be found.");
            return (exe, "\"" + dll + "\" ");
        }
    }
}
