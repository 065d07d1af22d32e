namespace IpcPs.WinPwsh
{
    /// <summary>pwsh.exe: PowerShell's console host, as the real pwsh.exe starts it (no banner text, default help).</summary>
    public static class Program
    {
        public static int Main(string[] args) => Microsoft.PowerShell.ConsoleShell.Start(null, null, args);
    }
}
