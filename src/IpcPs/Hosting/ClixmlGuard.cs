using System;
using System.Collections.Generic;
using System.Management.Automation;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Reads CLIXML text once, before PowerShell's deserializer does, and bounds what the deserializer would do with it
    /// (docs/design.md, "Bounded decoding"). PowerShell's deserializer limits objects to 50 levels but recurses without
    /// limit into nested member sets (&lt;MS&gt; in &lt;MS&gt;: 200,000 of them overflowed the stack and ended pwsh), and a
    /// &lt;TNRef&gt; of 30 bytes copies a whole type-name list (of any length), so a small text could ask for gigabytes.
    /// This scan allocates nothing: it refuses what PowerShell's serializer never writes (a DTD, comments, CDATA,
    /// processing instructions, non-numeric type-list ids), elements nested more than <see cref="MaxElementDepth"/>
    /// deep or objects more than <see cref="MaxObjectDepth"/> deep, and returns an upper bound of what deserializing
    /// the text allocates, which the caller charges to the message's allowance.
    /// </summary>
    internal static unsafe class ClixmlGuard
    {
        /// <summary>Elements nested at most this deep (an object level takes up to three: Obj, MS or LST or DCT, En).</summary>
        public const int MaxElementDepth = 160;

        /// <summary>&lt;Obj&gt; nested at most this deep: PowerShell's deserializer refuses an object at level 50 (its values included).</summary>
        public const int MaxObjectDepth = 48;

        // The charges: upper bounds of what PowerShell 7 allocates, measured by tests/IpcPs.Tests/ClixmlGuardTests.
        private const long PerText = 12 * 1024;        // the deserializer's XmlReader (buffers) and state, once per text
        private const long PerElement = 320;           // a type name, a list item, a value: a string, a box, a slot
        private const long PerObject = 768;            // an <Obj>: a PSObject, its type names, the walk that looks for handles in it
        private const long PerCustomObject = 6 * 1024; // a [pscustomobject] among them: the walk reads its properties (IpcObjectConverter.Rehydrate)
        private const long PerNamedElement = 448;      // more for an element with N="…": a property (PSNoteProperty, its slot)
        private const long PerChar = 4;                // every character: the reader's buffers, attribute values
        private const long PerTextChar = 4;            // more for a character of text content: the strings made of it (and copies)
        private const long PerMemberSet = 1024;        // a nested member set (<MS N="…">): a PSMemberSet and its collection
        private const long PerClonedTypeName = 16;     // a <TNRef> copies the list it names: a slot per name
        private const long PerXmlDocument = 16 * 1024; // an <XD>: an XmlDocument, read by an XmlReader of its own
        private const long PerXmlDocumentChar = 32;    // inside <XD>: its nodes, built from the (escaped) text

        /// <summary>What deserializing TEXT may allocate; throws MessageFormatException for text that is refused.</summary>
        public static long Check(string text)
        {
            int length = text.Length;
            byte* open = stackalloc byte[MaxElementDepth + 2];   // per open element: IsObject | IsTypeList | IsXmlDocument
            int depth = 0, objects = 0, typeList = -1, typeListCount = 0, typeListId = -1, xmlDocument = -1;
            long elements = 0, named = 0, clones = 0, xmlChars = 0, objectCount = 0, customObjects = 0, xmlDocuments = 0, textChars = 0, memberSets = 0;
            bool typeListIsCustom = false;
            Dictionary<int, (int Names, bool Custom)>? typeLists = null;
            int i = 0;
            while (i < length)
            {
                int lt = text.IndexOf('<', i);
                textChars += (lt < 0 ? length : lt) - i;
                if (xmlDocument >= 0) xmlChars += (lt < 0 ? length : lt) - i;
                if (lt < 0) break;
                i = lt + 1;
                if (i >= length) throw Refused("it ends inside a tag");
                char c = text[i];
                if (c == '/')
                {
                    int gt = text.IndexOf('>', i);
                    if (gt < 0) throw Refused("it ends inside a tag");
                    if (depth == 0) throw Refused("it closes an element it never opened");
                    byte flags = open[depth];
                    if ((flags & IsObject) != 0) objects--;
                    if ((flags & IsTypeList) != 0)
                    {
                        if (typeListId >= 0) (typeLists ??= new Dictionary<int, (int, bool)>())[typeListId] = (typeListCount, typeListIsCustom);
                        Typed(open, depth - 1, typeListIsCustom, ref customObjects);
                        typeList = -1;
                    }
                    if ((flags & IsXmlDocument) != 0) xmlDocument = -1;
                    depth--;
                    i = gt + 1;
                    continue;
                }
                if (c == '!' || c == '?')
                {
                    // Only an XML declaration, and only first: nothing else of the kind is CLIXML.
                    if (c == '?' && elements == 0 && depth == 0 && string.CompareOrdinal(text, i, "?xml", 0, 4) == 0
                        && i + 4 < length && char.IsWhiteSpace(text[i + 4]))
                    {
                        int end = text.IndexOf("?>", i, StringComparison.Ordinal);
                        if (end < 0) throw Refused("it ends inside its XML declaration");
                        i = end + 2;
                        continue;
                    }
                    throw Refused("it holds a DTD, a comment, a CDATA section or a processing instruction, which PowerShell's serializer never writes");
                }

                // A start tag: its name, then attributes up to > or />.
                int nameStart = i;
                while (i < length && !IsNameEnd(text[i])) i++;
                if (i == nameStart) throw Refused("it has a tag without a name");
                int localStart = text.LastIndexOf(':', i - 1, i - nameStart);
                localStart = localStart < 0 ? nameStart : localStart + 1;
                int localLength = i - localStart;
                bool hasName = false, empty = false;
                int refId = -1;
                while (true)
                {
                    while (i < length && IsSpace(text[i])) i++;
                    if (i >= length) throw Refused("it ends inside a tag");
                    if (text[i] == '>') { i++; break; }
                    if (text[i] == '/')
                    {
                        if (i + 1 >= length || text[i + 1] != '>') throw Refused("it has a malformed tag");
                        i += 2;
                        empty = true;
                        break;
                    }
                    int attrStart = i;
                    while (i < length && text[i] != '=' && !IsSpace(text[i]) && text[i] != '>' && text[i] != '/') i++;
                    int attrLength = i - attrStart;
                    while (i < length && IsSpace(text[i])) i++;
                    if (attrLength == 0 || i >= length || text[i] != '=') throw Refused("it has a malformed attribute");
                    i++;
                    while (i < length && IsSpace(text[i])) i++;
                    if (i >= length || (text[i] != '"' && text[i] != '\'')) throw Refused("it has an attribute without quotes");
                    char quote = text[i];
                    int valueStart = i + 1;
                    int valueEnd = text.IndexOf(quote, valueStart);
                    if (valueEnd < 0) throw Refused("it ends inside an attribute");
                    if (text.IndexOf('<', valueStart, valueEnd - valueStart) >= 0) throw Refused("it has '<' in an attribute");
                    i = valueEnd + 1;
                    if (Is(text, attrStart, attrLength, "N")) hasName = true;
                    else if (Is(text, attrStart, attrLength, "RefId")) refId = ParseId(text, valueStart, valueEnd - valueStart);
                }

                elements++;
                if (hasName) named++;
                int level = depth + 1;
                if (level > MaxElementDepth) throw Refused($"it nests elements more than {MaxElementDepth} deep");
                byte flagsOfThis = 0;
                if (Is(text, localStart, localLength, "Obj"))
                {
                    if (objects + 1 > MaxObjectDepth) throw Refused($"it nests objects more than {MaxObjectDepth} deep, more than PowerShell's deserializer accepts");
                    // An object is a custom object (its properties walked) until its type names say otherwise.
                    flagsOfThis |= IsObject | AssumedCustom;
                    objectCount++;
                    customObjects++;
                }
                else if (Is(text, localStart, localLength, "T"))
                {
                    if (typeList >= 0 && level == typeList + 1)
                    {
                        typeListCount++;
                        if (!empty && IsCustomObjectName(text, i)) typeListIsCustom = true;
                    }
                }
                else if (Is(text, localStart, localLength, "TN"))
                {
                    if (empty)
                    {
                        if (refId >= 0) (typeLists ??= new Dictionary<int, (int, bool)>())[refId] = (0, false);
                        Typed(open, depth, false, ref customObjects);
                    }
                    else
                    {
                        flagsOfThis |= IsTypeList;
                        typeList = level;
                        typeListCount = 0;
                        typeListIsCustom = false;
                        typeListId = refId;
                    }
                }
                else if (Is(text, localStart, localLength, "TNRef"))
                {
                    if (refId >= 0 && typeLists != null && typeLists.TryGetValue(refId, out var list))
                    {
                        clones += list.Names;
                        Typed(open, depth, list.Custom, ref customObjects);
                    }
                }
                else if (Is(text, localStart, localLength, "MS"))
                {
                    if (hasName) memberSets++;
                }
                else if (Is(text, localStart, localLength, "XD"))
                {
                    xmlDocuments++;
                    if (!empty && xmlDocument < 0)
                    {
                        flagsOfThis |= IsXmlDocument;
                        xmlDocument = level;
                    }
                }
                if (empty) continue;
                depth = level;
                open[depth] = flagsOfThis;
                if ((flagsOfThis & IsObject) != 0) objects++;
            }
            return PerText + PerElement * elements + PerNamedElement * named + PerChar * (long)length + PerTextChar * textChars
                + PerMemberSet * memberSets + PerObject * objectCount
                + PerCustomObject * customObjects + PerClonedTypeName * clones + PerXmlDocument * xmlDocuments + PerXmlDocumentChar * xmlChars;
        }

        /// <summary>
        /// PSSerializer.Deserialize of TEXT that came from another process, bounded: checked first, and refused when it
        /// would allocate more than a message of its size may (<see cref="DecodeCost"/>); every failure is a
        /// MessageFormatException.
        /// </summary>
        public static object? Deserialize(string text)
        {
            long need = Check(text);
            if (need > DecodeCost.Allowance(text.Length))
                throw new MessageFormatException($"The serialized text would need more memory to read than {DecodeCost.Factor} times its size allows: it is damaged or crafted.");
            try { return PSSerializer.Deserialize(text); }
            catch (Exception e) when (!(e is MessageFormatException) && !(e is OutOfMemoryException))
            {
                throw new MessageFormatException("The serialized text cannot be read: " + e.Message, e);
            }
        }

        private const byte IsObject = 1, IsTypeList = 2, IsXmlDocument = 4, AssumedCustom = 8;

        private const string CustomObjectName = "System.Management.Automation.PSCustomObject";

        /// <summary>
        /// The type names of the element open at LEVEL (when it is an object) are known: CUSTOM or not. The last list
        /// read wins, as in the deserializer, so the count follows it both ways.
        /// </summary>
        private static void Typed(byte* open, int level, bool custom, ref long customObjects)
        {
            if (level < 1 || (open[level] & IsObject) == 0) return;
            bool counted = (open[level] & AssumedCustom) != 0;
            if (custom && !counted) { open[level] |= AssumedCustom; customObjects++; }
            else if (!custom && counted) { open[level] &= unchecked((byte)~AssumedCustom); customObjects--; }
        }

        /// <summary>
        /// Whether the text at AT (after a &lt;T&gt;) may name a custom object: as written, already Deserialized., or
        /// escaped (an entity or PowerShell's _xHHHH_: counted as one, since the deserializer would decode it).
        /// </summary>
        private static bool IsCustomObjectName(string text, int at)
        {
            int end = text.IndexOf('<', at);
            if (end < 0) return false;
            int length = end - at;
            if (text.IndexOf('&', at, length) >= 0 || text.IndexOf('_', at, length) >= 0) return true;
            if (length >= 13 && string.CompareOrdinal(text, at, "Deserialized.", 0, 13) == 0) { at += 13; length -= 13; }
            return length == CustomObjectName.Length && string.CompareOrdinal(text, at, CustomObjectName, 0, length) == 0;
        }

        private static MessageFormatException Refused(string why) =>
            new MessageFormatException($"The serialized text (CLIXML) is refused before it is read: {why}.");

        private static bool IsSpace(char c) => c == ' ' || c == '\t' || c == '\r' || c == '\n';

        private static bool IsNameEnd(char c) => IsSpace(c) || c == '>' || c == '/';

        private static bool Is(string text, int start, int length, string name) =>
            length == name.Length && string.CompareOrdinal(text, start, name, 0, length) == 0;

        /// <summary>
        /// A type-list id: PowerShell writes decimal numbers. Anything else (leading zeros, entities, spaces: text the
        /// XML reader would read differently) is refused, so the ids here are the ids PowerShell sees.
        /// </summary>
        private static int ParseId(string text, int start, int length)
        {
            if (length == 0 || length > 9 || (length > 1 && text[start] == '0')) throw Refused("it has a reference id that is not a plain number");
            int value = 0;
            for (int k = start; k < start + length; k++)
            {
                char d = text[k];
                if (d < '0' || d > '9') throw Refused("it has a reference id that is not a plain number");
                value = value * 10 + (d - '0');
            }
            return value;
        }
    }
}
