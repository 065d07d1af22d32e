using System;
using System.Collections;
using System.IO;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>The parameters and start-up shared by Start-IpcManager and Use-IpcManager.</summary>
    public abstract class ManagerStartCmdlet : IpcCmdlet
    {
        /// <summary>A name for the manager's Unix socket directory, so Connect-IpcManager -Name finds it (default: random).</summary>
        [Parameter]
        public string? Name { get; set; }

        /// <summary>host:port to listen on TCP instead of a Unix socket (port 0: any free port; see the manager's Address).</summary>
        [Parameter]
        public string? Address { get; set; }

        /// <summary>The auth key (a string, taken as UTF-8, or bytes; at least 16 bytes with -Address). Default: 32 random bytes.</summary>
        [Parameter]
        public object? AuthKey { get; set; }

        /// <summary>Runs in the manager process before it serves: define the PowerShell classes you register here.</summary>
        [Parameter]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>Modules (names or paths) the manager process imports before it serves.</summary>
        [Parameter]
        public string[] Module { get; set; } = Array.Empty<string>();

        /// <summary>
        /// Custom types: type id = a type ([MathsClass], [System.Text.StringBuilder]) or its name, or
        /// @{ Type = …; Exposed = 'Add', 'Mul' }. $m.TypeId(args) then makes an instance in the manager.
        /// </summary>
        [Parameter]
        public Hashtable? Register { get; set; }

        /// <summary>Keep the manager running after this session ends (stop it with Stop-IpcManager).</summary>
        [Parameter]
        public SwitchParameter Detach { get; set; }

        /// <summary>Starts a new pwsh even when a warm spare is waiting (see about_IpcPs: IPCPS_SPARES).</summary>
        [Parameter]
        public SwitchParameter NoSpare { get; set; }

        /// <summary>How long the manager process may take to start. Default 60 seconds.</summary>
        [Parameter, IpcTimeoutTransformation]
        public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

        private protected IpcManager StartManager()
        {
            if (Name != null && Address != null)
                ThrowIpcError(new ArgumentException("Give -Name (a Unix socket) or -Address (TCP), not both."), Name);
            byte[] key;
            try
            {
                key = AuthKey is null ? Core.Managers.ManagerAuth.NewKey() : ManagerKeys.From(AuthKey);
                ManagerKeys.CheckForAddress(key, Address);
            }
            catch (ArgumentException e) { ThrowIpcError(e, Name ?? Address); throw; }
            string module = Path.Combine(MyInvocation.MyCommand.Module?.ModuleBase ?? Path.GetDirectoryName(typeof(IpcObject).Assembly.Location)!, "IpcPs.psd1");
            try
            {
                return ManagerLauncher.Start(module, Address, Name, key, InitializationScript?.ToString(), Module,
                    ManagerKeys.Registrations(Register), Detach, NoSpare, StartTimeout, StopToken);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is InvalidOperationException || e is IOException)
            {
                ThrowTerminatingError(ErrorRecords.From(e is InvalidOperationException ? new ManagerStartException(e.Message) : e, Name ?? Address));
                throw;
            }
        }
    }
}
