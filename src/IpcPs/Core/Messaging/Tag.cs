namespace IpcPs.Core.Messaging
{
    /// <summary>The first byte of every encoded value (docs/design.md, "Wire format"). Values are never renumbered.</summary>
    public enum Tag : byte
    {
        Null = 0x00, False = 0x01, True = 0x02,
        Int32 = 0x03, Int64 = 0x04, Double = 0x05, Single = 0x06, Decimal = 0x07,
        Byte = 0x08, SByte = 0x09, Int16 = 0x0A, UInt16 = 0x0B, UInt32 = 0x0C, UInt64 = 0x0D,
        String = 0x10, Char = 0x11, DateTime = 0x12, TimeSpan = 0x13, Guid = 0x14, Bytes = 0x15,
        Array = 0x20, Hashtable = 0x21, Ordered = 0x22, PrimitiveArray = 0x23, PropertyBag = 0x24,
        Clixml = 0x30,
    }
}
