using System;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>Turns the client's exceptions into IpcPs's typed ones (Core/Errors/BackendExceptions.cs).</summary>
    internal static class RedisErrors
    {
        /// <summary>
        /// E happened during OPERATION on NAME. WRITE: the operation changes state, so a command that was sent but not
        /// answered is "outcome unknown" rather than "unavailable" (nothing is ever reported done that was not answered).
        /// </summary>
        public static Exception Map(Exception e, string address, string operation, string? name, bool write)
        {
            switch (e)
            {
                case RedisConnectionException c when c.FailureType == ConnectionFailureType.AuthenticationFailure:
                    return new IpcBackendAuthenticationException(address, Clean(c.Message), e);
                case RedisConnectionException c:
                    return write && WasSent(c.CommandStatus)
                        ? new IpcBackendOutcomeUnknownException(address, operation, name, e)
                        : new IpcBackendUnavailableException(address, $"{operation}: {Clean(c.Message)}", name, e);
                case RedisTimeoutException t:
                    return write && WasSent(t.Commandstatus)
                        ? new IpcBackendOutcomeUnknownException(address, operation, name, e)
                        : new IpcBackendUnavailableException(address, $"{operation} timed out: {Clean(t.Message)}", name, e);
                case RedisServerException s:
                    return Server(s, address, operation, name);
                default:
                    return e;
            }
        }

        /// <summary>
        /// The client failed the command before sending it, for want of a connection (it queues nothing while disconnected:
        /// BacklogPolicy.FailFast): nothing reached the server, so it may be sent again. An unknown status counts as sent.
        /// </summary>
        public static bool NotSent(RedisConnectionException e) =>
            e.FailureType != ConnectionFailureType.AuthenticationFailure && !WasSent(e.CommandStatus);

        private static bool WasSent(CommandStatus status) => status != CommandStatus.WaitingToBeSent && status != CommandStatus.WaitingInBacklog;

        private static Exception Server(RedisServerException s, string address, string operation, string? name)
        {
            string m = s.Message;
            if (m.StartsWith("IPCPS NOTFOUND", StringComparison.Ordinal)) return new IpcObjectNotFoundException(name ?? "");
            if (m.StartsWith("IPCPS KIND ", StringComparison.Ordinal))
                return new IpcObjectKindException(name ?? "", $"The object '{name}' at {address} is a {Word(m, 2)}, not what {operation} needs.");
            if (m.StartsWith("IPCPS CORRUPT ", StringComparison.Ordinal))   // a script found a field it cannot use (Scripts.Check); the words after it say how
                return new IpcObjectCorruptException(name ?? "", address, $"{CorruptField(Word(m, 2), name)} in Redis {Rest(m, 3) ?? "is missing or not a number"}");
            if (m.StartsWith("IPCPS DAMAGED ", StringComparison.Ordinal) && name != null)   // a key holding what no script writes (Scripts.Check's damaged)
                return new IpcObjectCorruptException(name, address, $"its key '{RedisBackend.Key(name, Word(m, 2))}' in Redis {Rest(m, 3)}");
            if (name != null && KeyTypes.IsWrongType(s)) return KeyTypes.Unknown(name, address);   // a key replaced (RedisBackend.Call names it when it knows the keys)
            // LSET past the end (a list's setter): as the getter says it, not as a failure of the server (the store
            // script that runs it adds its own name to Redis's text).
            if (m.StartsWith("ERR index out of range", StringComparison.Ordinal))
                return new IndexOutOfRangeException($"{operation} on '{name}': the list has no such index.");
            if (m.StartsWith("IPCPS RANGE", StringComparison.Ordinal))
                return new OverflowException($"{operation} on '{name}': the result does not fit the value's type ({m.Substring(11).Trim()}).");
            if (m.StartsWith("IPCPS ", StringComparison.Ordinal)) return new IpcBackendException($"{operation} on '{name}': {m.Substring(6)}", name, s);
            if (m.StartsWith("NOAUTH", StringComparison.Ordinal) || m.StartsWith("WRONGPASS", StringComparison.Ordinal) || m.StartsWith("NOPERM", StringComparison.Ordinal))
                return new IpcBackendAuthenticationException(address, $"{operation}: {Clean(m)}", s);
            if (m.Contains("proto-max-bulk-len") || m.Contains("too large") || m.Contains("too big"))
                return new IpcBackendException($"{operation} on '{name}': the Redis server at {address} refused the value as too large: {Clean(m)}", name, s);
            if (m.StartsWith("OOM", StringComparison.Ordinal))
                return new IpcBackendException($"{operation} on '{name}': the Redis server at {address} is out of memory (maxmemory): {Clean(m)}", name, s);
            return new IpcBackendException($"{operation} on '{name}' failed at {address}: {Clean(m)}", name, s);
        }

        /// <summary>"its field 'F'" for a meta field F; "its field 'F' of KEY" for a word "PART:F" (a field of a data key).</summary>
        private static string CorruptField(string word, string? name)
        {
            int colon = word.IndexOf(':');
            if (colon <= 0 || name is null) return $"its field '{RedisBackend.Truncate(word)}'";
            return $"its field '{RedisBackend.Truncate(word.Substring(colon + 1))}' of {RedisBackend.Key(name, word.Substring(0, colon))}";
        }

        private static string Word(string m, int index)
        {
            var parts = m.Split(' ');
            return index < parts.Length ? parts[index] : "?";
        }

        /// <summary>The words of M from the INDEXth on, without what Redis 7 appends to a script's error() (null: none).</summary>
        private static string? Rest(string m, int index)
        {
            int where = m.LastIndexOf(" script: ", StringComparison.Ordinal);   // " script: SHA, on @user_script:LINE."
            var parts = (where < 0 ? m : m.Substring(0, where)).Split(' ', index + 1);
            return index < parts.Length && parts[index].Length > 0 ? Clean(parts[index]) : null;
        }

        /// <summary>At most 600 characters of a client message (they can hold a whole connection report).</summary>
        private static string Clean(string m) => m.Length <= 600 ? m : m.Substring(0, 600) + "…";
    }
}
