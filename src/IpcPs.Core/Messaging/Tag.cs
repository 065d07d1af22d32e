namespace IpcPs.Core.Messaging
{
    /// <summary>The first byte of every encoded value (docs/design.md, "Wire format"). Values are never renumbered.</summary>
    public enum Tag : byte
    {
        Null = 0x00, False = 0x01, True = 0x02,
        Int32 = 0x03, Int64 = 0x04, Double = 0x05, Single = 0x06, Decimal = 0x07,
        Byte = 0x08, SByte = 0x09, Int16 = 0x0A, UInt16 = 0x0B, UInt32 = 0x0C, UInt64 = 0x0D,
        String = 0x10, Char = 0x11, DateTime = 0x12, TimeSpan = 0x13, Guid = 0x14, Bytes = 0x15,

        /// <summary>System.Version: major, minor, build, revision as four int32 (-1: not given). PowerShell's serializer also carries it as such.</summary>
        Version = 0x16,

        /// <summary>System.Uri: its text (ToString, as PowerShell's serializer writes it); arrives relative or absolute as it was.</summary>
        Uri = 0x17,

        Array = 0x20, Hashtable = 0x21, Ordered = 0x22, PrimitiveArray = 0x23, PropertyBag = 0x24,

        /// <summary>A value met before: its number (values are numbered in the order the decoder meets them, see MessageCodec).</summary>
        Ref = 0x25,

        /// <summary>A list that is not an array (ArrayList, List&lt;T&gt;, …): count, values; arrives as an ArrayList, as remoting delivers it.</summary>
        List = 0x26,

        Clixml = 0x30,
    }
}
