using System.Collections.Generic;
using System.Dynamic;
using System.Linq;

namespace IpcPs
{
    /// <summary>
    /// A namespace that lives in a manager (CPython's NamespaceProxy): $ns.x = 1 stores the attribute in the manager,
    /// $ns.x reads it back (an unknown attribute is an error, as in Python). Names ignore case.
    /// </summary>
    public sealed class ManagedNamespace : DynamicObject, IManagedProxy, IReprWriter
    {
        private readonly ManagerReference _reference;

        internal ManagedNamespace(ManagerReference reference) => _reference = reference;

        ManagerReference IManagedProxy.Reference => _reference;

        public override bool TryGetMember(GetMemberBinder binder, out object? result)
        {
            result = _reference.Call("Get", binder.Name);
            return true;
        }

        public override bool TrySetMember(SetMemberBinder binder, object? value)
        {
            _reference.Call("Set", binder.Name, value);
            return true;
        }

        public override IEnumerable<string> GetDynamicMemberNames() => Items().Keys;

        /// <summary>Every attribute and its value, taken in one call.</summary>
        public Dictionary<string, object?> Items()
        {
            var items = Core.Managers.ManagerReply.Pairs<string>(_reference.Call("Items"), "Items", _reference.Address);
            int n = items.Length / 2;
            var d = new Dictionary<string, object?>(System.StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < n; i++) d[(string)items[i]!] = items[n + i];
            return d;
        }

        /// <summary>Deletes an attribute (del ns.x); true if it existed.</summary>
        public bool Remove(string name) => _reference.Call<bool>("Remove", name);

        /// <summary>Namespace(x=1, y='a'), as CPython prints one (bounded: see PyRepr).</summary>
        public override string ToString() => PyRepr.Of(this);

        void IReprWriter.WriteRepr(PyRepr repr) =>
            repr.WriteSequence("Namespace(", Items(), e => { repr.Text(e.Key + "="); repr.Write(e.Value); }, ")");

        string IReprWriter.CycleText => "Namespace(...)";
    }

    /// <summary>
    /// A proxy for an instance of a registered custom type: $p.Member(args) calls that member in the manager process
    /// (if the registration exposes it) and returns its result. Nothing but the member's name and the arguments travel.
    /// </summary>
    public sealed class ManagedObject : DynamicObject, IManagedProxy
    {
        private readonly ManagerReference _reference;

        internal ManagedObject(ManagerReference reference) => _reference = reference;

        ManagerReference IManagedProxy.Reference => _reference;

        /// <summary>The registered type id (e.g. Maths).</summary>
        public string TypeId => _reference.TypeId;

        public override bool TryInvokeMember(InvokeMemberBinder binder, object?[] args, out object? result)
        {
            if (binder.Name == nameof(ToString) || binder.Name == nameof(GetType) || binder.Name == nameof(GetHashCode) || binder.Name == nameof(Equals))
            {
                result = null;
                return false;
            }
            result = Invoke(binder.Name, args);
            return true;
        }

        /// <summary>Calls the exposed member NAME with ARGS in the manager.</summary>
        public object? Invoke(string name, params object?[] args) => _reference.Call(name, args);

        public override string ToString() => $"<{_reference.TypeId} proxy {_reference.Id} at {_reference.Address}>";
    }
}
