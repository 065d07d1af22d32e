using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Shared by every New-* cmdlet: an optional -Name, -WhatIf, and one terminating error if creation fails.</summary>
    public abstract class NewIpcObjectCmdlet : IpcCmdlet
    {
        /// <summary>The object's name; generated when omitted. A number given here is refused (<see cref="NumberIsNotANameAttribute"/>).</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [NumberIsNotAName]
        public string? Name { get; set; }

        /// <summary>What ShouldProcess says is about to happen.</summary>
        protected abstract string Description { get; }

        /// <summary>Makes (or opens) the object.</summary>
        protected abstract IpcObject Create();

        /// <summary>What is output: the local object (<see cref="Create"/>), or a backend's (NewBackendObjectCmdlet).</summary>
        protected virtual object CreateObject() => Create();

        /// <summary>The kind of the object NAME that is already there, for the duplicate-name error ("" when unknown).</summary>
        protected virtual string ExistingKind(string name)
        {
            try { return $" (a {IpcObjects.Get(name).Kind})"; }
            catch (Exception other) when (other is IpcException || other is ArgumentException) { return ""; /* gone again, or not ours */ }
        }

        protected override void EndProcessing()
        {
            if (!ShouldProcess(Name ?? "(generated name)", Description)) return;
            try { WriteObject(CreateObject()); }
            catch (IpcObjectExistsException e) { ThrowTerminatingError(Exists(e)); }
            catch (Exception e) when (e is IpcException || e is ArgumentException || e is OverflowException) { ThrowIpcError(e, Name); }
        }

        /// <summary>The duplicate-name error, saying how to open what is there: -OpenOrCreate where this cmdlet has it.</summary>
        private ErrorRecord Exists(IpcObjectExistsException e)
        {
            string name = e.ObjectName ?? Name ?? "";
            string kind = ExistingKind(name);
            string how = MyInvocation.MyCommand.Parameters.ContainsKey("OpenOrCreate")
                ? $"Add -OpenOrCreate to open it (or create it if it is gone), or choose another name."
                : $"Open it with Get-IpcObject -Name '{name}' -Open, or choose another name.";
            var record = ErrorRecords.From(e, Name);
            record.ErrorDetails = new ErrorDetails($"An IPC object named '{name}' already exists{kind}. {how}");
            return record;
        }
    }
}
