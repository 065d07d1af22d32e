using System;
using IpcPs.Core.Messaging;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Every conversion of a manager's reply to the type a proxy returns goes through here. A manager that holds the key
    /// can still answer anything (a bug, another version, a hostile one): a reply of another type is
    /// <see cref="MessageFormatException"/>, as bytes that do not decode are, never an InvalidCastException or a
    /// NullReferenceException from a cast. The connection stays usable: the reply was a whole, well-formed frame.
    /// </summary>
    internal static class ManagerReply
    {
        /// <summary>VALUE as a T; an integral reply in range converts to int or long (the codec keeps the width it was sent with).</summary>
        public static T Expect<T>(object? value, string member, string address)
        {
            if (value is T t) return t;
            if (typeof(T) == typeof(int) && Integral(value, out long l) && l >= int.MinValue && l <= int.MaxValue) return (T)(object)(int)l;
            if (typeof(T) == typeof(long) && Integral(value, out l)) return (T)(object)l;
            throw Wrong(member, address, $"is {Describe(value)}, not {Name(typeof(T))}");
        }

        /// <summary>A flat [keys…, values…] reply (Items): an array of even length whose keys are Ks (never null).</summary>
        public static object?[] Pairs<K>(object? value, string member, string address)
        {
            var items = Expect<object?[]>(value, member, address);
            if (items.Length % 2 != 0) throw Wrong(member, address, $"has {items.Length} items, not keys and values");
            for (int i = 0; i < items.Length / 2; i++) Expect<K>(items[i], member, address);
            return items;
        }

        /// <summary>The error for a reply to MEMBER that is not what it should be (WHY).</summary>
        public static MessageFormatException Wrong(string member, string address, string why) =>
            new MessageFormatException($"The reply of the manager at '{address}' to {member} {why}: it is not a manager of this version, or not a well-behaved one.");

        private static bool Integral(object? value, out long l)
        {
            switch (value)
            {
                case int i: l = i; return true;
                case long x: l = x; return true;
                case short s: l = s; return true;
                case sbyte sb: l = sb; return true;
                case byte b: l = b; return true;
                case ushort us: l = us; return true;
                case uint ui: l = ui; return true;
                default: l = 0; return false;
            }
        }

        private static string Name(Type t) => t == typeof(object?[]) ? "a list" : t == typeof(object) ? "a value" : t.Name;

        private static string Describe(object? value) => value is null ? "null" : value.GetType().Name;
    }
}
