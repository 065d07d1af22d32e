using System;
using System.Globalization;
using System.Management.Automation.Host;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The host of the runspace a child runs the user's script in (Start-IpcProcess, pool workers). It has no UI:
    /// every stream, progress included, goes to the PowerShell instance's collections and from there to the parent.
    /// Its one job is to catch <c>exit n</c>, which a runspace reports only to its host.
    /// </summary>
    internal sealed class ChildHost : PSHost
    {
        private readonly Guid _id = Guid.NewGuid();

        /// <summary>The code the script passed to <c>exit</c>; null while it has not called exit.</summary>
        public int? ExitCode { get; set; }

        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
        public override Guid InstanceId => _id;
        public override string Name => "IpcPsChild";
        public override PSHostUserInterface? UI => null;
        public override Version Version => typeof(ChildHost).Assembly.GetName().Version ?? new Version(1, 0);
        public override void EnterNestedPrompt() => throw new NotSupportedException("A child process has no prompt.");
        public override void ExitNestedPrompt() => throw new NotSupportedException("A child process has no prompt.");
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    }
}
