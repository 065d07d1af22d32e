namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// What decoding may allocate (docs/design.md, "Wire format", "Bounded decoding"). Every value the decoder makes
    /// is charged, before it is made, against an allowance of <see cref="Factor"/> bytes per byte of the message plus
    /// <see cref="Slack"/>; a message that would need more is a <see cref="MessageFormatException"/>. A message that
    /// fails costs, besides, the exception thrown where it failed, bounded by how deep that is (the nesting limits):
    /// <see cref="FailureReserve"/>. So decoding S bytes allocates at most <see cref="Bound"/> = 64·S + 768 KiB,
    /// whatever counts the message claims. Each charge is an upper bound of what .NET and PowerShell allocate for that
    /// value (tests/IpcPs.Tests/CodecAllocationTests measures them). The encoder adds up the same charges and refuses
    /// to send what its receiver would refuse.
    /// </summary>
    public static class DecodeCost
    {
        /// <summary>Bytes the decoder may allocate per byte of message.</summary>
        public const int Factor = 64;

        /// <summary>Bytes every message may be charged besides (small messages of a few objects, the fallback's set-up).</summary>
        public const long Slack = 256 * 1024;

        /// <summary>
        /// What a failure may cost on top of what was charged: the exception and its stack trace, built through every
        /// level it unwinds (PowerShell's deserializer at 160 elements deep and the codec's 64 levels: 440 KB measured
        /// at the worst, most of it PowerShell's).
        /// </summary>
        public const long FailureReserve = 512 * 1024;

        /// <summary>What decoding a message of MESSAGEBYTES bytes may be charged.</summary>
        public static long Allowance(long messageBytes) => Factor * messageBytes + Slack;

        /// <summary>What decoding a message of MESSAGEBYTES bytes allocates at most, whether it succeeds or fails.</summary>
        public static long Bound(long messageBytes) => Allowance(messageBytes) + FailureReserve;

        /// <summary>
        /// A boxed primitive (bools are not boxed again: they are shared). Not charged where it is read: every
        /// container charges it for each of its items in advance (a value outside any container is the whole
        /// message, and its box fits in the slack), which keeps the decoder's per-value work off the hot path.
        /// </summary>
        public const long Box = 24;

        /// <summary>A decimal or a Guid: the box and a temporary array.</summary>
        public const long Wide = 80;

        /// <summary>Each container's slot in the decoder's table of numbered values (a list that doubles).</summary>
        public const long Numbered = 16;

        /// <summary>A string decoded from N bytes of UTF-8 (at most N UTF-16 characters).</summary>
        public static long String(int utf8Bytes) => 32 + 2L * utf8Bytes;

        /// <summary>A byte[] of N bytes.</summary>
        public static long Bytes(int count) => 32 + (long)count;

        /// <summary>An object[] of N items (a slot, and a box, each).</summary>
        public static long Array(int count) => 32 + (8 + Box) * (long)count + Numbered;

        /// <summary>An ArrayList of N items (a slot, and a box, each).</summary>
        public static long List(int count) => 80 + (8 + Box) * (long)count + Numbered;

        /// <summary>A Hashtable of N entries (buckets for N / 0.72 entries; a box for the key and the value).</summary>
        public static long Hashtable(int count) => 256 + (48 + 2 * Box) * (long)count + Numbered;

        /// <summary>An OrderedDictionary of N entries (a Hashtable, an ArrayList and a boxed entry each; two boxes).</summary>
        public static long Ordered(int count) => 512 + (96 + 2 * Box) * (long)count + Numbered;

        /// <summary>A primitive array of N bytes.</summary>
        public static long PrimitiveArray(long bytes) => 32 + bytes + Numbered;

        /// <summary>A property bag: a PSObject, and the member collection its first property makes.</summary>
        public const long Bag = 1024 + Numbered;

        /// <summary>
        /// One type name of a bag (N bytes of UTF-8): the string read, the "Deserialized." one, the list slot, and the
        /// list's key, which PowerShell rebuilds on every name added (all names so far joined: KEYCHARS characters,
        /// see <see cref="TypeNameKey"/>). So a bag's type names cost the square of their number, and a bag of
        /// thousands of names is refused, not built.
        /// </summary>
        public static long TypeName(int utf8Bytes, long keyChars) => 192 + 4L * utf8Bytes + 2 * keyChars;

        /// <summary>The length of that key once the INDEX-th name (N bytes of UTF-8) is added to one of KEYCHARS.</summary>
        public static long TypeNameKey(long keyChars, int index, int utf8Bytes) => keyChars + utf8Bytes + 13 + (index > 0 ? 3 : 0);

        /// <summary>One property of a bag (name of N bytes of UTF-8), besides its value: the name, a note property, its slot.</summary>
        public static long Property(int nameUtf8Bytes) => 384 + 2L * nameUtf8Bytes;

        /// <summary>A Version.</summary>
        public const long Version = 48;

        /// <summary>A Uri parsed from N bytes of UTF-8 (the string, the parsed parts, the forms it caches).</summary>
        public static long Uri(int utf8Bytes) => 256 + 8L * utf8Bytes;
    }
}
