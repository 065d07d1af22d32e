using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using IpcPs.Core.Managers;
using IpcPs.Core.Messaging;

namespace IpcPs.Tests
{
    /// <summary>
    /// Real connected sockets for the manager's wire tests: a socketpair(2), as two .NET sockets; on Windows (no
    /// socketpair) a TCP connection over the loopback.
    /// </summary>
    internal static class SocketPair
    {
        [DllImport("libc", SetLastError = true)] private static extern int socketpair(int domain, int type, int protocol, int[] sv);

        public static (Socket A, Socket B) Create()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
                listener.Listen(1);
                var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                a.Connect(listener.LocalEndPoint!);
                var b = listener.Accept();
                b.NoDelay = true;
                return (a, b);
            }
            var sv = new int[2];
            if (socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, sv) != 0)
                throw new InvalidOperationException($"socketpair failed: errno {Marshal.GetLastWin32Error()}");
            return (new Socket(new SafeSocketHandle((IntPtr)sv[0], ownsHandle: true)), new Socket(new SafeSocketHandle((IntPtr)sv[1], ownsHandle: true)));
        }

        /// <summary>Writes all of BYTES to S (from another thread when they may not fit the socket's buffer).</summary>
        public static void WriteAll(Socket s, byte[] bytes)
        {
            for (int sent = 0; sent < bytes.Length;) sent += s.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        }
    }

    internal static class Frames
    {
        /// <summary>A frame as it goes on the wire: the 4-byte little-endian length, then PAYLOAD.</summary>
        public static byte[] Frame(byte[] payload)
        {
            var f = new byte[payload.Length + 4];
            BitConverter.GetBytes(payload.Length).CopyTo(f, 0);
            payload.CopyTo(f, 4);
            return f;
        }

        public static byte[] Concat(params byte[][] parts)
        {
            int n = 0;
            foreach (var p in parts) n += p.Length;
            var r = new byte[n];
            int at = 0;
            foreach (var p in parts) { p.CopyTo(r, at); at += p.Length; }
            return r;
        }

        public static byte[] Encoded(object? value) => MessageCodec.EncodeToArray(value, 2);
    }
}
