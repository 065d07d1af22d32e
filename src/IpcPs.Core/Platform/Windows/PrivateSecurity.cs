using System;
using System.Runtime.InteropServices;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The one security descriptor every named object and file IpcPs makes on Windows carries: owner = the current
    /// user, and a protected DACL that grants the current user everything and nobody else anything (not even the
    /// groups a default DACL would add). Objects live in the session's namespace (bare names, as CPython's), so other
    /// sessions never see the names; this DACL keeps them out of reach of other users in the same session too (runas,
    /// services). The owner is set explicitly: an elevated token would otherwise make the Administrators group the
    /// owner, and the owner check on open would refuse our own objects.
    /// <para>Opening checks the owner (<see cref="OwnerOf"/>): a name another user made first is never used.</para>
    /// </summary>
    internal static unsafe class PrivateSecurity
    {
        private const uint TOKEN_QUERY = 8;
        private const int TokenUser = 1;

        private static readonly object Gate = new object();
        private static string? _userSid;
        private static IntPtr _userSidPointer, _objectDescriptor, _folderDescriptor;

        /// <summary>The current user's SID as text (S-1-5-21-…).</summary>
        public static string UserSid { get { Initialise(); return _userSid!; } }

        /// <summary>SECURITY_ATTRIBUTES for a kernel object (mapping, semaphore) or a file: owner and only access the user.</summary>
        public static Win32.SECURITY_ATTRIBUTES ForObject()
        {
            Initialise();
            return new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), lpSecurityDescriptor = _objectDescriptor };
        }

        /// <summary>The same for a folder: its files and subfolders inherit the user-only entry.</summary>
        public static Win32.SECURITY_ATTRIBUTES ForFolder()
        {
            Initialise();
            return new Win32.SECURITY_ATTRIBUTES { nLength = sizeof(Win32.SECURITY_ATTRIBUTES), lpSecurityDescriptor = _folderDescriptor };
        }

        /// <summary>
        /// The owner of the object behind HANDLE (opened with READ_CONTROL) as SID text, and whether it is the current
        /// user. OBJECTTYPE: SE_KERNEL_OBJECT or SE_FILE_OBJECT.
        /// </summary>
        public static (bool Ours, string Owner) OwnerOf(IntPtr handle, int objectType, string what)
        {
            Initialise();
            uint error = Win32.GetSecurityInfo(handle, objectType, Win32.OWNER_SECURITY_INFORMATION, out IntPtr owner, out _, out _, out _, out IntPtr descriptor);
            if (error != 0) throw new IpcPlatformException("GetSecurityInfo", (int)error, what);
            try
            {
                if (owner == IntPtr.Zero) return (false, "none");
                bool ours = Win32.EqualSid(owner, _userSidPointer);
                return (ours, ours ? _userSid! : SidText(owner));
            }
            finally { Win32.LocalFree(descriptor); }
        }

        private const uint DACL_SECURITY_INFORMATION = 4;
        private const byte ACCESS_ALLOWED_ACE_TYPE = 0;

        [DllImport("advapi32", SetLastError = true)] private static extern bool GetAce(IntPtr acl, int index, out IntPtr ace);

        [DllImport("advapi32", SetLastError = true)] private static extern bool IsWellKnownSid(IntPtr sid, int type);

        private const int WinLocalSystemSid = 22;

        /// <summary>
        /// Whether the object behind HANDLE (opened with READ_CONTROL) is private to the current user: owned by it, with
        /// a DACL (none would let everyone in) whose every allowing entry names the current user or LocalSystem.
        /// LocalSystem is allowed because it can read every file anyway, and because Wine, which keeps no security
        /// descriptor for a file where it cannot store one, reports the DACL it derives from the Unix mode: the owner
        /// and SYSTEM (D:(A;OICI;FA;;;SY)(A;OICI;FA;;;USER) for a folder of mode 0700/0750).
        /// </summary>
        public static bool IsPrivate(IntPtr handle, int objectType, string what)
        {
            Initialise();
            uint error = Win32.GetSecurityInfo(handle, objectType, Win32.OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                out IntPtr owner, out _, out IntPtr dacl, out _, out IntPtr descriptor);
            if (error != 0) throw new IpcPlatformException("GetSecurityInfo", (int)error, what);
            try
            {
                if (owner == IntPtr.Zero || !Win32.EqualSid(owner, _userSidPointer) || dacl == IntPtr.Zero) return false;
                int count = *(ushort*)((byte*)dacl + 4);   // ACL: revision, sbz1, size (u16), count (u16), sbz2
                for (int i = 0; i < count; i++)
                {
                    if (!GetAce(dacl, i, out IntPtr ace)) return false;
                    // ACE_HEADER: type, flags, size (u16); an ACCESS_ALLOWED_ACE then has the mask (u32) and the SID.
                    if (*(byte*)ace != ACCESS_ALLOWED_ACE_TYPE) continue;
                    var sid = (IntPtr)((byte*)ace + 8);
                    if (!Win32.EqualSid(sid, _userSidPointer) && !IsWellKnownSid(sid, WinLocalSystemSid)) return false;
                }
                return true;
            }
            finally { Win32.LocalFree(descriptor); }
        }

        private static string SidText(IntPtr sid)
        {
            if (!Win32.ConvertSidToStringSid(sid, out IntPtr text)) return "unknown";
            try { return Marshal.PtrToStringUni(text) ?? "unknown"; }
            finally { Win32.LocalFree(text); }
        }

        // Everything is made once and kept for the process's life (a few hundred bytes).
        private static void Initialise()
        {
            if (_objectDescriptor != IntPtr.Zero) return;
            lock (Gate)
            {
                if (_objectDescriptor != IntPtr.Zero) return;
                if (!Win32.OpenProcessToken(Win32.GetCurrentProcess(), TOKEN_QUERY, out IntPtr token))
                    throw new IpcPlatformException("OpenProcessToken", Win32.LastError, null);
                try
                {
                    var buffer = new byte[256];
                    fixed (byte* b = buffer)
                    {
                        if (!Win32.GetTokenInformation(token, TokenUser, b, buffer.Length, out int length))
                            throw new IpcPlatformException("GetTokenInformation", Win32.LastError, null);
                        // TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field points at the SID (inside BUFFER).
                        IntPtr sid = *(IntPtr*)b;
                        _userSid = SidText(sid);
                        int sidLength = 8 + 4 * ((byte*)sid)[1];   // revision, count, authority (6), count × sub-authority
                        _userSidPointer = Marshal.AllocHGlobal(sidLength);
                        Buffer.MemoryCopy((void*)sid, (void*)_userSidPointer, sidLength, sidLength);
                    }
                }
                finally { Win32.CloseHandle(token); }
                _folderDescriptor = Descriptor($"O:{_userSid}D:P(A;OICI;GA;;;{_userSid})");
                _objectDescriptor = Descriptor($"O:{_userSid}D:P(A;;GA;;;{_userSid})");
            }
        }

        private static IntPtr Descriptor(string sddl)
        {
            if (!Win32.ConvertStringSecurityDescriptorToSecurityDescriptor(sddl, Win32.SDDL_REVISION_1, out IntPtr descriptor, out _))
                throw new IpcPlatformException("ConvertStringSecurityDescriptorToSecurityDescriptor", Win32.LastError, sddl);
            return descriptor;
        }
    }
}
