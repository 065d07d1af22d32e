using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On an action cmdlet's -Name: a handle that reached it is of a kind the command does not work on (a handle of
    /// the right kind binds to the command's object parameter first, before any conversion). Without this, PowerShell
    /// converted the handle to its display text ("Lock('deploy', unlocked)") and the command failed on that as an
    /// invalid name. The error says what the handle is: "'deploy' is a Lock, not an event." (as opening it by name
    /// would). A handle of the right kind here came in an array to a parameter that takes one.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class NameArgumentTransformationAttribute : ArgumentTransformationAttribute
    {
        private readonly Type _kind;
        private readonly string _what;

        /// <param name="kind">The type of the command's object parameter (IIpcEvent, ILockable…).</param>
        /// <param name="what">What the command works on, as its kind errors say it ("an event").</param>
        public NameArgumentTransformationAttribute(Type kind, string what)
        {
            _kind = kind;
            _what = what;
        }

        /// <summary>
        /// The object parameter takes several (Set-IpcEvent's -Event): handles of the right kind in an array pass here
        /// untouched, for the binder's next try (PowerShell binds IpcEvent[] to IIpcEvent[] only with conversion, after
        /// it has tried -Name).
        /// </summary>
        public bool ObjectParameterTakesMany { get; set; }

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            // Only an array (what `a, b` makes) is looked into: another collection given here (a manager's list, a Redis
            // hash) is not enumerated, which could fetch all of it.
            if (value is Array items)
            {
                foreach (var item in items) Check(item is PSObject p ? p.BaseObject : item, inArray: true);
            }
            else Check(value, inArray: false);
            return inputData;
        }

        private static bool IsHandle(object? value) => value is IpcObject || value is IIpcBackendObject;

        private void Check(object? value, bool inArray)
        {
            string name, kind, where = "";
            switch (value)
            {
                case IpcObject local: name = local.Name; kind = local.Kind.ToString(); break;
                case IIpcBackendObject remote: name = remote.Name; kind = remote.Kind.ToString(); where = $" at {remote.Backend.Address}"; break;
                default: return;
            }
            if (_kind.IsInstanceOfType(value))
            {
                if (inArray && !ObjectParameterTakesMany) throw new ArgumentTransformationMetadataException($"'{name}'{where} is {_what}, but this command takes one at a time here: give one, or pipe several.");
                return;
            }
            throw new ArgumentTransformationMetadataException($"'{name}'{where} is a {kind}, not {_what}.");
        }
    }
}
