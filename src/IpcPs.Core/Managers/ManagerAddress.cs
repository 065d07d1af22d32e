using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace IpcPs.Core.Managers
{
    /// <summary>
    /// Where a manager listens: "unix:/path/to/socket" (the default, in a 0700 folder) or "host:port" (TCP).
    /// UnixDomainSocketEndPoint exists at run time (.NET Core 2.1+) but not in netstandard2.0, so it is made by reflection.
    /// </summary>
    internal static class ManagerAddress
    {
        public const string UnixPrefix = "unix:";

        public static bool IsUnix(string address) => address.StartsWith(UnixPrefix, StringComparison.Ordinal);

        public static EndPoint Parse(string address) => Parse(address, Timeout.InfiniteTimeSpan, CancellationToken.None);

        /// <summary>
        /// ADDRESS as an end point; a host name is looked up within BOUND (a ConnectionClosedException after it) or until
        /// CANCEL. The lookup is asynchronous: the system's resolver may take its own time (retries, a DNS server that
        /// never answers), and a caller's Ctrl+C must not wait for it.
        /// </summary>
        public static EndPoint Parse(string address, TimeSpan bound, CancellationToken cancel)
        {
            if (IsUnix(address)) return UnixEndPointOf(address.Substring(UnixPrefix.Length));
            int colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                throw new ArgumentException($"'{address}' is not a manager address: use host:port (TCP) or unix:/path.");
            string host = address.Substring(0, colon).Trim('[', ']');
            if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
            var addresses = Lookup(address, host, bound, cancel);
            if (addresses.Length == 0) throw new ArgumentException($"The host '{host}' has no address.");
            return new IPEndPoint(addresses[0], port);
        }

        private static IPAddress[] Lookup(string address, string host, TimeSpan bound, CancellationToken cancel)
        {
            var lookup = Dns.GetHostAddressesAsync(host);
            bool done;
            try { done = lookup.Wait(bound < TimeSpan.Zero ? Timeout.Infinite : (int)Math.Min(int.MaxValue, Math.Ceiling(bound.TotalMilliseconds)), cancel); }
            catch (AggregateException e) when (e.InnerException is SocketException s) { throw s; }   // as the blocking lookup threw it
            if (done) return lookup.Result;
            // Left running: its outcome is observed, never left to the finalizer.
            lookup.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            cancel.ThrowIfCancellationRequested();
            throw new ConnectionClosedException(address, $"Cannot reach the manager at '{address}': the host name '{host}' did not resolve within {bound.TotalSeconds:0} s.");
        }

        /// <summary>The most a Unix socket path may hold (sun_path is 108 bytes with its terminating NUL).</summary>
        public const int MaxUnixPathBytes = 107;

        /// <summary>
        /// For a unix: ADDRESS whose path is too long for sun_path: a short way to reach it (VIAPATH, and a handle to
        /// dispose after connecting), from the platform (<see cref="Platform.IManagerFolders.ReachLongSocketPath"/>).
        /// Otherwise null and VIAPATH null.
        /// </summary>
        public static IDisposable? ReachLongUnixPath(string address, out string? viaPath)
        {
            viaPath = null;
            if (!IsUnix(address)) return null;
            return Platform.Platforms.Current.ManagerFolders.ReachLongSocketPath(address.Substring(UnixPrefix.Length), out viaPath);
        }

        public static string Format(EndPoint endPoint) => endPoint is IPEndPoint ip
            ? (ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip.Address}]:{ip.Port}" : $"{ip.Address}:{ip.Port}")
            : UnixPrefix + endPoint;

        /// <summary>A new socket for ENDPOINT; none left (EMFILE) is an <see cref="IpcPlatformException"/>.</summary>
        public static Socket NewSocket(EndPoint endPoint)
        {
            try
            {
                if (endPoint is IPEndPoint ip)
                    return new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                return new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressFamilyNotSupported && !(endPoint is IPEndPoint))
            {
                throw new IpcNotSupportedException("This system has no Unix domain sockets (Wine, or Windows before 10 1803): give the manager a TCP -Address host:port.");
            }
            catch (SocketException e) when (IpcPlatformException.OutOfDescriptors("socket", e, Format(endPoint)) is IpcPlatformException p) { throw p; }
        }

        private static readonly Type? UnixEndPointType =
            Type.GetType("System.Net.Sockets.UnixDomainSocketEndPoint, System.Net.Sockets")
            ?? typeof(Socket).Assembly.GetType("System.Net.Sockets.UnixDomainSocketEndPoint");

        /// <summary>The end point of the Unix socket at PATH (a path through /proc/self/fd/N for a folder held open).</summary>
        public static EndPoint UnixEndPointOf(string path)
        {
            if (UnixEndPointType is null) throw new IpcNotSupportedException("This runtime has no Unix domain sockets; give the manager a TCP -Address host:port.");
            return (EndPoint)Activator.CreateInstance(UnixEndPointType, path)!;
        }
    }
}
