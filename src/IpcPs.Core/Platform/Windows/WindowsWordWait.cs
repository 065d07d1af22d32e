using System;
using System.Globalization;
using System.Threading;

namespace IpcPs.Core.Platform.Windows
{
    /// <summary>
    /// Futex semantics without futexes (Windows' WaitOnAddress does not cross processes), for words in a waitable
    /// segment (<see cref="WindowsSegment"/>, found by address through <see cref="SegmentRanges"/>). Each waitable word
    /// has a slot in the segment's sleepers table (<see cref="WaitTable"/>): a generation and a count of sleepers
    /// registered in it. The sleepers of generation G block on a named semaphore, <c>ipcps:INCARNATION:OFFSET:G</c>
    /// (the session's namespace, user-only security descriptor; INCARNATION is the segment's random number, so names
    /// are unguessable to others and never shared by two segments).
    /// <para>Sleeper: opens (or creates) the semaphore of the generation it read, registers by CAS (count + 1, the
    /// generation unchanged, else again with the new one), re-reads the word (gone from EXPECTED: withdraw, return), then
    /// blocks on the semaphore and the cancellation handle with the timeout. Registering before re-reading, with the
    /// waker reading the count after changing the word (both full fences), means one of them always sees the other:
    /// no wake-up is lost. The semaphore is opened before registering, so whoever counts the sleeper finds it.</para>
    /// <para>Waker (COUNT): CAS the slot: no sleepers, nothing (no system call); COUNT ≥ sleepers: generation + 1 and
    /// count 0 (later sleepers go to the next semaphore, so they can never take these permits); else count − COUNT.
    /// Then it releases that many permits on the old generation's semaphore (absent: every counted sleeper has left or
    /// died, nothing to do).</para>
    /// <para>A sleeper ended by its timeout or cancellation withdraws: while its generation is current and counts
    /// anyone, it takes one off; otherwise a waker counted it and it takes back the permit (non-blocking) and, when
    /// that wake was meant for fewer than all, passes it on (Wake 1), so a leaving sleeper never costs another its
    /// wake-up (a futex would lose it to the leaver; the Linux callers re-check after their slice). A permit
    /// that arrives after it left, or one made for a sleeper that was killed, stays in that generation's semaphore: a
    /// later sleeper of the same generation wakes early once (allowed: callers re-check) or it dies with the semaphore
    /// when the generation's last sleeper closes it. A killed sleeper's count stays until a wake of all resets the
    /// slot: wakes meanwhile make an unneeded system call.</para>
    /// </summary>
    internal sealed unsafe class WindowsWordWait : IWordWait
    {
        public bool Wait(int* address, int expected, int timeoutMilliseconds, CancellationToken cancel)
        {
            var segment = SegmentOf(address);
            bool held = false;
            try
            {
                segment.DangerousAddRef(ref held);   // mapped until the wait returns (SegmentRanges)
                return Wait(segment, address, expected, timeoutMilliseconds, cancel);
            }
            finally { if (held) segment.DangerousRelease(); }
        }

        private bool Wait(WindowsSegment segment, int* address, int expected, int timeoutMilliseconds, CancellationToken cancel)
        {
            int offset = (int)((byte*)address - (byte*)segment.Address);
            long* state = WaitTable.State(segment.Table, offset, create: true);
            var sa = PrivateSecurity.ForObject();
            while (true)
            {
                uint generation = WaitTable.Generation(Volatile.Read(ref *state));
                string name = SemaphoreName(segment, offset, generation);
                IntPtr semaphore = Win32.CreateSemaphoreEx(&sa, 0, int.MaxValue, name, 0, Win32.SEMAPHORE_ALL_ACCESS);
                if (semaphore == IntPtr.Zero) throw new IpcPlatformException("CreateSemaphore", Win32.LastError, segment.Name);
                try
                {
                    if (!Register(state, generation)) continue;   // a waker moved the generation on: its semaphore is another
                    if (Volatile.Read(ref *address) != expected)
                    {
                        // The word has moved: the caller re-checks and acts on it, as a woken sleeper would.
                        Withdraw(state, generation, semaphore);
                        return true;
                    }
                    if (cancel.CanBeCanceled) WordWaitTesting.SleepStarting?.Invoke();   // tests: a cancel here is seen by the wait on the token's handle
                    uint result = Block(semaphore, timeoutMilliseconds, cancel, segment.Name);
                    if (result == Win32.WAIT_OBJECT_0) return true;
                    // Timed out or cancelled (the caller then throws). A wake-up of some sleepers that counted this one
                    // is passed on to another, so leaving never costs the others theirs.
                    var claim = Withdraw(state, generation, semaphore);
                    if (claim == Claim.PartialTaken) Wake(segment, address, 1);
                    return result != Win32.WAIT_TIMEOUT || claim == Claim.AllTaken;
                }
                finally { Win32.CloseHandle(semaphore); }
            }
        }

        public void Wake(int* address, int count)
        {
            if (count <= 0) return;
            var segment = SegmentOf(address);
            bool held = false;
            try
            {
                segment.DangerousAddRef(ref held);   // mapped until the wake returns (SegmentRanges)
                Wake(segment, address, count);
            }
            finally { if (held) segment.DangerousRelease(); }
        }

