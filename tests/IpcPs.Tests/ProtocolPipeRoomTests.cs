using System.Threading;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A send that must not wait for its receiver (the pool's dispatcher, whose busy worker reads its pipe only after
    /// its item): it goes whole when the ring has room for it now, sends nothing when it has not, and never starts a
    /// frame larger than the ring, which would stream as the receiver reads. SendRoom says what would fit.
    /// </summary>
    public sealed class ProtocolPipeRoomTests
    {
        [Fact]
        public void ASendThatMustNotWaitGoesWholeOrNotAtAll()
        {
            const int Ring = IpcConnection.MinimumBufferSize;
            var ends = IpcConnection.CreatePipe(null, duplex: false, bufferSize: Ring);
            var receiver = ends[0];
            var sender = ends[1];
            try
            {
                string a = new string('a', 2500), b = new string('b', 2500), c = new string('c', 2 * Ring);
                Assert.Equal(Ring, sender.SendRoom);
                Assert.True(sender.TrySendWithoutWaiting(a, false, CancellationToken.None, out long frame));
                Assert.InRange(frame, 2500, Ring);
                Assert.Equal(Ring - frame, sender.SendRoom);

                // No room for a second one: nothing of it goes, and the room is as it was.
                Assert.False(sender.TrySendWithoutWaiting(b, false, CancellationToken.None, out long refused));
                Assert.Equal(frame, refused);
                Assert.Equal(Ring - frame, sender.SendRoom);
                Assert.Equal(a, receiver.Recv());
                Assert.Equal(Ring, sender.SendRoom);

                // Larger than the ring: not even into an empty one.
                Assert.False(sender.TrySendWithoutWaiting(c, false, CancellationToken.None, out long big));
                Assert.True(big > Ring, $"a frame of {big} bytes");
                Assert.Equal(Ring, sender.SendRoom);
                Assert.False(receiver.Poll());

                // With WAIT it goes as Send does: streamed as the receiver reads it.
                var read = Eventually.OnThread(() => receiver.Recv());
                Assert.True(sender.TrySendWithoutWaiting(c, true, CancellationToken.None, out _));
                Assert.Equal(c, Eventually.Within(read, 30, "the streamed message"));
                Assert.True(sender.TrySendWithoutWaiting(b, false, CancellationToken.None, out _));
                Assert.Equal(b, receiver.Recv());
                Assert.False(receiver.Poll());
            }
            finally
            {
                receiver.Close();
                sender.Close();
            }
        }
    }
}
