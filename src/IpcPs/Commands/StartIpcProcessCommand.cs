using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using IpcPs.Hosting;

namespace IpcPs.Commands
{
    /// <summary>
    /// Runs a script block in a new child pwsh process and returns it as a job. Arguments bind to the script's
    /// param(), pipeline input arrives as $input, $using: variables are read here, and IPC handles among all of them
    /// arrive re-attached.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "IpcProcess")]
    [OutputType(typeof(IpcProcessJob))]
    public sealed class StartIpcProcessCommand : IpcCmdlet
    {
        private readonly List<object?> _input = new List<object?>();

        /// <summary>The script the child runs.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>Values for the script's parameters, in order.</summary>
        [Parameter(Position = 1)]
        [HandleArgumentTransformation]
        [Alias("Args")]
        public object?[]? ArgumentList { get; set; }

        /// <summary>Pipeline input; the child's script reads it from $input.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The job's name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>The child's working folder; the current file-system location when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WorkingDirectory { get; set; }

        /// <summary>Runs in the child before the script, in the same scope (functions it defines stay defined).</summary>
        [Parameter]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>The child outlives this session: it is not stopped when this pwsh ends.</summary>
        [Parameter]
        public SwitchParameter Detached { get; set; }

        /// <summary>How deep arguments, input and results are serialized (PSSerializer depth). Default 2.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int Depth { get; set; } = 2;

        /// <summary>Starts a new pwsh even when a warm spare is waiting (see about_IpcPs: IPCPS_SPARES).</summary>
        [Parameter]
        public SwitchParameter NoSpare { get; set; }

        protected override void ProcessRecord()
        {
            if (MyInvocation.ExpectingInput) _input.Add(InputObject);
        }

        protected override void EndProcessing()
        {
            string folder = WorkingDirectory is null
                ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : GetUnresolvedProviderPathFromPSPath(WorkingDirectory);
            if (!Directory.Exists(folder))
                ThrowIpcError(new DirectoryNotFoundException($"The working directory '{folder}' does not exist."), WorkingDirectory);

            string script = "";
            string? init = null;
            Hashtable usingValues = new Hashtable();
            try
            {
                (script, usingValues) = UsingVariables.Capture(ScriptBlock, SessionState);
                if (InitializationScript != null)
                {
                    Hashtable more;
                    (init, more) = UsingVariables.Capture(InitializationScript, SessionState);
                    foreach (DictionaryEntry e in more) usingValues[e.Key] = e.Value;
                }
            }
            catch (ArgumentException e) { ThrowIpcError(e, ScriptBlock); }
            var passed = IpcObjectConverter.FindHandles(ArgumentList).Concat(IpcObjectConverter.FindHandles(_input))
                .Concat(IpcObjectConverter.FindHandles(usingValues)).ToList();
            var retained = new List<IpcObject>();
            try
            {
                // The job holds every handle it passes until the child ends, so a parent that closes its own
                // handles at once cannot destroy an object the child has not attached yet.
                foreach (var handle in passed)
                    retained.Add(handle is IpcConnection c ? IpcConnection.OpenWithoutHold(c.Name, c.End) : IpcObjects.Open(handle.Name, handle.Kind));
            }
            catch (Exception e) when (e is IpcException || e is ArgumentException)
            {
                foreach (var h in retained) h.Close();
                ThrowIpcError(e, ArgumentList);
            }

            var request = new Hashtable
            {
                ["Script"] = script,
                ["InitializationScript"] = init,
                ["Using"] = IpcObjectConverter.Dehydrate(usingValues),
                ["Detached"] = Detached.IsPresent,
                ["Arguments"] = IpcObjectConverter.Dehydrate(ArgumentList ?? Array.Empty<object?>()),
                ["Input"] = IpcObjectConverter.Dehydrate(_input),
                ["HasInput"] = MyInvocation.ExpectingInput,
                ["WorkingDirectory"] = folder,
                ["Depth"] = Depth,
                ["ManagerKeys"] = ManagerKeys.ForChild(),
            };
            string module = ChildLauncher.ModuleManifest(this);
            var job = new IpcProcessJob(ScriptBlock.ToString(), Name, retained);
            SpareChild? spare = null;
            try
            {
                // The spare's replacement boots once this job has ended (or a second has passed): not beside it.
                // A detached child in a Windows job object starts cold, out of the job: a spare was started in it.
                spare = NoSpare || (Detached && ChildLauncher.InJob()) ? null
                    : SpareChildren.Take(module, readyOnly: Detached.IsPresent, replenishWhen: job.Finished, folder: folder);
                // A warm spare was started earlier: it takes what changed in this process's environment since.
                if (spare != null) request["EnvironmentChanges"] = spare.EnvironmentChanges();
                string text;
                try { text = ChildProtocol.EncodeRequest(request, Depth); }
                catch (Exception) when (spare != null)
                {
                    SpareChildren.Discard(spare);   // taken, and nothing to give it
                    throw;
                }
                if (spare != null) job.Start(spare.Process, text, spare.Output, spare.FirstLine);
                else job.Start(ChildLauncher.StartInfo(module, folder, outOfTree: Detached.IsPresent), text, outlives: Detached.IsPresent);
                if (Detached) job.WaitOutOfTree();
            }
            catch (Exception e) when (!(e is PipelineStoppedException))
            {
                foreach (var h in retained) h.Close();
                // An operating-system failure (no descriptor left) keeps its own id, IpcPlatformError, as does a detached start
                // that a Windows job object would end (IpcNotSupported); anything else is the child's.
                ThrowTerminatingError(e is IpcPlatformException || e is IpcNotSupportedException ? ErrorRecords.From(e, ScriptBlock)
                    : new ErrorRecord(e, ErrorRecords.ChildProcessFailed, ErrorCategory.OpenError, ScriptBlock));
            }
            // A pipe end passed to the child is handed over: the child holds it from now on, even before it attaches.
            // This process holds it too while its handle is open: the other end sees the end of the stream once the
            // child has ended and this process has closed its copy (or ended), never while a holder remains.
            foreach (var end in passed.OfType<IpcConnection>())
                TryIpc(() => end.HandOver(job.Pid), end);
            // Windows: created to leave this session's job, yet an enclosing job that refuses that kept it (nested jobs).
            if (Detached && Hosting.WindowsChildProcess.TakeKeptInJob(job.Pid))
                WriteWarning($"The detached child process {job.Pid} is still in a Windows job object: an enclosing job of this session's "
                    + "does not allow its processes to leave it (no JOB_OBJECT_LIMIT_BREAKAWAY_OK), and the child ends when that job ends its processes.");
            job.AddTo(JobRepository);
            WriteObject(job);
        }
    }
}
