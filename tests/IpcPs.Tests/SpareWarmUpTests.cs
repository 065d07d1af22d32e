using System;
using System.Management.Automation;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// A spare's warm-up round (<see cref="SpareWarmUp"/>) in a real PowerShell runspace: a put that fails ends the
    /// round, so no get waits for ever on the empty queue behind it (the request's Stop joins the round), and the
    /// failure is counted and leaves nothing in $Error.
    /// </summary>
    public sealed class SpareWarmUpTests
    {
        /// <summary>A queue whose put fails; its get says it was called (a real one would wait for ever there).</summary>
        public sealed class FailingQueue
        {
            public int Gets { get; private set; }

            public void Put(object? item) => throw new InvalidOperationException("no room");

            public object? Get()
            {
                Gets++;
                return null;
            }
        }

        [Fact]
        public void APutThatFailsEndsTheRoundBeforeAnyGetAndLeavesNoError()
        {
            var queue = new FailingQueue();
            int before = SpareWarmUp.Errors;
            using var ps = PowerShell.Create();
            try { Assert.True(SpareWarmUp.RunItems(ps, 3, queue)); }
            catch (RuntimeException) { /* the round ended with its error: what Run and Prepare catch */ }
            Assert.Equal(0, queue.Gets);
            Assert.Equal(before + 1, SpareWarmUp.Errors);
            ps.Commands.Clear();
            Assert.Equal(0, ps.AddScript("$global:Error.Count").Invoke<int>()[0]);
        }
    }
}
