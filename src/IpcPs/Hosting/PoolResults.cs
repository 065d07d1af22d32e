using System;
using System.Collections;
using System.Management.Automation;
using IpcPs.Core.Messaging;

namespace IpcPs.Hosting
{
    /// <summary>
    /// A pool item, and its result, as they travel (docs/design.md, "Pool"). An item that is not a plain value is
    /// encoded when it is given to the call (the command before may change the same object for its next item), and
    /// its chunk carries those bytes. A result travels [index, output[], records[], terminating], or, when
    /// anything in it is not a plain value, [index, bytes] — the same result encoded by the worker's runspace thread
    /// when the item finished, and decoded by the parent's reader thread.
    /// <para>
    /// Why: results are sent by the chunk's heartbeat, a timer thread, up to 2 ms later. Encoding an object reads its
    /// properties: a ScriptProperty (the user's, or one of PowerShell's types such as Process or FileInfo) would run
    /// there, on a thread without the runspace, beside the next item, and see that item's variables; an object the next
    /// item changes (a hashtable it fills again) would go as changed. Encoded when it finished, a result is what the
    /// item output, as ForEach-Object and Start-Job give it. Plain values (numbers, strings: what the codec writes
    /// itself, unwrapped) cannot change, and are left for the heartbeat to encode with the others, in one go.
    /// </para>
    /// </summary>
    internal static class PoolResults
    {
        /// <summary>True when RESULT's output and records are plain values only: encoding them later gives the same bytes and runs nothing.</summary>
        public static bool IsPlain(object?[] output, object?[] records)
        {
            foreach (var o in output)
                if (!IsPlainValue(o)) return false;
            foreach (var r in records)
            {
                // [kind, payload]: errors are described as text when written (ChildProtocol.DescribeError), warnings,
                // verbose and debug are their text; an information record carries the user's MessageData.
                if (r is object?[] { Length: 2 } pair && pair[0] is "I" && pair[1] is Hashtable info && !IsPlainValue(info["MessageData"])) return false;
            }
            return true;
        }

        private static bool IsPlainValue(object? value)
        {
            // A PSObject around a plain value is sent as the value (PSMessageFallback): its notes are not read.
            if (value is PSObject pso)
            {
                if (pso.BaseObject is PSCustomObject) return false;
                value = pso.BaseObject;
            }
            return value is null || value is int || value is string || value is long || value is double || value is bool
                || value is decimal || value is char || value is byte || value is sbyte || value is short || value is ushort
                || value is uint || value is ulong || value is float || value is DateTime || value is TimeSpan || value is Guid;
        }

        /// <summary>
        /// What a chunk sends for ITEM (session side, when the item is given): the item itself when it is plain, else
        /// its bytes encoded now at DEPTH (a byte[] in a chunk's items is always such bytes: a byte[] item is not
        /// plain). Throws what the codec throws for an item that cannot be sent.
        /// </summary>
        public static object? ToWire(object? item, int depth)
        {
            return IsPlainValue(item) ? item : MessageCodec.EncodeToArray(item, depth);
        }

        /// <summary>
        /// Worker side: the items of a chunk as they were given (see <see cref="ToWire"/>). An item that does not decode
        /// here (a handle whose object is gone, or that this process may not open; bytes that are not a message) becomes
        /// an <see cref="UnreadableItem"/>, which fails alone: the worker, the chunk's other items and later calls go on
        /// (what it attached before it failed is closed again).
        /// </summary>
        public static void DecodeItems(object?[] items)
        {
            for (int i = 0; i < items.Length; i++)
            {
                if (!(items[i] is byte[] bytes)) continue;
                try { items[i] = MessageCodec.Decode(bytes); }
                catch (Exception e) when (!(e is OutOfMemoryException)) { items[i] = new UnreadableItem(e); }
            }
        }

