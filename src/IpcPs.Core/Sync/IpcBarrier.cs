using System;
using System.Threading;
using IpcPs.Core.Sync;

namespace IpcPs
{
    /// <summary>
    /// A barrier for a fixed number of parties in any processes (CPython's multiprocessing.Barrier).
    /// State at offset 64: 64 i64 guard (<see cref="RobustLock"/>); then i32: 72 arrived (parties waiting now);
    /// 76 generation (futex word: bumped when a round completes or is reset); 80 broken (0/1);
    /// 84 the generation that was reset or broken while its parties waited (-1: none).
    /// 512..4095: each waiting party's process (i64 <see cref="HolderId"/>: pid and start time), by arrival index
    /// (up to 448 parties are watched for death).
    /// 4096..8191: the action's text (u16 length + UTF-8), run by the last party to arrive.
    /// Parameter A: parties. Parameter B: default timeout in seconds (NaN: none).
    /// A party that dies while waiting breaks the barrier, so the others get BrokenBarrierException instead of hanging.
    /// </summary>
    public sealed unsafe class IpcBarrier : SyncObject, IIpcBarrier
    {
        private const int Guard = StateOffset, Arrived = StateOffset + 8, Generation = StateOffset + 12, BrokenFlag = StateOffset + 16, FailedGeneration = StateOffset + 20;
        private const int Waiting = 512, WaitingStride = 8, WatchedParties = 448;
        private const int ActionText = 4096, ActionCapacity = 4096, SegmentSize = 8192;

        private IpcBarrier(string name) : base(name, IpcObjectKind.Barrier) { }

        internal static IpcBarrier Describe(string name) => new IpcBarrier(name);

        /// <summary>Creates a barrier for PARTIES; ACTIONTEXT (script text) runs in the last arriving process; TIMEOUTSECONDS is the default wait.</summary>
        public static IpcBarrier Create(string? name, int parties, string? actionText = null, double timeoutSeconds = double.NaN, bool openOrCreate = false)
        {
            if (parties < 1) throw new ArgumentOutOfRangeException(null, "A barrier needs at least 1 party.");
            return Make(name, openOrCreate, IpcObjectKind.Barrier, SegmentSize, parties, timeoutSeconds, n => new IpcBarrier(n), b =>
            {
                *(int*)((byte*)b + FailedGeneration) = -1;
                WriteString(b, ActionText, ActionCapacity, actionText);
            }).Handle;
        }

        public int Parties => (int)ParameterA;   // checked on attach: 1..int.MaxValue

        private protected override long MinimumSize => SegmentSize;

        private string _action = "";

        /// <summary>
        /// Checks the parties and captures the action text once. The action is what this handle runs as the last
        /// party: read on attach from a segment already checked to be this user's (an object another user planted is
        /// never opened), and never re-read from shared memory afterwards.
        /// </summary>
        private protected override void Validate(Core.Platform.Segment segment)
        {
            base.Validate(segment);
            if (CapturedParameterA < 1 || CapturedParameterA > int.MaxValue) throw Corrupt($"its party count is {CapturedParameterA}");
            _action = CapturedString(segment, ActionText, ActionCapacity, "its action text");
        }

        /// <summary>Parties waiting now (0 when broken).</summary>
        public int NWaiting => IsBroken ? 0 : Volatile.Read(ref *LookWord(Arrived));

        /// <summary>CPython's broken.</summary>
        public bool Broken => IsBroken;

        /// <summary>The default timeout in seconds, or null.</summary>
        public double? DefaultTimeout => double.IsNaN(ParameterB) || ParameterB < 0 ? (double?)null : ParameterB;

        /// <summary>The action's script text ("" when none), as read when this handle attached.</summary>
        public string Action { get { _ = LookBase; return _action; } }

        /// <summary>Waits for all parties (the default timeout applies). Returns this party's arrival index 0..Parties-1.</summary>
        public int Wait() => Wait(DefaultDeadline(), Core.IpcHost.CallerInterrupt);
        public int Wait(double timeoutSeconds) => Wait(Deadline.AfterSeconds(timeoutSeconds), Core.IpcHost.CallerInterrupt);

        /// <summary>For cmdlets: TIMEOUT null means the default timeout.</summary>
        public int Wait(TimeSpan? timeout, CancellationToken cancel) => Wait(timeout is TimeSpan t ? Deadline.After(t) : DefaultDeadline(), cancel);

        /// <summary>Breaks the barrier: current and future waiters get BrokenBarrierException until Reset.</summary>
        public void Abort()
        {
            Lock();
            Break();
            Unlock();
        }