        private void Wake(WindowsSegment segment, int* address, int count)
        {
            int offset = (int)((byte*)address - (byte*)segment.Address);
            long* state = WaitTable.State(segment.Table, offset, create: false);
            if (state == null) return;   // nobody ever slept on this word
            while (true)
            {
                long seen = Volatile.Read(ref *state);
                int sleepers = WaitTable.Sleepers(seen);
                if (sleepers == 0) return;
                uint generation = WaitTable.Generation(seen);
                int woken = Math.Min(count, sleepers);
                long next = woken == sleepers ? WaitTable.Of(generation + 1, 0) : WaitTable.Of(generation, sleepers - woken);
                if (Interlocked.CompareExchange(ref *state, next, seen) != seen) continue;
                IntPtr semaphore = Win32.OpenSemaphore(Win32.SEMAPHORE_MODIFY_STATE, false, SemaphoreName(segment, offset, generation));
                if (semaphore == IntPtr.Zero)
                {
                    int error = Win32.LastError;
                    if (error == Win32.ERROR_FILE_NOT_FOUND) return;   // every sleeper counted has left or died
                    throw new IpcPlatformException("OpenSemaphore", error, segment.Name);
                }
                try
                {
                    if (!Win32.ReleaseSemaphore(semaphore, woken, null) && Win32.LastError != Win32.ERROR_TOO_MANY_POSTS)
                        throw new IpcPlatformException("ReleaseSemaphore", Win32.LastError, segment.Name);
                }
                finally { Win32.CloseHandle(semaphore); }
                return;
            }
        }

        /// <summary>ADDRESS's segment, held strongly by the caller from here (see <see cref="SegmentRanges"/> on why that is safe).</summary>
        private static WindowsSegment SegmentOf(int* address) =>
            SegmentRanges.Find(address) ?? throw new InvalidOperationException("A word wait on an address outside every waitable segment mapped in this process (or in one no handle refers to any more).");

        private static string SemaphoreName(WindowsSegment segment, int offset, uint generation) =>
            "ipcps:" + segment.Incarnation.ToString("x16", CultureInfo.InvariantCulture) + ":" + offset.ToString("x", CultureInfo.InvariantCulture)
            + ":" + generation.ToString("x", CultureInfo.InvariantCulture);

        /// <summary>Counts one more sleeper in GENERATION; false when the generation has moved on.</summary>
        private static bool Register(long* state, uint generation)
        {
            while (true)
            {
                long seen = Volatile.Read(ref *state);
                if (WaitTable.Generation(seen) != generation) return false;
                int sleepers = WaitTable.Sleepers(seen);
                if (sleepers == int.MaxValue) throw new InvalidOperationException("The sleepers table counts too many sleepers on one word.");
                if (Interlocked.CompareExchange(ref *state, WaitTable.Of(generation, sleepers + 1), seen) == seen) return true;
            }
        }

        /// <summary>What a withdrawing sleeper found.</summary>
        private enum Claim
        {
            /// <summary>Not counted by any waker: its registration is taken off.</summary>
            None,
            /// <summary>Counted by a wake of some sleepers (the generation did not move), its permit taken back.</summary>
            PartialTaken,
            /// <summary>Counted by a wake of all (the generation moved), its permit taken back.</summary>
            AllTaken,
            /// <summary>Counted, but the permit is not there yet (its waker is between counting and releasing).</summary>
            Pending,
        }

        /// <summary>Takes this sleeper's registration back (see <see cref="Claim"/>).</summary>
        private static Claim Withdraw(long* state, uint generation, IntPtr semaphore)
        {
            while (true)
            {
                long seen = Volatile.Read(ref *state);
                int sleepers = WaitTable.Sleepers(seen);
                bool moved = WaitTable.Generation(seen) != generation;
                if (moved || sleepers == 0)
                {
                    // A waker counted this sleeper: its permit is in the semaphore, or about to be.
                    if (Win32.WaitForSingleObject(semaphore, 0) != Win32.WAIT_OBJECT_0) return Claim.Pending;
                    return moved ? Claim.AllTaken : Claim.PartialTaken;
                }
                if (Interlocked.CompareExchange(ref *state, WaitTable.Of(generation, sleepers - 1), seen) == seen) return Claim.None;
            }
        }

        /// <summary>Blocks on SEMAPHORE (and CANCEL's handle) at most TIMEOUT ms: WAIT_OBJECT_0, WAIT_TIMEOUT, or WAIT_OBJECT_0 + 1 (cancelled).</summary>
        private static uint Block(IntPtr semaphore, int timeoutMilliseconds, CancellationToken cancel, string name)
        {
            uint ms = timeoutMilliseconds < 0 ? Win32.INFINITE : (uint)timeoutMilliseconds;
            uint result;
            if (!cancel.CanBeCanceled) result = Win32.WaitForSingleObject(semaphore, ms);
            else
            {
                var cancelHandle = cancel.WaitHandle.SafeWaitHandle;
                bool added = false;
                try
                {
                    cancelHandle.DangerousAddRef(ref added);
                    IntPtr* handles = stackalloc IntPtr[2];
                    handles[0] = semaphore;
                    handles[1] = cancelHandle.DangerousGetHandle();
                    result = Win32.WaitForMultipleObjects(2, handles, false, ms);
                }
                finally { if (added) cancelHandle.DangerousRelease(); }
            }
            if (result == Win32.WAIT_FAILED) throw new IpcPlatformException("WaitForMultipleObjects", Win32.LastError, name);
            return result;
        }
    }
}
