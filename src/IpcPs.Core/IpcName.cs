using System;
using System.Security.Cryptography;

namespace IpcPs.Core
{
    /// <summary>
    /// Rules for object names. A name is the file name of the object's segment (/dev/shm/NAME on Linux, the same name
    /// CPython's SharedMemory(name=NAME) uses), so it is one path component: 1..255 bytes of [A-Za-z0-9_.-], not
    /// starting with '.', which keeps the registry folder ".ipcps-UID" and wildcard characters out of the namespace.
    /// </summary>
    internal static class IpcName
    {
        public const int MaxLength = 255;

        public static string Validate(string? name)
        {
            if (name is null || name.Length == 0)
                throw new InvalidIpcNameException(name, "a name cannot be empty.");
            if (name.Length > MaxLength)
                throw new InvalidIpcNameException(name, $"it is {name.Length} characters long; the limit is {MaxLength}.");
            if (name[0] == '.')
                throw new InvalidIpcNameException(name, "a name cannot start with '.'.");
            foreach (char c in name)
            {
                if (c == '/' || c == '\\')
                    throw new InvalidIpcNameException(name, $"'{c}' is not allowed in a name (a name is a single path component).");
                if (!IsAllowed(c))
                    throw new InvalidIpcNameException(name, $"the character '{Printable(c)}' is not allowed; use letters, digits, '_', '-' and '.'.");
            }
            return name;
        }

        /// <summary>A fresh random name, such as <c>ipc_3f09a1c2e4b7</c>.</summary>
        public static string Generate()
        {
            var bytes = new byte[6];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            return "ipc_" + BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
        }

        private static bool IsAllowed(char c) =>
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';

        private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();
    }
}
