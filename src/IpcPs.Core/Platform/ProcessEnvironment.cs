using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform
{
    /// <summary>
    /// The process's environment as every reader in it sees it. .NET on Unix keeps a copy of its own, taken at start-up,
    /// and Environment.SetEnvironmentVariable changes only that copy: native code (getenv: OpenSSL's SSL_CERT_FILE,
    /// Kerberos, ODBC, any P/Invoke library) goes on reading libc's. <see cref="Set"/> changes both. Windows has one
    /// environment, the process's block, which .NET's call changes.
    /// <para>Invariant: libc's setenv is not thread-safe against a getenv on another thread, so callers change the
    /// environment only where no other thread of theirs runs (a spare child once its request is read, its warm-up
    /// thread joined). The runtime itself reads its own copy (the PAL's), never libc's.</para>
    /// </summary>
    internal static class ProcessEnvironment
    {
        private static readonly bool Unix = !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>
        /// Sets NAME to VALUE (null: removes it) for managed and native readers alike; throws
        /// <see cref="IpcPlatformException"/> if libc refuses. An empty VALUE stays empty natively, as in a process
        /// started with it (.NET's own copy removes the variable: its rule, not ours).
        /// </summary>
        public static void Set(string name, string? value)
        {
            Environment.SetEnvironmentVariable(name, value);
            if (Unix) Linux.Posix.SetEnvironment(name, value);
        }
    }
}
