using System;
using System.IO;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Paths for the Win32 file calls IpcPs makes itself (CreateFile, CreateDirectory, FILE_RENAME_INFO's target).
    /// Without LongPathsEnabled (off by default) Windows refuses a plain path of MAX_PATH (260) characters or more
    /// (CreateDirectory: 248), and the registry's record paths, <c>%LOCALAPPDATA%\IpcPs\objects\session-N\NAME</c> with
    /// NAME up to 255 characters, pass it. An extended-length path (<c>\\?\C:\…</c>, <c>\\?\UNC\server\share\…</c>)
    /// goes to the file system as it is, up to ~32,767 characters, whatever that setting. "As it is" means without
    /// Win32's normalisation ('/' to '\', '.' and '..' resolved, trailing dots and spaces dropped), so the path is made
    /// full and normalised first. .NET's own System.IO calls do this themselves: only raw P/Invoke needs it.
    /// </summary>
    internal static class ExtendedPath
    {
        public const int MaxPath = 260;

        /// <summary>PATH as an extended-length path: full, normalised, with the \\?\ (or \\?\UNC\) prefix.</summary>
        public static string Of(string path)
        {
            string full = Path.GetFullPath(path);   // absolute, backslashes only, no '.' or '..'
            if (full.StartsWith(@"\\?\", StringComparison.Ordinal) || full.StartsWith(@"\\.\", StringComparison.Ordinal)) return full;
            if (full.StartsWith(@"\\", StringComparison.Ordinal)) return @"\\?\UNC\" + full.Substring(2);
            return @"\\?\" + full;
        }

        /// <summary>PATH quoted for an error message, with its length when it is past MAX_PATH (the extended path IpcPs opens
        /// has no such limit, but a tool the user reaches for next, such as Explorer, may).</summary>
        public static string Describe(string path) =>
            path.Length >= MaxPath ? $"'{path}' ({path.Length} characters)" : $"'{path}'";
    }
}
