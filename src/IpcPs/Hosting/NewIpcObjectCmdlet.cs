using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Shared by every New-* cmdlet: an optional -Name, -WhatIf, and one terminating error if creation fails.</summary>
    public abstract class NewIpcObjectCmdlet : IpcCmdlet
    {
        /// <summary>The object's name; generated when omitted.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>What ShouldProcess says is about to happen.</summary>
        protected abstract string Description { get; }

        /// <summary>Makes (or opens) the object.</summary>
        protected abstract IpcObject Create();

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", Description)) return;
            try { WriteObject(Create()); }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is OverflowException) { ThrowIpcError(e, Name); }
        }
    }

    /// <summary>Shared by Set-IpcEvent and Reset-IpcEvent: apply one change to each event, optionally pass it on.</summary>
    public abstract class ChangeIpcEventCmdlet : IpcCmdlet
    {
        /// <summary>The events.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public IpcEvent[] Event { get; set; } = null!;

        /// <summary>Output the events.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected abstract void Change(IpcEvent e);

        protected override void ProcessRecord()
        {
            foreach (var e in Event)
                if (TryIpc(() => Change(e), e) && PassThru) WriteObject(e);
        }
    }
}
