namespace IpcPs
{
    /// <summary>
    /// One typed value in shared memory (CPython's multiprocessing.Value): layout in <see cref="IpcTypedData"/>, length 1.
    /// Reading or writing <see cref="Value"/> is one aligned load or store; a read-modify-write such as
    /// <c>$v.Value += 1</c> is not atomic: do it under <see cref="IpcTypedData.GetLock"/>, as in CPython.
    /// </summary>
    public sealed unsafe class IpcValue : IpcTypedData
    {
        private IpcValue(string name) : base(name, IpcObjectKind.Value) { }

        internal static IpcValue Describe(string name) => new IpcValue(name);

        /// <summary>Creates a value of TYPE set to VALUE (0 when null); with NOLOCK it has no lock (CPython's lock=False).</summary>
        public static IpcValue Create(string? name, IpcDataType type, object? value = null, bool noLock = false)
        {
            if (type is null) throw new System.ArgumentNullException(nameof(type));
            if (value != null) type.Convert(value);   // a bad value fails before anything is created
            return MakeData(name, IpcObjectKind.Value, type, 1, noLock, n => new IpcValue(n),
                value is null ? null : (System.Action<IpcDataType, System.IntPtr, int>)((t, p, _) => t.Write((byte*)p, value)));
        }

        /// <summary>The value: read and written with checked conversion to the element type.</summary>
        public object Value
        {
            get => Type.Read(LookData);
            set => Type.Write(Data, value);
        }

        /// <summary>The value (a method, for callers that want errors: PowerShell hides exceptions of property getters).</summary>
        public object Get() => Type.Read(LookData);

        /// <summary>Sets the value; an error if VALUE does not fit the type.</summary>
        public void Set(object value) => Type.Write(Data, value);

        public override string ToString() => IsClosed ? $"Value('{Name}', closed)" : $"Value('{Name}', {Type.Code}, {System.Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture)})";
    }
}