        /// <summary>Back to the initial state; parties waiting now get BrokenBarrierException.</summary>
        public void Reset()
        {
            Lock();
            if (*Word(Arrived) > 0) *Word(FailedGeneration) = *Word(Generation);
            *Word(Arrived) = 0;
            *Word(BrokenFlag) = 0;
            NextGeneration();
            Unlock();
        }

        public override string ToString() => IsClosed ? $"Barrier('{Name}', closed)" : IsBroken ? $"Barrier('{Name}', broken)" : $"Barrier('{Name}', waiters={NWaiting}/{Parties})";

        private bool IsBroken => Volatile.Read(ref *LookWord(BrokenFlag)) != 0;

        private Deadline DefaultDeadline() => DefaultTimeout is double s ? Deadline.AfterSeconds(s) : Deadline.Infinite;

        private int Wait(Deadline deadline, CancellationToken cancel)
        {
            int generation, index;
            while (true)
            {
                Lock();
                if (*Word(BrokenFlag) != 0) { Unlock(); throw Fail("it was aborted, timed out, or a party failed; Reset it to use it again."); }
                generation = *Word(Generation);
                index = *Word(Arrived);
                if (index < Parties) break;
                // Draining: the last party is running the action. Arrivals for the next round wait for it to end,
                // without a timeout (as CPython's _enter); a dead last party is seen by the round's own waiters.
                bool lastDied = AWaiterDied();
                if (lastDied) Break();   // the party running the action died: no one else would end the round
                Unlock();
                if (lastDied) throw Fail("the party running the action died.");
                WordWait.Sleep(Word(Generation), generation, Deadline.Infinite, cancel, WordWait.LivenessSliceMs);
            }
            *Word(Arrived) = index + 1;
            if (index < WatchedParties) *LongWord(Waiting + index * WaitingStride) = HolderId.Me;
            if (index + 1 == Parties)
            {
                Unlock();
                RunAction();   // Arrived == Parties meanwhile: the round is draining
                Lock();
                try
                {
                    if (*Word(Generation) != generation) throw Fail("it was reset or aborted while the action ran.");
                    *Word(Arrived) = 0;
                    NextGeneration();
                    return index;
                }
                finally { Unlock(); }
            }
            Unlock();
            try
            {
                while (true)
                {
                    // Once the deadline has passed (only possible while the round drains) sleep in liveness slices.
                    bool inTime = WordWait.Sleep(Word(Generation), generation, deadline.HasPassed ? Deadline.Infinite : deadline, cancel, WordWait.LivenessSliceMs)
                        && !deadline.HasPassed;
                    Lock();
                    try
                    {
                        if (*Word(Generation) != generation)
                        {
                            if (*Word(FailedGeneration) == generation) throw Fail("it was reset or broken while this party waited.");
                            return index;
                        }
                        if (*Word(BrokenFlag) != 0) throw Fail("it was aborted, or another party timed out or failed.");
                        if (AWaiterDied()) { Break(); throw Fail("a waiting party's process died."); }
                        // Once all have arrived the round only waits for the action: a timeout no longer breaks it.
                        if (!inTime && *Word(Arrived) < Parties) { Break(); throw new BrokenBarrierException(Name, "the wait timed out.", timedOut: true); }
                    }
                    finally { Unlock(); }
                }
            }
            catch (OperationCanceledException)
            {
                Abort();   // a party that stops waiting breaks the barrier, as a timeout does
                throw;
            }
        }

        private void RunAction()
        {
            string text = Action;
            if (text.Length == 0) return;
            try
            {
                Core.IpcHost.Current.CompileAction(text)();
            }
            catch
            {
                Abort();
                throw;
            }
        }

        private bool AWaiterDied()
        {
            int n = Math.Min(*Word(Arrived), WatchedParties);
            for (int i = 0; i < n; i++)
            {
                if (Liveness.IsGone(*LongWord(Waiting + i * WaitingStride))) return true;   // unknown is not gone
            }
            return false;
        }

        /// <summary>Under the guard: broken, and the waiters of the current generation are woken to see it.</summary>
        private void Break()
        {
            *Word(BrokenFlag) = 1;
            if (*Word(Arrived) > 0) *Word(FailedGeneration) = *Word(Generation);
            *Word(Arrived) = 0;
            NextGeneration();
        }

        private void NextGeneration()
        {
            Interlocked.Increment(ref *Word(Generation));
            WordWait.Wake(Word(Generation), int.MaxValue);
        }

        private BrokenBarrierException Fail(string why) => new BrokenBarrierException(Name, why);

        private void Lock() => RobustLock.Acquire(LongWord(Guard), Deadline.Infinite, CancellationToken.None);
        private void Unlock() => RobustLock.Release(LongWord(Guard));
    }
}
