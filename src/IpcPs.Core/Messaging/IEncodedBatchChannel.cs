using System;
using System.Threading;

namespace IpcPs.Core.Messaging
{
    /// <summary>
    /// A channel that sends messages encoded beforehand (a queue, a pipe end): Send-IpcMessage encodes each item when
    /// it is handed over and sends the bytes later, in a batch, so that what goes is the item as it was then (the
    /// command before may change the same object for its next item) and no serializer runs on another thread.
    /// </summary>
    internal interface IEncodedBatchChannel : IBatchChannel
    {
        /// <summary>How this channel encodes a message that is exactly a byte[]: as its raw bytes (a pipe's raw frame) or as a value.</summary>
        bool SendsRawBytes { get; }

        /// <summary>Sends BATCH's messages as <see cref="IBatchChannel.TrySendMany"/> sends messages: the same rules, the same result.</summary>
        int TrySendEncoded(MessageBatch batch, long? priority, TimeSpan timeout, CancellationToken cancel);
    }
}
