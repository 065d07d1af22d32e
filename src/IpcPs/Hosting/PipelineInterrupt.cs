using System;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Ends a method's wait when the pipeline that called it is stopped. PowerShell stops a pipeline (Ctrl+C, Stop-Job,
    /// PowerShell.Stop, a stopped ForEach-Object -Parallel) by marking it Stopping and calling StopProcessing on its
    /// cmdlets; a .NET method it is inside never hears of it, and a blocked $q.Get() went on waiting — then took a
    /// message the stopped pipeline dropped. The pipeline itself raises StateChanged(Stopping) at once, on the thread
    /// that stops it: this class turns that into a CancellationToken per pipeline, which Core's blocking methods wait
    /// with (<see cref="Core.IIpcHost.Interrupt"/>).
    /// The running pipeline of the calling thread's runspace comes from Runspace.GetCurrentlyRunningPipeline, internal
    /// to System.Management.Automation, and the Pipeline type is not in the PowerShell Standard reference: both are
    /// reached by reflection, once. Where they are missing, methods are not interruptible (as before), never broken.
    /// </summary>
    internal static class PipelineInterrupt
    {
        private static readonly Api? Engine = Api.Find();
        private static readonly ConditionalWeakTable<object, Watcher> Watchers = new ConditionalWeakTable<object, Watcher>();

        /// <summary>The token of the pipeline the calling thread runs; None on a thread that runs none.</summary>
        public static CancellationToken ForCallingThread()
        {
            var api = Engine;
            var runspace = Runspace.DefaultRunspace;   // thread-static: the runspace whose pipeline runs on this thread
            if (api is null || runspace is null) return CancellationToken.None;
            object? pipeline;
            try { pipeline = api.CurrentPipeline(runspace); }
            catch (Exception) { return CancellationToken.None; }   // a runspace being torn down
            return pipeline is null ? CancellationToken.None : Watchers.GetValue(pipeline, p => new Watcher(api, p)).Token;
        }

        /// <summary>The engine members used, found once.</summary>
        private sealed class Api
        {
            public Func<Runspace, object?> CurrentPipeline = null!;
            public EventInfo StateChanged = null!;
            public PropertyInfo PipelineStateInfo = null!;   // of Pipeline, and of PipelineStateEventArgs
            public PropertyInfo EventStateInfo = null!;
            public PropertyInfo State = null!;               // of PipelineStateInfo

            public static Api? Find()
            {
                try
                {
                    var sma = typeof(Runspace).Assembly;
                    var pipeline = sma.GetType("System.Management.Automation.Runspaces.Pipeline");
                    var args = sma.GetType("System.Management.Automation.Runspaces.PipelineStateEventArgs");
                    var info = sma.GetType("System.Management.Automation.Runspaces.PipelineStateInfo");
                    var method = typeof(Runspace).GetMethod("GetCurrentlyRunningPipeline", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public,
                        null, Type.EmptyTypes, null);
                    if (pipeline is null || args is null || info is null || method is null || method.ReturnType != pipeline) return null;
                    var api = new Api
                    {
                        CurrentPipeline = Bind(method),
                        StateChanged = pipeline.GetEvent("StateChanged")!,
                        PipelineStateInfo = pipeline.GetProperty("PipelineStateInfo")!,
                        EventStateInfo = args.GetProperty("PipelineStateInfo")!,
                        State = info.GetProperty("State")!,
                    };
                    return api.StateChanged is null || api.PipelineStateInfo is null || api.EventStateInfo is null || api.State is null ? null : api;
                }
                catch (Exception) { return null; }
            }

            /// <summary>
            /// An open-instance delegate (virtual dispatch, return type widened to object), a plain call per use; a
            /// reflected Invoke where the runtime refuses to bind it.
            /// </summary>
            private static Func<Runspace, object?> Bind(MethodInfo method)
            {
                try { return (Func<Runspace, object?>)Delegate.CreateDelegate(typeof(Func<Runspace, object?>), null, method); }
                catch (ArgumentException) { return r => method.Invoke(r, null); }
            }

            /// <summary>The state's name (Running, Stopping, Stopped, Completed, Failed…).</summary>
            public string StateOf(object stateInfo) => State.GetValue(stateInfo)?.ToString() ?? "";
        }

        /// <summary>One per pipeline: cancelled when it starts stopping (or has ended otherwise than completed).</summary>
        private sealed class Watcher
        {
            private readonly CancellationTokenSource _stop = new CancellationTokenSource();
            private readonly Api _api;
            private readonly object _pipeline;
            private readonly Delegate _handler;
            private int _subscribed;

            public Watcher(Api api, object pipeline)
            {
                _api = api;
                _pipeline = pipeline;
                // EventHandler<PipelineStateEventArgs>, bound to OnStateChanged(object, EventArgs) (parameters are contravariant).
                _handler = Delegate.CreateDelegate(api.StateChanged.EventHandlerType!, this, Handler);
                api.StateChanged.AddEventHandler(pipeline, _handler);
                _subscribed = 1;
                // Subscribed first, then read: a stop between the two is seen by one of them.
                if (Ends(api.StateOf(api.PipelineStateInfo.GetValue(pipeline)!))) Cancel();
            }

            public CancellationToken Token => _stop.Token;

            private static readonly MethodInfo Handler = typeof(Watcher).GetMethod(nameof(OnStateChanged), BindingFlags.Instance | BindingFlags.NonPublic)!;

            private void OnStateChanged(object sender, EventArgs e)
            {
                string state = _api.StateOf(_api.EventStateInfo.GetValue(e)!);
                if (Ends(state)) Cancel();
                else if (state == "Completed") Unsubscribe();
            }

            private static bool Ends(string state) => state == "Stopping" || state == "Stopped" || state == "Failed";

            private void Cancel()
            {
                Unsubscribe();
                try { _stop.Cancel(); }
                catch (AggregateException) { /* a waiter's wake-up callback failed: the waiter still sees the token */ }
            }

            private void Unsubscribe()
            {
                if (Interlocked.Exchange(ref _subscribed, 0) == 1) _api.StateChanged.RemoveEventHandler(_pipeline, _handler);
            }
        }
    }
}
