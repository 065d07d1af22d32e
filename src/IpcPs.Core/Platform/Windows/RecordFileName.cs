using System;
using System.Text;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// The file name of a name's registry record on Windows (and of a manager's folder). Names are case-sensitive, as the kernel's object names are
    /// ("Name comparison is case sensitive": CreateSemaphore, CreateMutex), but NTFS file names are not, and Win32 path
    /// parsing turns a last component that ends with '.' into another one (the dots are stripped) and a DOS device name
    /// (CON, PRN, AUX, NUL, COM0-9, LPT0-9, on Windows 10 also with any extension: "nul.txt") into the device. So the
    /// file name encodes the name, one to one even when compared ignoring case:
    /// <list type="bullet">
    /// <item>every capital letter is preceded by '^' ("Foo" → "^Foo"; "foo" stays "foo": generated names are
    /// unchanged);</item>
    /// <item>a name that ends with '.' gets a '^' after it ("a." → "a.^");</item>
    /// <item>a name whose part before its first '.' is a device name (it is then all small letters and digits) gets a
    /// leading '~' ("nul.x" → "~nul.x").</item>
    /// </list>
    /// '^' and '~' are not allowed in names (<see cref="IpcName"/>), so decoding is exact; folded to one case, '^' still
    /// marks which letters were capitals. A file name IpcPs did not make this way decodes to null.
    /// </summary>
    internal static class RecordFileName
    {
        /// <summary>The longest file name NTFS (and every file system Windows profiles live on) takes.</summary>
        public const int MaxFileName = 255;

        public static string Encode(string name) => TryEncode(name)
            ?? throw new InvalidIpcNameException(name, $"on Windows its file name would be {Encoded(name).Length} characters long (each capital letter counts twice); the limit is {MaxFileName}.");

        /// <summary>NAME's file name, or null when it would be longer than <see cref="MaxFileName"/>.</summary>
        public static string? TryEncode(string name)
        {
            string file = Encoded(name);
            return file.Length > MaxFileName ? null : file;
        }

        private static string Encoded(string name)
        {
            var b = new StringBuilder(name.Length + 8);
            if (IsDeviceName(name)) b.Append('~');
            foreach (char c in name)
            {
                if (c >= 'A' && c <= 'Z') b.Append('^');
                b.Append(c);
            }
            if (name.EndsWith(".", StringComparison.Ordinal)) b.Append('^');
            return b.ToString();
        }

        /// <summary>The name FILE (a record's file name) encodes, or null when it is not one <see cref="Encode"/> makes.</summary>
        public static string? Decode(string file)
        {
            int start = file.StartsWith("~", StringComparison.Ordinal) ? 1 : 0, end = file.Length;
            bool trailingMark = end > start && file[end - 1] == '^';
            if (trailingMark) end--;
            var b = new StringBuilder(end - start);
            for (int i = start; i < end; i++)
            {
                char c = file[i];
                if (c == '^')
                {
                    if (i + 1 >= end || file[i + 1] < 'A' || file[i + 1] > 'Z') return null;
                    b.Append(file[++i]);
                }
                else if (c >= 'A' && c <= 'Z') return null;   // a capital without its mark: not ours (or an older version's)
                else b.Append(c);
            }
            string name = b.ToString();
            try { IpcName.Validate(name); }
            catch (InvalidIpcNameException) { return null; }
            // Only the canonical form decodes, so no two file names stand for one name.
            return TryEncode(name) == file ? name : null;
        }

        /// <summary>Whether Win32 takes a last path component NAME for a DOS device: its part before the first '.', any case.</summary>
        private static bool IsDeviceName(string name)
        {
            int dot = name.IndexOf('.');
            string stem = (dot < 0 ? name : name.Substring(0, dot)).ToUpperInvariant();
            if (stem == "CON" || stem == "PRN" || stem == "AUX" || stem == "NUL") return true;
            return stem.Length == 4 && (stem.StartsWith("COM", StringComparison.Ordinal) || stem.StartsWith("LPT", StringComparison.Ordinal))
                && stem[3] >= '0' && stem[3] <= '9';
        }
    }
}
