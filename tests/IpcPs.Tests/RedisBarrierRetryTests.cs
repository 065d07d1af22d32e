// These tests run barrier waits on threads, each bounded by its own timeout: blocking task waits are the point.
#pragma warning disable xUnit1031, xUnit1051

using System;
using System.Threading.Tasks;
using IpcPs.Redis;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A barrier arrival whose answer was lost (BackendOutcomeUnknown) and that its caller tries again on the same handle
    /// and thread counts once: the handle sends it again with the same token, which the script knows. It used to count
    /// twice (with two parties, the retry alone released the round). Another thread's Wait on the handle is a party of
    /// its own, and a Reset forgets the lost arrival.
    /// </summary>
    [Trait(PlatformTesting.Trait, PlatformTesting.Linux)]
    public sealed class RedisBarrierRetryTests
    {
        public RedisBarrierRetryTests() => RedisTestBase.SkipUnlessInstalled();

        [Fact]
        public void An_arrival_whose_answer_was_lost_counts_once_when_tried_again()
        {
            using var rig = new RedisBarrierRetryRig();
            var a = rig.A;
            var b = rig.B;
            rig.DropNextArrivalAnswer();
            // The Wait and its retry on one thread (a handle keeps a lost arrival per thread).
            using var failed = new System.Threading.ManualResetEventSlim(false);
            using var go = new System.Threading.ManualResetEventSlim(false);
            Exception? lost = null, retryFailure = null;
            int retried = -99;
            var party = new System.Threading.Thread(() =>
            {
                try { a.Wait(20); } catch (Exception e) { lost = e; }
                failed.Set();
                go.Wait(TimeSpan.FromSeconds(60));
                try { retried = a.Wait(20); } catch (Exception e) { retryFailure = e; }
            });
            party.Start();
            Assert.True(failed.Wait(TimeSpan.FromSeconds(30)), "the first Wait did not end");
            Assert.IsType<IpcBackendOutcomeUnknownException>(lost);
            Assert.True(rig.Proxy.Held.IsSet);
            Assert.Equal(1, b.NWaiting);   // it did arrive

            go.Set();   // the same arrival: still one of two
            Assert.False(party.Join(300), "the retry counted as a second party and released the round alone");
            Assert.Equal(1, b.NWaiting);
            int other = b.Wait(20);
            Assert.True(party.Join(20000), "the retry was not released by the second party");
            Assert.Null(retryFailure);
            Assert.Equal(new[] { 0, 1 }, new[] { retried, other });   // its own index, 0, as counted the first time
            Assert.Equal(0, b.NWaiting);

            // The next round: a new arrival (no token left pending on the handle), counted anew.
            var next = Task.Run(() => a.Wait(20));
            rig.AwaitArrival("the next arrival never came");
            Assert.Equal(1, b.Wait(20));
            Assert.True(next.Wait(20000));
            Assert.Equal(0, next.Result);
            b.Unlink();
        }

        [Fact]
        public void The_last_arrival_whose_answer_was_lost_finds_its_round_released_when_tried_again()
        {
            using var rig = new RedisBarrierRetryRig();
            var a = rig.A;
            var b = rig.B;
            var first = Task.Run(() => b.Wait(20));
            rig.AwaitArrival("the first party never arrived");
            rig.DropNextArrivalAnswer();
            Assert.Throws<IpcBackendOutcomeUnknownException>(() => a.Wait(20));   // it released the round; its answer was lost
            Assert.True(first.Wait(20000));
            Assert.Equal(0, first.Result);

            Assert.Equal(1, a.Wait(20));   // the same arrival: the round it released, at once, with its index
            Assert.Equal(0, b.NWaiting);   // not counted into the next round
            b.Unlink();
        }

        [Fact]
        public void A_lost_arrival_of_one_thread_is_never_another_threads_arrival_and_Reset_forgets_it()
        {
            // One handle, two threads (as ForEach-Object -Parallel shares it): the first thread's arrival is counted and
            // its answer lost; the second thread's Wait is a party of its own, which releases the round.
            using var rig = new RedisBarrierRetryRig();
            var a = rig.A;
            var b = rig.B;
            rig.DropNextArrivalAnswer();
            Exception? lost = null;
            var firstThread = new System.Threading.Thread(() => { try { a.Wait(20); } catch (Exception e) { lost = e; } });
            firstThread.Start();
            Assert.True(firstThread.Join(TimeSpan.FromSeconds(30)), "the first thread's Wait did not end");
            Assert.IsType<IpcBackendOutcomeUnknownException>(lost);
            Assert.Equal(1, b.NWaiting);
            var secondThread = Task.Factory.StartNew(() => a.Wait(20), TaskCreationOptions.LongRunning);
            Assert.True(secondThread.Wait(20000), "the second thread's Wait took the first thread's lost arrival as its own");
            Assert.Equal(1, secondThread.Result);
            Assert.Equal(0, b.NWaiting);

            // After a Reset of the handle a Wait is a new arrival (the lost one is forgotten): not the reset round's
            // BrokenBarrierException, nor an arrival that returns at once.
            rig.DropNextArrivalAnswer();
            Assert.Throws<IpcBackendOutcomeUnknownException>(() => a.Wait(20));
            a.Reset();
            var again = Task.Run(() => a.Wait(20));
            rig.AwaitArrival("the Wait after the Reset never arrived");
            Assert.Equal(1, b.Wait(20));
            Assert.True(again.Wait(20000));
            Assert.Equal(0, again.Result);
            b.Unlink();
        }
    }
}
