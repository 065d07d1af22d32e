using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The fast path of the codec for [pscustomobject] (docs/design.md, "Fast objects"). PowerShell's public way to read
    /// an object's properties (<c>PSObject.Properties</c>) merges, for every enumeration, the instance members with the
    /// members the type table gives the object's type names and with the adapter's, through the thread's execution
    /// context: microseconds for four note properties. A custom object whose type names get nothing from the type
    /// table has exactly its visible instance members as properties, so these are read directly (PowerShell's own
    /// internal members, reached once through compiled expressions; hidden members are skipped, as the enumeration
    /// skips them); whether the type table gives anything is asked of the table itself every time (its own cached
    /// lookup), so an Update-TypeData is seen at once. Building an object on decode makes it with its member
    /// collection (PSObject(int)), sets its type names to one shared read-only list per distinct list (PowerShell
    /// copies such a list before changing it, as it does for the shared lists of its own objects) and puts the note
    /// properties, validated here (the names PowerShell would refuse are refused here), straight into the instance
    /// members, telling PowerShell's binders of each name as Properties.Add would. Anything these conditions do not
    /// cover — another PowerShell whose internals differ, a script, alias or code property, a type-table member —
    /// takes PowerShell's public path, which gives the same result more slowly.
    /// </summary>
    internal static class CustomObjects
    {
        private const BindingFlags Internal = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

        private static readonly Func<PSObject, object?>? InstanceMembers, InternalTypeNames, TypeTableOf;
        private static readonly Func<object, OrderedDictionary?>? MembersOf;
        private static readonly Func<object, object, int>? TypeTableMemberCount;
        private static readonly Func<PSMemberInfo, bool>? IsHidden;
        private static readonly Action<PSObject, object>? SetTypeNames;
        private static readonly Func<IEnumerable<string>, object>? NewSharedTypeNames;

        /// <summary>Whether this PowerShell has the internals the fast path reads (else it is never taken).</summary>
        public static readonly bool Available;

        /// <summary>Why the fast path is not available (null when it is).</summary>
        public static readonly string? Unavailable;

        static CustomObjects()
        {
            try
            {
                var ps = typeof(PSObject);
                var instance = ps.GetProperty("InstanceMembers", Internal);
                var typeNames = ps.GetProperty("InternalTypeNames", Internal);
                var typeTable = ps.GetMethod("GetTypeTable", Internal, null, Type.EmptyTypes, null);
                var collection = instance?.PropertyType;
                var members = collection?.GetField("_members", Internal);
                var consolidated = typeNames?.PropertyType;
                MethodInfo? getMembers = null;
                foreach (var m in typeTable?.ReturnType.GetMethods(Internal) ?? Array.Empty<MethodInfo>())
                    if (m.Name == "GetMembers" && !m.IsGenericMethodDefinition && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType == consolidated)
                        getMembers = m;
                var count = getMembers?.ReturnType.GetProperty("Count", Internal);
                var isHidden = typeof(PSMemberInfo).GetProperty("IsHidden", Internal);
                var ctor = consolidated?.GetConstructor(Internal, null, new[] { typeof(IEnumerable<string>), typeof(bool) }, null);
                if (instance is null || typeNames?.SetMethod is null || typeTable is null || members is null || members.FieldType != typeof(OrderedDictionary)
                    || isHidden?.PropertyType != typeof(bool) || consolidated is null || getMembers is null || count is null || ctor is null)
                {
                    Unavailable = "a member it reads is missing";
                    return;
                }

                var pso = Expression.Parameter(typeof(PSObject), "pso");
                InstanceMembers = Expression.Lambda<Func<PSObject, object?>>(Expression.Convert(Expression.Property(pso, instance), typeof(object)), pso).Compile();
                InternalTypeNames = Expression.Lambda<Func<PSObject, object?>>(Expression.Convert(Expression.Property(pso, typeNames), typeof(object)), pso).Compile();
                TypeTableOf = Expression.Lambda<Func<PSObject, object?>>(Expression.Convert(Expression.Call(pso, typeTable), typeof(object)), pso).Compile();
                var coll = Expression.Parameter(typeof(object), "collection");
                MembersOf = Expression.Lambda<Func<object, OrderedDictionary?>>(Expression.Field(Expression.Convert(coll, collection!), members), coll).Compile();
                var table = Expression.Parameter(typeof(object), "table");
                var names = Expression.Parameter(typeof(object), "names");
                TypeTableMemberCount = Expression.Lambda<Func<object, object, int>>(
                    Expression.Property(Expression.Call(Expression.Convert(table, typeTable.ReturnType), getMembers, Expression.Convert(names, consolidated)), count),
                    table, names).Compile();
                var info = Expression.Parameter(typeof(PSMemberInfo), "member");
                IsHidden = Expression.Lambda<Func<PSMemberInfo, bool>>(Expression.Property(info, isHidden!), info).Compile();
                var value = Expression.Parameter(typeof(object), "value");
                SetTypeNames = Expression.Lambda<Action<PSObject, object>>(Expression.Assign(Expression.Property(pso, typeNames), Expression.Convert(value, consolidated)), pso, value).Compile();
                var strings = Expression.Parameter(typeof(IEnumerable<string>), "strings");
                NewSharedTypeNames = Expression.Lambda<Func<IEnumerable<string>, object>>(Expression.Convert(Expression.New(ctor, strings, Expression.Constant(true)), typeof(object)), strings).Compile();
                Available = true;
                if (MakeDirect(collection!, out var newWithCapacity, out var addInstance, out var replicateInstance, out var setHasInstance))
                {
                    NewWithCapacity = newWithCapacity;
                    AddInstanceMember = addInstance;
                    ReplicateInstance = replicateInstance;
                    SetHasInstanceMember = setHasInstance;
                    Direct = true;
                }
            }
            catch (Exception e) { Unavailable = e.Message; }   // another PowerShell: the public path serves
        }

        // Building a bag directly (docs/design.md, "Fast objects"): PSObject(int) makes the object with its member
        // collection (PSObject() finds it, on the first property, in a process-wide ConditionalWeakTable); a note property
        // goes straight into that collection, as PSObject.Properties.Add puts its copy there once it has checked it (the
        // checks are made here: AddProperties), and each name is told once to PowerShell's member binders
        // (PSGetMemberBinder.SetHasInstanceMember, which Properties.Add calls on every add: a flag that, once set for a
        // name, stays set).
        private static readonly Func<int, PSObject>? NewWithCapacity;
        private static readonly Action<object, PSMemberInfo>? AddInstanceMember;
        private static readonly Action<PSMemberInfo, object>? ReplicateInstance;
        private static readonly Action<string>? SetHasInstanceMember;

        /// <summary>Whether bags are built directly (else through Properties.Add, pre-validated).</summary>
        public static readonly bool Direct;

        private static bool MakeDirect(Type collection, out Func<int, PSObject>? newWithCapacity, out Action<object, PSMemberInfo>? addInstance,
            out Action<PSMemberInfo, object>? replicateInstance, out Action<string>? setHasInstance)
        {
            newWithCapacity = null;
            addInstance = null;
            replicateInstance = null;
            setHasInstance = null;
            var withCapacity = typeof(PSObject).GetConstructor(new[] { typeof(int) });
            var add = collection.GetMethod("Add", Internal, null, new[] { typeof(PSMemberInfo), typeof(bool) }, null);
            var replicate = typeof(PSMemberInfo).GetMethod("ReplicateInstance", Internal, null, new[] { typeof(object) }, null);
            var binder = typeof(PSObject).Assembly.GetType("System.Management.Automation.Language.PSGetMemberBinder");
            var setHas = binder?.GetMethod("SetHasInstanceMember", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, null, new[] { typeof(string) }, null);
            if (withCapacity is null || add is null || replicate is null || setHas is null) return false;
            var capacity = Expression.Parameter(typeof(int), "capacity");
            var coll = Expression.Parameter(typeof(object), "collection");
            var member = Expression.Parameter(typeof(PSMemberInfo), "member");
            var owner = Expression.Parameter(typeof(object), "owner");
            var name = Expression.Parameter(typeof(string), "name");
            newWithCapacity = Expression.Lambda<Func<int, PSObject>>(Expression.New(withCapacity, capacity), capacity).Compile();
            addInstance = Expression.Lambda<Action<object, PSMemberInfo>>(Expression.Call(Expression.Convert(coll, collection), add, member, Expression.Constant(true)), coll, member).Compile();
            replicateInstance = Expression.Lambda<Action<PSMemberInfo, object>>(Expression.Call(member, replicate, owner), member, owner).Compile();
            setHasInstance = Expression.Lambda<Action<string>>(Expression.Call(setHas, name), name).Compile();
            return true;
        }

        /// <summary>True when the type table gives nothing to the type names of PSO (the case the fast paths need).</summary>
        private static bool NoTypeTableMembers(PSObject pso, object typeNames)
        {
            var table = TypeTableOf!(pso);
            return table is null || TypeTableMemberCount!(table, typeNames) == 0;
        }

        /// <summary>
        /// The type names and note properties of PSO as PSObject.Properties would give them (in order, with their
        /// values), when it is a plain custom object; false when the public path must serve.
        /// </summary>
        public static bool TryRead(PSObject pso, out string[] typeNames, out KeyValuePair<string, object?>[] properties)
        {
            typeNames = Array.Empty<string>();
            properties = Array.Empty<KeyValuePair<string, object?>>();
            if (!Available || !(pso.ImmediateBaseObject is PSCustomObject)) return false;
            var names = InternalTypeNames!(pso);
            if (!(names is IList<string> list) || !NoTypeTableMembers(pso, names)) return false;
            var members = InstanceMembers!(pso);
            var dict = members is null ? null : MembersOf!(members);
            if (dict != null && dict.Count > 0)
            {
                int n = dict.Count, visible = 0;
                var found = new KeyValuePair<string, object?>[n];
                for (int i = 0; i < n; i++)
                {
                    if (!(dict[i] is PSPropertyInfo m)) continue;                // methods, member sets: not properties
                    if (IsHidden!(m)) continue;                                    // not enumerated (PSTypeNames, once $o.psobject was used)
                    if (m.GetType() != typeof(PSNoteProperty)) return false;      // script, alias, code, variable properties: PowerShell evaluates them
                    found[visible++] = new KeyValuePair<string, object?>(m.Name, ((PSNoteProperty)m).Value);
                }
                if (visible != n) Array.Resize(ref found, visible);
                properties = found;
            }
            typeNames = TypeNamesOf(names, list);
            return true;
        }

        // The type names of the last object read: custom objects share one list, so the array is made once for them.
        private sealed class NamesEntry
        {
            public readonly object List;
            public readonly string[] Names;
            public NamesEntry(object list, string[] names) { List = list; Names = names; }
        }

        private static NamesEntry? _lastNames;

        private static string[] TypeNamesOf(object names, IList<string> list)
        {
            var last = _lastNames;
            if (last != null && ReferenceEquals(last.List, names) && last.Names.Length == list.Count)
            {
                bool same = true;
                for (int i = 0; i < list.Count && same; i++) same = ReferenceEquals(last.Names[i], list[i]);
                if (same) return last.Names;   // the codec only reads it
            }
            var copy = new string[list.Count];
            list.CopyTo(copy, 0);
            _lastNames = new NamesEntry(names, copy);
            return copy;
        }

        // ---- decoding ---------------------------------------------------------------------------------------------

        private const string Deserialized = "Deserialized.";
        private const int MaxSharedLists = 64;   // distinct type-name lists kept (a message cannot make this grow without end)
        private static readonly Dictionary<string, object> SharedLists = new Dictionary<string, object>(StringComparer.Ordinal);

        /// <summary>Initial room for properties a bag is made with, whatever the message claims (more grow the collection, charged as they come).</summary>
        private const int MaxCapacity = 8;

        /// <summary>
        /// A new property bag with the Deserialized.* type names of TYPENAMES (not changed, maybe shared with other
        /// bags), made with room for PROPERTIES properties (at most <see cref="MaxCapacity"/>).
        /// </summary>
        public static PSObject CreateBag(string[] typeNames, int properties = 0)
        {
            var pso = Direct ? NewWithCapacity!(Math.Min(Math.Max(properties, 1), MaxCapacity)) : new PSObject();
            if (Available && typeNames.Length <= 8)
            {
                SetTypeNames!(pso, SharedList(typeNames));
                return pso;
            }
            pso.TypeNames.Clear();
            foreach (var t in typeNames) pso.TypeNames.Add(WithPrefix(t));
            return pso;
        }

        // The list of the last bag made: the decoder gives one array for a run of bags of one list (Core's ShapeCache).
        private sealed class ListEntry
        {
            public readonly string[] Names;
            public readonly object List;
            public ListEntry(string[] names, object list) { Names = names; List = list; }
        }

        [ThreadStatic] private static ListEntry? _lastList;

        private static string WithPrefix(string t) => t.StartsWith(Deserialized, StringComparison.Ordinal) ? t : Deserialized + t;

        private static object SharedList(string[] typeNames)
        {
            var last = _lastList;
            if (last != null && ReferenceEquals(last.Names, typeNames)) return last.List;   // an array is never changed once given
            var list = SharedListOf(typeNames);
            _lastList = new ListEntry(typeNames, list);
            return list;
        }

        private static object SharedListOf(string[] typeNames)
        {
            var sb = new System.Text.StringBuilder();
            foreach (var t in typeNames) sb.Append(t.Length).Append(':').Append(t);   // length-prefixed: no two lists share a key
            string key = sb.ToString();
            lock (SharedLists)
            {
                if (SharedLists.TryGetValue(key, out var list)) return list;
                var prefixed = new string[typeNames.Length];
                for (int i = 0; i < typeNames.Length; i++) prefixed[i] = WithPrefix(typeNames[i]);
                list = NewSharedTypeNames!(prefixed);
                if (SharedLists.Count < MaxSharedLists) SharedLists[key] = list;
                return list;
            }
        }

        /// <summary>
        /// Adds NAMES[i] = VALUES[i] as note properties, as Properties.Add does one by one: a name PowerShell reserves,
        /// a name met twice (case ignored) or one the type table already gives the bag's type names is refused.
        /// </summary>
        public static void AddProperties(PSObject bag, string[] names, object?[] values, int count)
        {
            var typeNames = Available ? InternalTypeNames!(bag) : null;
            if (typeNames is null || !NoTypeTableMembers(bag, typeNames))
            {
                for (int i = 0; i < count; i++) bag.Properties.Add(new PSNoteProperty(names[i], values[i]));
                return;
            }
            var seen = count > 16 ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : null;
            for (int i = 0; i < count; i++)
            {
                if (IsReserved(names[i])) throw new ArgumentException($"The property name '{names[i]}' is reserved by PowerShell.");
                bool twice = false;
                if (seen != null) twice = !seen.Add(names[i]);
                else for (int j = 0; j < i && !twice; j++) twice = string.Equals(names[i], names[j], StringComparison.OrdinalIgnoreCase);
                if (twice) throw new ArgumentException($"The object has the property '{names[i]}' twice.");
            }
            if (!Direct)
            {
                for (int i = 0; i < count; i++) bag.Properties.Add(new PSNoteProperty(names[i], values[i]), preValidated: true);
                return;
            }
            var members = InstanceMembers!(bag)!;
            for (int i = 0; i < count; i++)
            {
                var note = new PSNoteProperty(names[i], values[i]);
                ReplicateInstance!(note, bag);
                AddInstanceMember!(members, note);
                TellBinders(names[i]);
            }
        }

        /// <summary>Names this thread told the binders (case ignored, as they are); bounded: past it, every add tells them again.</summary>
        [ThreadStatic] private static HashSet<string>? _told;

        private const int MaxTold = 4096;

        private static void TellBinders(string name)
        {
            var told = _told ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (told.Contains(name)) return;
            SetHasInstanceMember!(name);
            if (told.Count < MaxTold) told.Add(name);
        }

        private static bool IsReserved(string name) =>
            name.Length >= 6 && name.Length <= 11 && name.StartsWith("ps", StringComparison.OrdinalIgnoreCase)
            && (name.Equals("psbase", StringComparison.OrdinalIgnoreCase) || name.Equals("psadapted", StringComparison.OrdinalIgnoreCase)
                || name.Equals("psextended", StringComparison.OrdinalIgnoreCase) || name.Equals("psobject", StringComparison.OrdinalIgnoreCase)
                || name.Equals("pstypenames", StringComparison.OrdinalIgnoreCase));
    }
}
