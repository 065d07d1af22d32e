using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Threading;
using IpcPs.Core.Managers;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The manager process's registered custom types (PowerShell classes from -InitializationScript, .NET types).
    /// Every construction and call runs on the manager's pipeline thread, the one that owns its runspace: PowerShell
    /// class methods must run there. Connection threads post work and wait for it. Only exposed methods are callable.
    /// </summary>
    internal sealed class ManagerTypeHost : IManagerTypeHost
    {
        private readonly Dictionary<string, (Type Type, HashSet<string> Exposed)> _types =
            new Dictionary<string, (Type, HashSet<string>)>(StringComparer.OrdinalIgnoreCase);
        private readonly BlockingCollection<Action> _work = new BlockingCollection<Action>();
        private readonly ScriptBlock _construct = ScriptBlock.Create("param($t, [object[]] $a) $t::new.Invoke($a)");

        public IReadOnlyCollection<string> TypeIds => _types.Keys.ToArray();

        /// <summary>Registers TYPE as TYPEID, exposing EXPOSED (default: its public methods, not Object's, not hidden or _-named).</summary>
        public void Register(string typeId, Type type, string[]? exposed)
        {
            var names = exposed != null && exposed.Length > 0 ? exposed : DefaultExposed(type);
            _types[typeId] = (type, new HashSet<string>(names, StringComparer.OrdinalIgnoreCase));
        }

        internal static string[] DefaultExposed(Type type) => type
            .GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.DeclaringType != typeof(object) && !m.IsSpecialName && !m.Name.StartsWith("_", StringComparison.Ordinal)
                && !m.IsDefined(typeof(HiddenAttribute), true))
            .Select(m => m.Name).Distinct().ToArray();

        public object Create(string typeId, object?[] args)
        {
            var (type, _) = _types[typeId];
            return OnPipelineThread(() =>
            {
                var result = _construct.Invoke(type, args);
                return result.Count == 1 ? result[0].BaseObject : throw new InvalidOperationException($"Constructing '{typeId}' gave no object.");
            })!;
        }

        public object? Invoke(object instance, string typeId, string method, object?[] args)
        {
            if (!_types[typeId].Exposed.Contains(method))
                throw new MissingMethodException($"'{typeId}' does not expose '{method}'; exposed: {string.Join(", ", _types[typeId].Exposed.OrderBy(n => n))}.");
            return OnPipelineThread(() =>
            {
                var m = PSObject.AsPSObject(instance).Methods[method] ?? throw new MissingMethodException($"'{typeId}' has no method '{method}'.");
                var result = m.Invoke(args);
                return result is PSObject pso && !(pso.BaseObject is PSCustomObject) ? pso.BaseObject : result;
            });
        }

        private object? OnPipelineThread(Func<object?> f)
        {
            object? result = null;
            Exception? error = null;
            using (var done = new ManualResetEventSlim())
            {
                try
                {
                    _work.Add(() =>
                    {
                        try { result = f(); }
                        catch (Exception e) { error = e is MethodInvocationException mi && mi.InnerException != null ? mi.InnerException : e; }
                        finally { done.Set(); }
                    });
                }
                catch (InvalidOperationException) { throw new ObjectDisposedException(null, "The manager is shutting down."); }
                done.Wait();
            }
            if (error is RuntimeException re && re.InnerException != null && !(re is MethodException)) error = re.InnerException;
            if (error != null) throw new InvalidOperationException(error.Message, error);
            return result;
        }

        /// <summary>Runs posted work on the calling (pipeline) thread until STOPPED is set.</summary>
        public void Pump(WaitHandle stopped)
        {
            var stop = new CancellationTokenSource();
            ThreadPool.RegisterWaitForSingleObject(stopped, (_, __) => stop.Cancel(), null, -1, true);
            try
            {
                foreach (var item in _work.GetConsumingEnumerable(stop.Token)) item();
            }
            catch (OperationCanceledException) { }
            _work.CompleteAdding();
            while (_work.TryTake(out var late)) late();
        }
    }
}
