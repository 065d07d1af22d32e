using System;
using System.Globalization;
using StackExchange.Redis;

namespace IpcPs.Redis
{
    /// <summary>
    /// A parsed backend URI: redis://[user:password@]host[:port][/db] (rediss:// for TLS). <see cref="Display"/> is the
    /// address without the password — what descriptors, errors and the credential table use; the password never appears in
    /// an error message.
    /// </summary>
    internal sealed class RedisAddress
    {
        public const int DefaultPort = 6379;

        private RedisAddress(bool tls, string? user, string? password, string host, int port, int database)
        {
            Tls = tls;
            User = user;
            Password = password;
            Host = host;
            Port = port;
            Database = database;
            string hostText = host.Contains(':') ? $"[{host}]" : host;   // an IPv6 literal
            Display = $"{(tls ? "rediss" : "redis")}://{(user is null ? "" : Uri.EscapeDataString(user) + "@")}{hostText}:{port}/{database}";
        }

        public bool Tls { get; }
        public string? User { get; }
        public string? Password { get; }
        public string Host { get; }
        public int Port { get; }
        public int Database { get; }
        public string Display { get; }

        public static RedisAddress Parse(string uri)
        {
            if (uri is null) throw new ArgumentNullException(nameof(uri));
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || !(u.Scheme == "redis" || u.Scheme == "rediss") || u.Host.Length == 0)
                throw new ArgumentException("A Redis backend address is redis://[user:password@]host[:port][/db] (rediss:// for TLS).", nameof(uri));
            if (u.Query.Length > 0 || u.Fragment.Length > 0)
                throw new ArgumentException("A Redis backend address takes no query or fragment: redis://[user:password@]host[:port][/db].", nameof(uri));
            string? user = null, password = null;
            if (u.UserInfo.Length > 0)
            {
                int colon = u.UserInfo.IndexOf(':');
                string rawUser = colon < 0 ? u.UserInfo : u.UserInfo.Substring(0, colon);
                user = rawUser.Length == 0 ? null : Uri.UnescapeDataString(rawUser);
                if (colon >= 0) password = Uri.UnescapeDataString(u.UserInfo.Substring(colon + 1));
                if (colon < 0 && user != null) { password = user; user = null; }   // redis://password@host, as redis-cli -u reads it
            }
            int database = 0;
            string path = u.AbsolutePath.Trim('/');
            if (path.Length > 0 && !(int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database) && database <= 15_000))
                throw new ArgumentException($"'{path}' is not a database number (redis://host:port/0).", nameof(uri));
            int port = u.IsDefaultPort || u.Port < 0 ? DefaultPort : u.Port;
            return new RedisAddress(u.Scheme == "rediss", user, password, u.IdnHost.Trim('[', ']'), port, database);
        }

        /// <summary>
        /// The client's options: connect within CONNECTTIMEOUT, every command within OPERATIONTIMEOUT (its own: the connect
        /// timeout of whoever made the process's shared connection first must not set every later command's); the password
        /// from the URI, else PASSWORD.
        /// </summary>
        public ConfigurationOptions Options(TimeSpan connectTimeout, TimeSpan operationTimeout, string? password)
        {
            int ms = (int)Math.Clamp(connectTimeout.TotalMilliseconds, 100, int.MaxValue);
            int op = (int)Math.Clamp(operationTimeout.TotalMilliseconds, 100, int.MaxValue);
            var o = new ConfigurationOptions
            {
                Ssl = Tls,
                User = User,
                Password = Password ?? password,
                DefaultDatabase = Database,
                ConnectTimeout = ms,
                AsyncTimeout = op,
                SyncTimeout = op,
                // The first connection must succeed or fail within the timeout with its reason (no silent background retries);
                // after it, the client reconnects by itself. A command issued while the connection is down fails at once,
                // unsent: RedisBackend waits for the connection within the caller's deadline and sends it again. (The client's
                // own backlog would hold it for the whole operation timeout, past a shorter deadline, and could send it after
                // its caller had been told it failed.)
                AbortOnConnectFail = true,
                BacklogPolicy = BacklogPolicy.FailFast,
                // Reconnection tries start a fifth of the smaller timeout apart and grow to half of it, never more: a server
                // back is found (at the client's next 1 s heartbeat after the interval) while a command waiting for the
                // connection, the operation timeout at most, still waits. The client's default, half the connect timeout,
                // tried again only after such a command had given up when the connect timeout was the longer; and growing
                // to 10 s (ExponentialRetry's default cap), tries after an outage of a minute came up to 10 s apart, so a
                // command after a restart could give up before the next.
                ReconnectRetryPolicy = new ExponentialRetry(Math.Max(1, Math.Min(ms, op) / 5), Math.Max(1, Math.Min(ms, op) / 2)),
                ConnectRetry = 1,
                ClientName = "ipcps",
                KeepAlive = 5,
                AllowAdmin = false,
            };
            if (o.Ssl) o.SslHost = Host;
            o.EndPoints.Add(Host, Port);
            return o;
        }

        public override string ToString() => Display;
    }
}