        /// <summary>
        /// Worker side: a call's arguments and $using: values, sent as the bytes of [arguments, using] (<see cref="PoolCall"/>):
        /// a value that is not such a pair is a malformed call (thrown: the pool's protocol is broken); a half of another
        /// type is taken as none. False, with UNREADABLE, when they cannot be decoded here (a handle among them whose
        /// object is gone; damaged bytes): the call cannot run on this worker, which says so to the pool.
        /// </summary>
        public static bool TryDecodeCallValues(object? value, out object?[] arguments, out Hashtable usingValues, out Exception? unreadable)
        {
            arguments = Array.Empty<object?>();
            usingValues = new Hashtable();
            unreadable = null;
            object? decoded;
            try { decoded = value is byte[] bytes ? MessageCodec.Decode(bytes) : null; }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                unreadable = e;
                return false;
            }
            if (!(decoded is object?[] { Length: 2 } pair)) throw new InvalidOperationException("The pool sent a malformed call.");
            arguments = pair[0] as object?[] ?? Array.Empty<object?>();
            usingValues = pair[1] as Hashtable ?? new Hashtable();
            return true;
        }

        /// <summary>
        /// The error a worker sends for what it could not receive (an item, or a call's values): the cause's ErrorId and
        /// category (IpcObjectNotFound for a handle whose object is gone), and a message that says what it could not read.
        /// </summary>
        public static Hashtable DescribeUnreadable(Exception e, string what)
        {
            var cause = Cause(e);
            var described = ChildProtocol.DescribeError(ErrorRecords.From(cause, null));
            described["Message"] = $"The worker could not receive {what}: {cause.Message}";
            return described;
        }

        /// <summary>
        /// Why a decode failed: the codec wraps what its CLIXML fallback throws (IpcObjectNotFoundException from
        /// re-attaching a handle whose object is gone, for instance) in a MessageFormatException; the error of IpcPs
        /// inside it says more, and its ErrorId is the one a script can test. E itself when there is none (damaged bytes:
        /// MessageFormat).
        /// </summary>
        private static Exception Cause(Exception e)
        {
            for (Exception? x = e; x != null; x = x.InnerException)
                if (x is IpcPs.IpcException && !(x is MessageFormatException)) return x;
            return e;
        }

        /// <summary>
        /// RESULT ([index, output, records, terminating]) encoded now, at DEPTH, as [index, bytes]; one the codec refuses
        /// becomes its item's error, without its output and records (neither could go), as the heartbeat's send made it.
        /// </summary>
        public static object?[] Encode(object?[] result, int depth)
        {
            try { return new object?[] { result[0], MessageCodec.EncodeToArray(result, depth) }; }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                return new object?[] { result[0], Array.Empty<object?>(), Array.Empty<object?>(), ChildProtocol.DescribeError(new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, null)) };
            }
        }

        /// <summary>
        /// Parent, reader thread: decodes in place the encoded results of a "done" message M. One that does not decode
        /// to a result of its index (it comes from another process) becomes that item's error: its item is never lost.
        /// </summary>
        public static void DecodeIn(object?[] m)
        {
            if (m.Length < 4 || !(m[0] is "done") || !(m[2] is object?[] results)) return;
            for (int i = 0; i < results.Length; i++)
            {
                if (!(results[i] is object?[] { Length: 2 } entry) || !(entry[1] is byte[] bytes)) continue;
                object? decoded;
                try { decoded = MessageCodec.Decode(bytes); }
                catch (Exception e) when (!(e is OutOfMemoryException)) { decoded = e; }
                results[i] = decoded is object?[] { Length: >= 4 } r && Equals(r[0], entry[0]) ? r : Unreadable(entry[0], decoded as Exception);
            }
        }

        private static object?[] Unreadable(object? index, Exception? cause)
        {
            var e = new MessageFormatException("The worker sent a result for this item that could not be read" + (cause is null ? "." : ": " + cause.Message));
            return new object?[] { index, Array.Empty<object?>(), Array.Empty<object?>(), ChildProtocol.DescribeError(new ErrorRecord(e, "PoolResultUnreadable", ErrorCategory.InvalidData, null)) };
        }
    }

    /// <summary>A chunk's item that the worker could not decode (see <see cref="PoolResults.DecodeItems"/>): it fails with ERROR, unrun.</summary>
    internal sealed class UnreadableItem
    {
        public UnreadableItem(Exception error) => Error = error;

        public Exception Error { get; }
    }
}
