using System;
using System.Collections;
using System.Management.Automation;
using System.Text;

namespace IpcPs.Hosting
{
    /// <summary>Turns the cmdlets' -AuthKey and -Register values into what the launcher and the client take.</summary>
    internal static class ManagerKeys
    {
        /// <summary>
        /// Refuses KEY for a manager reachable at ADDRESS over TCP when it is shorter than
        /// <see cref="Core.Managers.ManagerAuth.MinimumNetworkKeyBytes"/> (16 bytes; a string counts its UTF-8 bytes):
        /// anyone who can reach the port may guess a short key, and a client's proof can be attacked offline. A Unix
        /// socket is reachable only by this user, so any non-empty key does there.
        /// </summary>
        public static void CheckForAddress(byte[] key, string? address)
        {
            if (address is null || Core.Managers.ManagerAddress.IsUnix(address)) return;
            if (key.Length >= Core.Managers.ManagerAuth.MinimumNetworkKeyBytes) return;
            throw new ArgumentException(
                $"The auth key is {key.Length} byte(s) long; a manager reachable over TCP needs a key of at least {Core.Managers.ManagerAuth.MinimumNetworkKeyBytes} bytes "
                + "(anyone who can reach the port may try to guess it). Use a random key, for example "
                + "$key = [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)), "
                + "and give the same key to Start-IpcManager and Connect-IpcManager.", "AuthKey");
        }

        /// <summary>The longest key accepted (a key file longer than this is not trusted as a key).</summary>
        public const int MaximumKeyBytes = 4096;

        public static byte[] From(object value)
        {
            byte[] key = (value is PSObject p ? p.BaseObject : value) switch
            {
                byte[] b when b.Length > 0 => b,
                string s when s.Length > 0 => Encoding.UTF8.GetBytes(s),
                object[] items when items.Length > 0 => Array.ConvertAll(items, i => Convert.ToByte(i is PSObject q ? q.BaseObject : i)),
                _ => throw new ArgumentException("An auth key is a non-empty string or byte array.", "AuthKey"),
            };
            if (key.Length > MaximumKeyBytes) throw new ArgumentException($"An auth key is at most {MaximumKeyBytes:N0} bytes; this one has {key.Length:N0}.", "AuthKey");
            return key;
        }

        /// <summary>
        /// The manager keys this process remembers (address → base64 key), and its backend passwords (see below), for a child process or pool worker to
        /// adopt, as a CPython child inherits its parent's authkey: a proxy of a manager on another machine, passed to a
        /// child, then works there too. Travels only over the child's private channel (stdin or its own pipe), never on a
        /// command line. Null when there are none.
        /// </summary>
        public static Hashtable? ForChild()
        {
            var keys = Core.Managers.ManagerClient.RememberedKeys();
            var passwords = IpcBackendCredentials.ForChild();
            if (keys.Length == 0 && passwords.Length == 0) return null;
            var table = new Hashtable();
            foreach (var k in keys) table[k.Key] = Convert.ToBase64String(k.Value);
            // Backend passwords travel the same way, by address without password (redis://user@host:port/db → the
            // password's UTF-8 in base64): a Redis handle passed to a child re-attaches there (BackendHandles).
            foreach (var p in passwords) table[p.Key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value));
            return table;
        }

        /// <summary>Remembers the keys a parent sent (<see cref="ForChild"/>); anything malformed is ignored.</summary>
        public static void Adopt(object? table)
        {
            if (!((table is PSObject p ? p.BaseObject : table) is IDictionary keys)) return;
            foreach (DictionaryEntry e in keys)
            {
                object? value = e.Value is PSObject v ? v.BaseObject : e.Value;
                if (e.Key is string address && value is string base64)
                    try
                    {
                        if (IpcBackends.IsBackendUri(address))
                            IpcBackendCredentials.Adopt(new[] { new System.Collections.Generic.KeyValuePair<string, string>(address, Encoding.UTF8.GetString(Convert.FromBase64String(base64))) });
                        else Core.Managers.ManagerClient.RememberKey(address, Convert.FromBase64String(base64));
                    }
                    catch (FormatException) { }
            }
        }

        /// <summary>type id → @{ Type = type name; Exposed = names or null }, each type named so the manager can resolve it.</summary>
        public static Hashtable Registrations(Hashtable? register)
        {
            var result = new Hashtable(StringComparer.OrdinalIgnoreCase);
            if (register is null) return result;
            foreach (DictionaryEntry e in register)
            {
                string id = e.Key?.ToString() ?? "";
                if (id.Length == 0 || !IsIdentifier(id)) throw new ArgumentException($"'{id}' is not a valid type id (letters, digits, _).", "Register");
                object? v = e.Value is PSObject p ? p.BaseObject : e.Value;
                object? type = v;
                string[]? exposed = null;
                if (v is IDictionary d)
                {
                    type = d["Type"] is PSObject t ? t.BaseObject : d["Type"];
                    if (d["Exposed"] != null) exposed = (string[])LanguagePrimitives.ConvertTo(d["Exposed"], typeof(string[]));
                }
                string name = type switch
                {
                    Type t when t.Assembly.IsDynamic || string.IsNullOrEmpty(t.Assembly.Location) => t.FullName!,
                    Type t => t.AssemblyQualifiedName!,
                    string s when s.Length > 0 => s,
                    _ => throw new ArgumentException($"The registration '{id}' needs a type: [TypeName], 'TypeName' or @{{ Type = …; Exposed = … }}.", "Register"),
                };
                result[id] = new Hashtable { ["Type"] = name, ["Exposed"] = exposed };
            }
            return result;
        }

        private static bool IsIdentifier(string s)
        {
            if (!(char.IsLetter(s[0]) || s[0] == '_')) return false;
            foreach (char c in s) if (!(char.IsLetterOrDigit(c) || c == '_')) return false;
            return true;
        }
    }

    /// <summary>Shutting a manager down from a cmdlet.</summary>
    internal static class ManagerControl
    {
        public static void Stop(IpcManager m)
        {
            var process = m.Process;
            m.Shutdown();
            if (process != null) ManagerLauncher.Forget(process);
        }
    }
}
