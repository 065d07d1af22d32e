BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Starts COUNT children that each add 1 to the Int64 at offset 0 of SHM, ITERATIONS times, under LOCK
    # (taken TAKES times, for an RLock). Returns the final counter.
    function Invoke-CounterRace($Lock, [int] $Count = 4, [int] $Iterations = 10000, [int] $Takes = 1) {
        $shm = New-SharedMemory (New-TestName 'ctr') 8
        try {
            $jobs = 1..$Count | ForEach-Object {
                Start-IpcProcess -ArgumentList $shm, $Lock, $Iterations, $Takes {
                    param($m, $lk, $n, $takes)
                    for ($i = 0; $i -lt $n; $i++) {
                        for ($t = 0; $t -lt $takes; $t++) { [void]$lk.Acquire() }
                        $v = [BitConverter]::ToInt64($m.Read(0, 8), 0)
                        $m.Write(0, [BitConverter]::GetBytes($v + 1))
                        for ($t = 0; $t -lt $takes; $t++) { $lk.Release() }
                    }
                }
            }
            $jobs | Wait-IpcProcess -Timeout 300 | Out-Null
            foreach ($j in $jobs) { $j.State | Should -Be 'Completed' -Because ($j.Error | Out-String) }
            $jobs | Remove-Job
            [BitConverter]::ToInt64($shm.Read(0, 8), 0)
        } finally { $shm.Close() }
    }

    # A child that takes LOCK (via ACQUIRE), says 'held', then waits to be killed.
    function Start-Holder($Lock) {
        $job = Start-IpcProcess -ArgumentList $Lock { param($l) [void]$l.Acquire(); 'held'; Start-Sleep -Seconds 600 }
        Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to take the lock'
        $job.Output[0] | Should -Be 'held'
        $job
    }
}

Describe 'Mutual exclusion across processes' -Tag 'Windows' {
    It 'keeps 4 processes x 10,000 increments exact under a <Label>' -TestCases @(
        @{ Label = 'Lock'; Make = { New-IpcLock (New-TestName) }; Takes = 1 }
        @{ Label = 'Semaphore(1)'; Make = { New-IpcSemaphore (New-TestName) -InitialCount 1 }; Takes = 1 }
        @{ Label = 'RLock taken recursively'; Make = { New-IpcLock (New-TestName) -Recursive }; Takes = 3 }
    ) {
        param($Label, $Make, $Takes)
        $lock = & $Make
        try { Invoke-CounterRace -Lock $lock -Takes $Takes | Should -Be 40000 }
        finally { $lock.Close() }
    }
}

Describe 'Lock and RLock semantics (CPython _TestLock)' -Tag 'Windows' {
    It 'Lock: acquire, non-blocking acquire fails, release, second release is an error' {
        $l = New-IpcLock (New-TestName)
        try {
            $l.Acquire() | Should -BeTrue
            $l.Acquire($false) | Should -BeFalse
            $l.IsLocked | Should -BeTrue
            $l.HolderPid | Should -Be $PID
            $l.Release()
            Get-ThrownException { $l.Release() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
            Get-ErrorId { Exit-IpcLock $l } | Should -BeLike 'IpcInvalidSyncState*'
        } finally { $l.Close() }
    }

    It 'Lock: a timed acquire of a held lock returns False after the timeout; a negative timeout counts as 0' {
        $l = New-IpcLock (New-TestName)
        try {
            [void]$l.Acquire()
            $w = [Diagnostics.Stopwatch]::StartNew()
            $l.Acquire($true, 0.2) | Should -BeFalse
            $w.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.15
            $l.Acquire($true, -1) | Should -BeFalse
            $l.Release()
        } finally { $l.Close() }
    }

    It 'Lock: may be released by another process (no owner check, as CPython)' {
        $l = New-IpcLock (New-TestName)
        try {
            [void]$l.Acquire()
            $job = Start-IpcProcess { param($x) $x.Release(); $x.IsLocked } -ArgumentList $l
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -BeFalse
            $job | Remove-Job
            $l.IsLocked | Should -BeFalse
        } finally { $l.Close() }
    }

    It 'RLock: three acquires, three releases, the fourth release is an error' {
        $r = New-IpcLock (New-TestName) -Recursive
        try {
            1..3 | ForEach-Object { $r.Acquire() | Should -BeTrue }
            $r.RecursionCount | Should -Be 3
            1..3 | ForEach-Object { $r.Release() }
            $r.IsLocked | Should -BeFalse
            Get-ThrownException { $r.Release() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
        } finally { $r.Close() }
    }

    It 'RLock: cannot be released by a thread that does not hold it, nor taken by it meanwhile' {
        $r = New-IpcLock (New-TestName) -Recursive
        try {
            [void]$r.Acquire()
            $other = Start-ThreadJob { param($x) try { $x.Release(); 'released' } catch { $_.Exception.InnerException.GetType().Name }; $x.Acquire($false) } -ArgumentList $r
            $result = $other | Wait-Job | Receive-Job
            $result[0] | Should -Be 'IpcSyncStateException'
            $result[1] | Should -BeFalse
            $other | Remove-Job
            $r.Release()
        } finally { $r.Close() }
    }
}

Describe 'Semaphores (CPython _TestSemaphore)' -Tag 'Windows' {
    It 'counts 2, 1, 0, refuses a non-blocking acquire at 0, and can be released above its initial value' {
        $s = New-IpcSemaphore (New-TestName) -InitialCount 2
        try {
            $s.CurrentValue | Should -Be 2
            $s.Acquire() | Should -BeTrue; $s.CurrentValue | Should -Be 1
            $s.Acquire() | Should -BeTrue; $s.CurrentValue | Should -Be 0
            $s.Acquire($false) | Should -BeFalse
            1..4 | ForEach-Object { $s.Release() }
            $s.CurrentValue | Should -Be 4
        } finally { $s.Close() }
    }

    It 'times out: Semaphore(0) acquire with a timeout returns False' {
        $s = New-IpcSemaphore (New-TestName) -InitialCount 0
        try {
            $s.Acquire($false, 10) | Should -BeFalse
            $s.Acquire($true, 0.1) | Should -BeFalse
            { Enter-IpcLock $s -Timeout 0.1 } | Should -Throw -ErrorId 'IpcTimeout*'
        } finally { $s.Close() }
    }

    It 'BoundedSemaphore: releasing past the maximum is an error' {
        $b = New-IpcSemaphore (New-TestName) -InitialCount 1 -MaximumCount 2
        try {
            $b.IsBounded | Should -BeTrue
            $b.Release()
            Get-ThrownException { $b.Release() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
            $b.CurrentValue | Should -Be 2
        } finally { $b.Close() }
    }

    It 'refuses a negative initial value and a maximum below it' {
        Get-ErrorId { New-IpcSemaphore (New-TestName) -InitialCount -1 } | Should -BeLike 'IpcArgumentOutOfRange*'
        Get-ErrorId { New-IpcSemaphore (New-TestName) -InitialCount 3 -MaximumCount 2 } | Should -BeLike 'IpcArgumentOutOfRange*'
    }
}

Describe 'Events' {
    It 'waits with a timeout: False while clear, True once set (CPython _TestEvent)' -Tag 'Windows' {
        $e = New-IpcEvent (New-TestName)
        try {
            $e.IsSet() | Should -BeFalse
            $e.Wait(0.0) | Should -BeFalse
            Get-ErrorId { Wait-IpcEvent $e -Timeout 0.1 } | Should -Match '^IpcTimeout'   # the timeout rule
            Set-IpcEvent $e
            $e.Wait() | Should -BeTrue
            Wait-IpcEvent $e -Timeout 0.1 -PassThru | Should -Be $e
            Reset-IpcEvent $e
            $e.IsSet() | Should -BeFalse
            (New-IpcEvent (New-TestName) -Set).IsSet() | Should -BeTrue
        } finally { $e.Close() }
    }

    It 'wakes a child waiting on the event when the parent sets it' -Tag 'Windows' {
        $e = New-IpcEvent (New-TestName)
        $ready = New-IpcEvent (New-TestName)
        try {
            $job = Start-IpcProcess { param($ev, $r) Set-IpcEvent $r; Wait-IpcEvent $ev -Timeout 60 -ErrorAction Stop; $true } -ArgumentList $e, $ready
            Wait-IpcEvent $ready -Timeout 60 -ErrorAction Stop
            Set-IpcEvent $e
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -BeTrue
            $job | Remove-Job
        } finally { $e.Close(); $ready.Close() }
    }

    It 'ends a blocked Wait-IpcEvent promptly on Ctrl+C' -Tag 'Windows' {
        $e = New-IpcEvent (New-TestName)
        $run = Start-Stoppable { param($ev) Wait-IpcEvent $ev } -Arguments $e
        try {
            Wait-Until { $e.WaiterCount -eq 1 } -Because 'the wait to reach the kernel'
            $w = [Diagnostics.Stopwatch]::StartNew()
            $run.PowerShell.Stop()
            $w.Elapsed.TotalSeconds | Should -BeLessThan 2
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally { $run.PowerShell.Dispose(); $e.Close() }
    }
}

Describe 'Conditions (CPython _TestCondition)' -Tag 'Windows' {
    It 'Wait without holding the lock is an error; Wait(0) is False' {
        $c = New-IpcCondition (New-TestName)
        try {
            Get-ThrownException { $c.Wait(0.1) } | Should -BeOfType ([IpcPs.IpcSyncStateException])
            Get-ThrownException { $c.Notify() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
            [void]$c.Acquire()
            $c.Wait(0) | Should -BeFalse
            $c.Wait(0.1) | Should -BeFalse
            $c.Release()
        } finally { $c.Close() }
    }

    It 'fully releases an RLock held several times while waiting, and restores the count' {
        $c = New-IpcCondition (New-TestName)
        try {
            [void]$c.Acquire(); [void]$c.Acquire()
            $c.Lock.RecursionCount | Should -Be 2
            $job = Start-IpcProcess { param($cv) [void]$cv.Acquire(); $cv.Notify(); $cv.Release(); 'notified' } -ArgumentList $c
            $c.Wait(60) | Should -BeTrue -Because 'the child could only take the lock if the wait released both levels'
            $c.Lock.RecursionCount | Should -Be 2
            $c.Release(); $c.Release()
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -Be 'notified'
            $job | Remove-Job
        } finally { $c.Close() }
    }

    It 'wakes exactly n waiters with Notify(n), and the rest with NotifyAll' {
        $c = New-IpcCondition (New-TestName)
        $woken = New-IpcSemaphore (New-TestName) -InitialCount 0
        try {
            $jobs = 1..3 | ForEach-Object {
                Start-IpcProcess -ArgumentList $c, $woken { param($cv, $w) [void]$cv.Acquire(); $r = $cv.Wait(60); $cv.Release(); $w.Release(); $r }
            }
            Wait-Until { $c.WaiterCount -eq 3 } -Because 'three children to wait'
            [void]$c.Acquire(); $c.Notify(2); $c.Release()
            $woken.Acquire($true, 30) | Should -BeTrue
            $woken.Acquire($true, 30) | Should -BeTrue
            $woken.Acquire($true, 0.5) | Should -BeFalse -Because 'Notify(2) wakes two, not three'
            $c.WaiterCount | Should -Be 1
            [void]$c.Acquire(); $c.NotifyAll(); $c.Release()
            $woken.Acquire($true, 30) | Should -BeTrue
            ($jobs | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job) | Should -Be @($true, $true, $true)
            $jobs | Remove-Job
        } finally { $c.Close(); $woken.Close() }
    }

    It 'WaitFor returns the predicate''s value, false after the timeout' {
        $c = New-IpcCondition (New-TestName)
        try {
            [void]$c.Acquire()
            $c.WaitFor({ $true }, 1) | Should -BeTrue
            $w = [Diagnostics.Stopwatch]::StartNew()
            $c.WaitFor({ $false }, 0.2) | Should -BeFalse
            $w.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.15
            $c.Release()
        } finally { $c.Close() }
    }

    It 'uses a given Lock and is opened by name with it in another process' {
        $l = New-IpcLock (New-TestName)
        $c = New-IpcCondition (New-TestName) -Lock $l
        try {
            $c.Lock.Name | Should -Be $l.Name
            $job = Start-IpcProcess { param($cv) $cv.Lock.Name; "$($cv.Lock.Kind)" } -ArgumentList $c
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | ForEach-Object { "$_" } | Should -Be @($l.Name, 'Lock')
            $job | Remove-Job
        } finally { $c.Close(); $l.Close() }
    }
}

Describe 'Barriers (CPython _TestBarrier)' -Tag 'Windows' {
    It 'releases all parties together, each with its own index, and runs the action once' {
        $marks = New-SharedMemory (New-TestName) 1
        $b = New-IpcBarrier (New-TestName) -Parties 3 -Action ([scriptblock]::Create("(Get-IpcObject -Name '$($marks.Name)')[0] += 1"))
        try {
            $jobs = 1..2 | ForEach-Object { Start-IpcProcess { param($x) Wait-IpcBarrier $x -Timeout 60 -PassThru } -ArgumentList $b }
            $mine = Wait-IpcBarrier $b -Timeout 60 -PassThru
            $all = @($mine) + @($jobs | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job)
            ($all | Sort-Object) | Should -Be @(0, 1, 2)
            $marks[0] | Should -Be 1
            $b.NWaiting | Should -Be 0
            $b.Broken | Should -BeFalse
            $jobs | Remove-Job
        } finally { $b.Close(); $marks.Close() }
    }

    It 'a single party passes at once with index 0' {
        $b = New-IpcBarrier (New-TestName) -Parties 1
        try { $b.Wait() | Should -Be 0 } finally { $b.Close() }
    }

    It 'breaks on timeout: the waiter and later waiters get BrokenBarrierException until Reset' {
        $b = New-IpcBarrier (New-TestName) -Parties 2
        try {
            Get-ThrownException { $b.Wait(0.2) } | Should -BeOfType ([IpcPs.BrokenBarrierException])
            $b.Broken | Should -BeTrue
            { Wait-IpcBarrier $b -Timeout 5 } | Should -Throw -ErrorId 'BrokenBarrier*'
            $b.Reset()
            $b.Broken | Should -BeFalse
            $b.NWaiting | Should -Be 0
        } finally { $b.Close() }
    }

    It 'uses its default timeout' {
        $b = New-IpcBarrier (New-TestName) -Parties 2 -Timeout 0.2
        try {
            $b.DefaultTimeout | Should -Be 0.2
            Get-ThrownException { $b.Wait() } | Should -BeOfType ([IpcPs.BrokenBarrierException])
        } finally { $b.Close() }
    }

    It 'Abort breaks the barrier for a waiting child; Reset makes it usable again' {
        $b = New-IpcBarrier (New-TestName) -Parties 2
        try {
            $job = Start-IpcProcess { param($x) try { Wait-IpcBarrier $x -Timeout 60 -PassThru } catch { $_.FullyQualifiedErrorId } } -ArgumentList $b
            Wait-Until { $b.NWaiting -eq 1 } -Because 'the child to wait'
            $b.Abort()
            $b.Broken | Should -BeTrue
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -BeLike 'BrokenBarrier*'
            $job | Remove-Job
            $b.Reset()
            $job = Start-IpcProcess { param($x) Wait-IpcBarrier $x -Timeout 60 -PassThru } -ArgumentList $b
            $b.Wait(60) | Should -BeIn 0, 1
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -BeIn 0, 1
            $job | Remove-Job
        } finally { $b.Close() }
    }

    It 'breaks instead of hanging when a waiting party is killed' {
        $b = New-IpcBarrier (New-TestName) -Parties 3
        try {
            $job = Start-IpcProcess { param($x) Wait-IpcBarrier $x } -ArgumentList $b
            Wait-Until { $b.NWaiting -eq 1 } -Because 'the child to wait'
            Stop-IpcProcess $job -Force
            $w = [Diagnostics.Stopwatch]::StartNew()
            Get-ThrownException { $b.Wait(30) } | Should -BeOfType ([IpcPs.BrokenBarrierException])
            $w.Elapsed.TotalSeconds | Should -BeLessThan 5
            $job | Remove-Job -Force
        } finally { $b.Close() }
    }

    It 'refuses fewer than one party' {
        Get-ErrorId { New-IpcBarrier (New-TestName) -Parties 0 } | Should -Not -BeNullOrEmpty
        Get-ThrownException { [IpcPs.IpcBarrier]::Create((New-TestName), 0, $null, [double]::NaN, $false) } | Should -BeOfType ([ArgumentOutOfRangeException])
    }
}

Describe 'Abandoned locks: the holder dies' {
    It 'gives a <Label> whose holder was killed (Stop-Process -Force) to the next waiter, within a second, with the abandonment signal' -Tag 'Windows' -TestCases @(
        @{ Label = 'Lock'; Make = { New-IpcLock (New-TestName) } }
        @{ Label = 'RLock'; Make = { New-IpcLock (New-TestName) -Recursive } }
        @{ Label = 'Semaphore permit'; Make = { New-IpcSemaphore (New-TestName) -InitialCount 1 } }
    ) {
        param($Label, $Make)
        $lock = & $Make
        try {
            $job = Start-Holder $lock
            $lock.Acquire($false) | Should -BeFalse
            # As a user kills it: SIGKILL on Linux, TerminateProcess on Windows (as taskkill /F).
            Stop-Process -Id $job.Pid -Force
            Wait-Until { -not $job.IsAlive } -Because 'the holder to end'
            $w = [Diagnostics.Stopwatch]::StartNew()
            Get-ThrownException { $lock.Acquire($true, 10) } | Should -BeOfType ([IpcPs.AbandonedLockException])
            $w.Elapsed.TotalSeconds | Should -BeLessThan 1
            $lock.Release()
            $lock.Acquire($false) | Should -BeTrue -Because 'the lock works normally afterwards'
            $lock.Release()
            $job | Remove-Job -Force
        } finally { $lock.Close() }
    }

    It 'Enter-IpcLock takes an abandoned lock with a warning, without throwing' -Tag 'Windows' {
        $lock = New-IpcLock (New-TestName)
        try {
            $job = Start-Holder $lock
            Stop-IpcProcess $job -Force
            Enter-IpcLock $lock -Timeout 10 -WarningVariable warned -WarningAction SilentlyContinue
            $warned[0] | Should -BeLike '*abandoned*'
            $lock.HolderPid | Should -Be $PID
            Exit-IpcLock $lock
            $job | Remove-Job -Force
        } finally { $lock.Close() }
    }
}

Describe 'Use-IpcLock' -Tag 'Windows' {
    It 'runs the block under the lock and releases it afterwards' {
        $l = New-IpcLock (New-TestName)
        try {
            Use-IpcLock $l { param($x) "in $x"; $l.HolderPid } -ArgumentList 'block' | Should -Be @('in block', $PID)
            $l.IsLocked | Should -BeFalse
        } finally { $l.Close() }
    }

    It 'writes the block''s output after the release, so later commands never run under the lock; its errors go to -ErrorVariable' {
        $l = New-IpcLock (New-TestName)
        try {
            $seen = [Collections.Generic.List[string]]::new()
            $ErrorActionPreference = 'Continue'   # Pester makes errors in a test terminating
            Use-IpcLock $l { 1; Write-Error 'soft'; 2 } -ErrorVariable ev -ErrorAction SilentlyContinue | ForEach-Object { $seen.Add("$_ locked=$($l.IsLocked)") }
            $seen | Should -Be @('1 locked=False', '2 locked=False')
            $ev.Count | Should -Be 1
            "$($ev[0])" | Should -Be 'soft'
        } finally { $l.Close() }
    }

    It 'gives the block its -ErrorAction, -WarningAction and -Verbose, as an advanced function''s body gets them' {
        $l = New-IpcLock (New-TestName)
        try {
            $ErrorActionPreference = 'Continue'   # Pester makes errors in a test terminating
            $script:after = $false
            $e = Get-ThrownException { Use-IpcLock $l { Write-Error 'stop here'; $script:after = $true } -ErrorAction Stop }
            $e.Message | Should -Be 'stop here'
            $script:after | Should -BeFalse
            $l.IsLocked | Should -BeFalse
            $out = Use-IpcLock $l { Write-Warning 'hidden'; Write-Verbose 'shown' } -WarningAction SilentlyContinue -Verbose 3>&1 4>&1
            @($out | ForEach-Object { "$($_.GetType().Name):$_" }) | Should -Be @('VerboseRecord:shown')
            $VerbosePreference | Should -Be 'SilentlyContinue' -Because 'the caller''s preferences are not changed'
        } finally { $l.Close() }
    }

    It 'releases the lock when the block throws, and the error reaches the caller' {
        $l = New-IpcLock (New-TestName)
        try {
            { Use-IpcLock $l { throw 'inside' } } | Should -Throw '*inside*'
            $l.IsLocked | Should -BeFalse
        } finally { $l.Close() }
    }

    It 'does not run the block when the lock cannot be taken in time: a terminating IpcTimeout error' {
        $l = New-IpcLock (New-TestName)
        try {
            [void]$l.Acquire()
            $script:ran = $false
            { Use-IpcLock $l { $script:ran = $true } -Timeout 0.2 } | Should -Throw -ErrorId 'IpcTimeout*'
            $script:ran | Should -BeFalse
            $l.Release()
        } finally { $l.Close() }
    }

    It 'releases the lock when the pipeline is stopped (Ctrl+C) inside the block' {
        $l = New-IpcLock (New-TestName)
        $inside = New-IpcEvent (New-TestName)
        $run = Start-Stoppable { param($lk, $ev) Use-IpcLock $lk { Set-IpcEvent $ev; Wait-IpcEvent (New-IpcEvent) } } -Arguments $l, $inside
        try {
            Wait-IpcEvent $inside -Timeout 30 -ErrorAction Stop
            $l.IsLocked | Should -BeTrue
            $run.PowerShell.Stop()
            $l.IsLocked | Should -BeFalse
        } finally { $run.PowerShell.Dispose(); $l.Close(); $inside.Close() }
    }
}

Describe 'Open-or-create' {
    It 'gives racing processes one lock, created by exactly one of them' -Tag 'Windows' {
        $name = New-TestName 'race'
        $go = New-IpcEvent (New-TestName)
        $done = New-IpcEvent (New-TestName)
        try {
            $jobs = 1..4 | ForEach-Object {
                Start-IpcProcess -ArgumentList $name, $go, $done {
                    param($n, $g, $d)
                    [void](Wait-IpcEvent $g -Timeout 60)
                    $l = New-IpcLock -Name $n -OpenOrCreate
                    [pscustomobject]@{ Created = ($l.CreatorPid -eq $PID); Kind = "$($l.Kind)" }
                    [void](Wait-IpcEvent $d -Timeout 60)   # all hold it at once, so no one destroys it early
                    $l.Close()
                }
            }
            Set-IpcEvent $go
            Wait-Until { @($jobs | Where-Object { $_.Output.Count -gt 0 }).Count -eq 4 } -TimeoutSeconds 120 -Because 'all four to open or create'
            Set-IpcEvent $done
            $results = $jobs | Wait-IpcProcess -Timeout 120 -PassThru | Receive-Job
            @($results | Where-Object Created).Count | Should -Be 1
            ($results.Kind | Select-Object -Unique) | Should -Be 'Lock'
            $jobs | Remove-Job
            Test-Path "/dev/shm/$name" | Should -BeFalse -Because 'the last of them to close destroyed it'
        } finally { $go.Close(); $done.Close() }
    }

    It 'refuses to open a name of another kind, and New- without -OpenOrCreate refuses an existing name' -Tag 'Windows' {
        $e = New-IpcEvent (New-TestName)
        try {
            Get-ErrorId { New-IpcLock -Name $e.Name -OpenOrCreate } | Should -BeLike 'IpcObjectWrongKind*'
            Get-ErrorId { New-IpcEvent -Name $e.Name } | Should -BeLike 'IpcObjectExists*'
            (New-IpcEvent -Name $e.Name -OpenOrCreate).CreatorPid | Should -Be $PID
        } finally { $e.Close() }
    }

    It 'refuses a segment whose header is not an IpcPs object' {
        $raw = New-SharedMemory (New-TestName) 4096
        try {
            Get-ErrorId { Get-IpcObject -Name $raw.Name -Kind Lock } | Should -BeLike 'IpcObjectWrongKind*'
            $fake = New-TestName
            [IO.File]::WriteAllBytes("/dev/shm/$fake", [byte[]]::new(4096))
            try { Get-ThrownException { [IpcPs.IpcObjects]::Open($fake, 'Lock') } | Should -BeOfType ([IpcPs.IpcObjectKindException]) }
            finally { Remove-Item "/dev/shm/$fake" }
        } finally { $raw.Close() }
    }
}

Describe 'Synchronisation objects as named objects' -Tag 'Windows' {
    It 'lists every kind with Get-IpcObject, opens it by name, and removes it with Remove-IpcObject' {
        $objects = @(
            New-IpcLock (New-TestName)
            New-IpcLock (New-TestName) -Recursive
            New-IpcSemaphore (New-TestName) -InitialCount 2
            New-IpcSemaphore (New-TestName) -InitialCount 1 -MaximumCount 1
            New-IpcEvent (New-TestName)
            New-IpcBarrier (New-TestName) -Parties 2
        )
        try {
            $listed = Get-IpcObject | Where-Object Name -In $objects.Name
            ($listed | ForEach-Object { "$($_.Kind)" } | Sort-Object) | Should -Be @('Barrier', 'BoundedSemaphore', 'Event', 'Lock', 'RLock', 'Semaphore')
            ($listed.Status | Select-Object -Unique) | Should -Be 'Active'
            $opened = Get-IpcObject -Name $objects[2].Name
            $opened | Should -BeOfType ([IpcPs.IpcSemaphore])
            $opened.CurrentValue | Should -Be 2
            $opened.Close()
            $listed | Remove-IpcObject
            foreach ($o in $objects) { Test-Path "/dev/shm/$($o.Name)" | Should -BeFalse }
        } finally { $objects | ForEach-Object { $_.Close() } }
    }

    It 'lets Use-IpcLock and Enter-IpcLock take a condition''s lock' {
        $c = New-IpcCondition (New-TestName)
        try {
            Use-IpcLock $c { $c.Lock.IsMine; $c.Wait(0) } | Should -Be @($true, $false)
            $c.Lock.IsLocked | Should -BeFalse
            $c.Close()
            Test-Path "/dev/shm/$($c.Name).lock" | Should -BeFalse -Because 'a condition closes the lock it made'
        } finally { $c.Close() }
    }
}

Describe 'Review findings (regressions)' -Tag 'Windows' {
    It 'a semaphore used as a count (released by a producer, taken by a consumer that exits) gives no permit back' {
        $s = New-IpcSemaphore (New-TestName) -InitialCount 0
        try {
            1..3 | ForEach-Object { $s.Release() }
            $job = Start-IpcProcess { param($x) 1..3 | ForEach-Object { $x.Acquire($true, 30) } } -ArgumentList $s
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -Be @($true, $true, $true)
            $job | Remove-Job
            $s.CurrentValue | Should -Be 0
            $s.Acquire($true, 0.5) | Should -BeFalse -Because 'the consumer took produced permits, not ones to give back'
        } finally { $s.Close() }
    }

    It 'a notification goes to the waiter that was waiting, not to one that arrives after Notify' {
        $c = New-IpcCondition (New-TestName)
        try {
            $job = Start-IpcProcess { param($cv) [void]$cv.Acquire(); $r = $cv.Wait(30); $cv.Release(); $r } -ArgumentList $c
            Wait-Until { $c.WaiterCount -eq 1 } -Because 'the child to wait'
            [void]$c.Acquire()
            $c.Notify()
            $c.Wait(0.3) | Should -BeFalse -Because 'the notification was the child''s'
            $c.Release()
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -BeTrue
            $job | Remove-Job
        } finally { $c.Close() }
    }

    It 'a waiter killed while waiting is not counted, and NotifyAll leaves no stray wake-up' {
        $c = New-IpcCondition (New-TestName)
        try {
            $job = Start-IpcProcess { param($cv) [void]$cv.Acquire(); [void]$cv.Wait() } -ArgumentList $c
            Wait-Until { $c.WaiterCount -eq 1 } -Because 'the child to wait'
            Stop-IpcProcess $job -Force
            [void]$c.Acquire()
            $c.NotifyAll()
            $c.WaiterCount | Should -Be 0
            $c.Wait(0.3) | Should -BeFalse
            $c.Release()
            $job | Remove-Job -Force
        } finally { $c.Close() }
    }

    It 'a condition passed to a child keeps its lock alive after the parent closes its handle' {
        $c = New-IpcCondition (New-TestName)
        $go = New-IpcEvent (New-TestName)
        try {
            $job = Start-IpcProcess { param($cv, $g) [void](Wait-IpcEvent $g -Timeout 60); [void]$cv.Acquire(); $cv.Release(); 'ok' } -ArgumentList $c, $go
            $c.Close()
            Set-IpcEvent $go
            $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -Be 'ok'
            $job | Remove-Job
        } finally { $go.Close() }
    }

    It 'New-IpcCondition -OpenOrCreate opens an existing condition with its own lock' {
        $l = New-IpcLock (New-TestName)
        $c = New-IpcCondition (New-TestName) -Lock $l
        try {
            $again = New-IpcCondition -Name $c.Name -OpenOrCreate
            $again.Lock.Name | Should -Be $l.Name
            Test-Path "/dev/shm/$($c.Name).lock" | Should -BeFalse
            $again.Close()
        } finally { $c.Close(); $l.Close() }
    }

    It 'an event set and cleared at once still wakes a waiter' {
        $e = New-IpcEvent (New-TestName)
        $ready = New-IpcEvent (New-TestName)
        try {
            $job = Start-IpcProcess { param($ev, $r) Set-IpcEvent $r; $w = [Diagnostics.Stopwatch]::StartNew(); $ev.Wait(20); $w.Elapsed.TotalSeconds -lt 10 } -ArgumentList $e, $ready
            Wait-IpcEvent $ready -Timeout 60 -ErrorAction Stop
            Wait-Until { $e.WaiterCount -eq 1 } -Because 'the child to sleep on the event'
            $e.Set(); $e.Clear()
            $result = $job | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job
            # It answers the flag as it finds it on waking (CPython does the same): True if it woke before the Clear.
            $result[0] | Should -BeOfType ([bool])
            $result[1] | Should -BeTrue -Because 'the waiter woke on the pulse instead of sleeping to its timeout'
            $job | Remove-Job
        } finally { $e.Close(); $ready.Close() }
    }

    It 'a barrier action that cannot be stored leaves nothing behind' {
        $name = New-TestName
        Get-ThrownException { [IpcPs.IpcBarrier]::Create($name, 2, ('x' * 5000), [double]::NaN, $false) } | Should -BeOfType ([ArgumentException])
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }

    It 'an arrival during the action waits for the next round' {
        $b = New-IpcBarrier (New-TestName) -Parties 2 -Action { Start-Sleep -Milliseconds 1500 }
        try {
            $round1 = 1..2 | ForEach-Object { Start-IpcProcess { param($x) Wait-IpcBarrier $x -Timeout 60 -PassThru } -ArgumentList $b }
            Wait-Until { $b.NWaiting -eq 2 } -Because 'both parties of round 1 to arrive (the action then runs)'
            $late = Start-IpcProcess { param($x) Wait-IpcBarrier $x -Timeout 60 -PassThru } -ArgumentList $b
            $mine = $b.Wait(60)   # arrives while round 1 drains: must wait for a partner in round 2
            $mine | Should -BeIn 0, 1
            (($round1 | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job) | Sort-Object) | Should -Be @(0, 1)
            $late | Wait-IpcProcess -Timeout 60 -PassThru | Receive-Job | Should -Be (1 - $mine)
            $round1 + $late | Remove-Job
        } finally { $b.Close() }
    }
}

Describe 'Closed handles and failed warnings' -Tag 'Windows' {
    It 'refuses every use of a closed <Kind> with IpcObjectClosed, never a crash' -TestCases @(
        @{ Kind = 'Lock'; Make = { New-IpcLock (New-TestName) }; Use = { param($o) $o.Acquire() } }
        @{ Kind = 'Event'; Make = { New-IpcEvent (New-TestName) }; Use = { param($o) $o.IsSet() } }
        @{ Kind = 'Semaphore'; Make = { New-IpcSemaphore (New-TestName) }; Use = { param($o) $o.Release() } }
        @{ Kind = 'Barrier'; Make = { New-IpcBarrier (New-TestName) -Parties 2 }; Use = { param($o) $o.Wait(0.1) } }
        @{ Kind = 'Condition'; Make = { New-IpcCondition (New-TestName) }; Use = { param($o) $o.Notify() } }
    ) {
        param($Kind, $Make, $Use)
        $o = & $Make
        $o.Close()
        Get-ThrownException { & $Use $o } | Should -BeOfType ([ObjectDisposedException])
        if ($o -is [IpcPs.ILockable]) { Get-ErrorId { Enter-IpcLock $o -Timeout 1 } | Should -BeLike 'IpcObjectClosed*' }
        if ($o -is [IpcPs.IpcEvent]) { Get-ErrorId { Wait-IpcEvent $o -Timeout 1 } | Should -BeLike 'IpcObjectClosed*' }
        if ($o -is [IpcPs.IpcBarrier]) { Get-ErrorId { Wait-IpcBarrier $o -Timeout 1 } | Should -BeLike 'IpcObjectClosed*' }
        "$o" | Should -Not -BeNullOrEmpty
    }

    It 'does not keep an abandoned lock when -WarningAction Stop fails Use-IpcLock' {
        $lock = New-IpcLock (New-TestName)
        try {
            $job = Start-Holder $lock
            Stop-IpcProcess $job -Force
            { Use-IpcLock $lock { 'ran' } -Timeout 10 -WarningAction Stop } | Should -Throw
            $lock.IsLocked | Should -BeFalse
            $job | Remove-Job -Force
        } finally { $lock.Close() }
    }
}
