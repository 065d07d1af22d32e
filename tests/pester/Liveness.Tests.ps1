BeforeAll {
    . $PSScriptRoot/Common.ps1

    # A child that takes LOCK (Acquire), says 'held', then waits to be killed.
    function Start-Holder($Lock) {
        $job = Start-IpcProcess -ArgumentList $Lock { param($l) [void]$l.Acquire(); 'held'; Start-Sleep -Seconds 600 }
        Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to take the lock'
        $job.Output[0] | Should -Be 'held'
        $job
    }

    # SIGKILLs JOB's process and waits until its pid is free again (reaped: no /proc entry).
    function Stop-Victim($Job) {
        $victim = $Job.Pid
        Stop-IpcProcess $Job -Force
        Wait-Until { -not (Test-Path "/proc/$victim") } -Because "pid $victim to be reaped"
        $Job | Remove-Job -Force
        $victim
    }

    # Makes an unrelated process (MODE 'process') or a thread of one (MODE 'thread') get pid TARGET: python3 writes
    # TARGET-1 to /proc/sys/kernel/ns_last_pid and forks (or starts a thread) at once, retrying when some other
    # process took the pid first; under an exclusive flock of ns_last_pid, as every test that writes it. Returns the python process (stdin open: closing it ends everything it started);
    # its first line of output is the pid it got (0: it never got it).
    function Start-PidReuser([int] $Target, [ValidateSet('process', 'thread')] [string] $Mode) {
        $code = @'
import os, sys, threading, time, signal, fcntl
target, mode = int(sys.argv[1]), sys.argv[2]
done = threading.Event()
got, kids = 0, []
# Every writer of ns_last_pid holds an exclusive flock of it from its write to its fork (PidReuseSignalTests too).
gate = open('/proc/sys/kernel/ns_last_pid')
fcntl.flock(gate, fcntl.LOCK_EX)
for attempt in range(200):
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
        f.write(str(target - 1))
    if mode == 'process':
        pid = os.fork()
        if pid == 0:
            signal.pause()
            os._exit(0)
        if pid == target:
            got = pid
            kids.append(pid)
            break
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    else:
        t = threading.Thread(target=done.wait, daemon=True)
        t.start()
        if t.native_id == target:
            got = target
            break
gate.close()
print(got, flush=True)
sys.stdin.read()
done.set()
for k in kids:
    os.kill(k, signal.SIGKILL)
    os.waitpid(k, 0)
'@
        $psi = [Diagnostics.ProcessStartInfo]::new('python3')
        foreach ($a in @('-c', $code, "$Target", $Mode)) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($psi)
        $line = $p.StandardOutput.ReadLine()
        [pscustomobject]@{ Process = $p; Got = [int]$line }
    }

    function Stop-PidReuser($Reuser) {
        $Reuser.Process.StandardInput.Close()
        if (-not $Reuser.Process.WaitForExit(10000)) { $Reuser.Process.Kill() }
        $Reuser.Process.Dispose()
    }
}

Describe 'Liveness fails closed' {
    It 'a process with no free descriptors does not take a <Label> from a live holder' -TestCases @(
        @{ Label = 'Lock'; Make = { New-IpcLock (New-TestName) } }
        @{ Label = 'Semaphore permit'; Make = { New-IpcSemaphore (New-TestName) -InitialCount 1 } }
    ) {
        param($Label, $Make)
        $lock = & $Make
        try {
            $lock.Acquire() | Should -BeTrue   # this process is the live holder
            $job = Start-IpcProcess -ArgumentList $lock {
                param($l)
                $l.Acquire($false) | Should -BeFalse   # a liveness check with descriptors to spare: the holder lives
                # Lower this process's descriptor limit a little above what it uses, then use up the rest.
                $limit = @(Get-ChildItem /proc/self/fd).Count + 16
                & prlimit --pid $PID "--nofile=$($limit):$($limit)"
                if ($LASTEXITCODE) { throw 'prlimit failed' }
                $files = [Collections.Generic.List[IO.FileStream]]::new()
                try {
                    $out = $null
                    while ($null -eq $out) {
                        try { $files.Add([IO.File]::OpenRead('/dev/null')) } catch { $out = $_.Exception.InnerException.Message }
                        if ($files.Count -gt $limit) { throw 'the descriptor limit did not apply' }
                    }
                    $result = try { "returned $($l.Acquire($true, 1.5))" } catch { "threw $($_.Exception.InnerException.GetType().Name)" }
                    # Still out of descriptors at the end: the wait really ran without any to spare.
                    $still = try { $files.Add([IO.File]::OpenRead('/dev/null')); 'no' } catch { 'yes' }
                    "$out|$result|$still"
                } finally { foreach ($f in $files) { $f.Dispose() } }
            }
            $job | Wait-IpcProcess -Timeout 120 | Out-Null
            $job.State | Should -Be 'Completed' -Because ($job.Error | Out-String)
            $out, $result, $still = ($job.Output | Select-Object -Last 1) -split '\|'
            $out | Should -BeLike '*Too many open files*'
            $still | Should -Be 'yes'
            $result | Should -Be 'returned False' -Because 'not knowing whether the holder lives must never mean it died'
            if ($lock -is [IpcPs.IpcLock]) { $lock.HolderPid | Should -Be $PID } else { $lock.CurrentValue | Should -Be 0 }
            $job | Remove-Job
            $lock.Release()
        } finally { $lock.Close() }
    }
}

Describe 'Pid reuse' {
    BeforeAll {
        # No warm spare is started while these tests run: a spare replenished in the background (after Start-Holder
        # took one) is a new process that can take the dead holder's pid before the reuser does, and then keeps it.
        $script:sparesBefore = $env:IPCPS_SPARES
        $env:IPCPS_SPARES = '0'
    }
    AfterAll { $env:IPCPS_SPARES = $script:sparesBefore }

    It 'recovers a <Label> whose dead holder''s pid now names another <Mode>' -TestCases @(
        @{ Label = 'Lock'; Mode = 'process'; Make = { New-IpcLock (New-TestName) } }
        @{ Label = 'Semaphore permit'; Mode = 'process'; Make = { New-IpcSemaphore (New-TestName) -InitialCount 1 } }
        @{ Label = 'Lock'; Mode = 'thread'; Make = { New-IpcLock (New-TestName) } }
        @{ Label = 'Semaphore permit'; Mode = 'thread'; Make = { New-IpcSemaphore (New-TestName) -InitialCount 1 } }
    ) {
        param($Label, $Mode, $Make)
        $lock = & $Make
        $reuser = $null
        try {
            $victim = Stop-Victim (Start-Holder $lock)
            $reuser = Start-PidReuser $victim $Mode
            $reuser.Got | Should -Be $victim -Because 'the test needs the dead holder''s pid taken by someone else'
            Test-Path "/proc/$victim/stat" | Should -BeTrue
            $w = [Diagnostics.Stopwatch]::StartNew()
            Get-ThrownException { $lock.Acquire($true, 5) } | Should -BeOfType ([IpcPs.AbandonedLockException])
            $w.Elapsed.TotalSeconds | Should -BeLessThan 2
            $lock.Release()
        } finally {
            if ($reuser) { Stop-PidReuser $reuser }
            $lock.Close()
        }
    }

    It 'ends a pipe whose peer''s pid now names another process' {
        $a, $b = New-IpcPipe
        $reuser = $null
        try {
            $job = Start-IpcProcess -ArgumentList $b { param($c) $c.Send('ready'); Start-Sleep -Seconds 600 }
            $a.Recv() | Should -Be 'ready'
            $b.Close()
            $victim = Stop-Victim $job
            $reuser = Start-PidReuser $victim 'process'
            $reuser.Got | Should -Be $victim
            $a.Poll(5) | Should -BeTrue -Because 'the end of the stream is known (CPython: poll is True at EOF)'
            Get-ThrownException { $a.Recv() } | Should -BeOfType ([IpcPs.ConnectionClosedException])
        } finally {
            if ($reuser) { Stop-PidReuser $reuser }
            $a.Close(); $b.Close()
        }
    }
}

Describe 'Semaphore accounting' {
    It 'gives back a dead holder''s permit after another process released and re-acquired one (issue 12, item 7)' {
        $sem = New-IpcSemaphore (New-TestName) -InitialCount 1
        try {
            $job = Start-Holder $sem                 # A acquires the only permit
            $sem.Release()                           # P, holding none, releases: a produced permit
            $sem.Acquire($false) | Should -BeTrue    # P acquires it
            $sem.CurrentValue | Should -Be 0
            $null = Stop-Victim $job                 # A dies holding its permit
            Get-ThrownException { $sem.Acquire($true, 5) } | Should -BeOfType ([IpcPs.AbandonedLockException])
            $sem.CurrentValue | Should -Be 0
            $sem.Release(); $sem.Release()
            $sem.CurrentValue | Should -Be 2 -Because 'P held two permits: the one it produced and the one A left'
        } finally { $sem.Close() }
    }
}

Describe 'RLock ownership after an abandonment' {
    It 'is not the caller''s while the owner fields still name the dead owner, even with the same thread id' {
        # The state right after this process took over an RLock whose dead owner's thread had this thread's managed
        # id: the word names this process; the thread field still holds the dead owner's thread id, and the owner
        # process field the dead process (docs/design.md: RLock at 64 i64 word, 72 count, 76 thread, 80 i64 owner).
        $lock = New-IpcLock (New-TestName) -Recursive
        try {
            $start = [long](((Get-Content -Raw /proc/self/stat) -replace '^.*\) ', '') -split ' ')[19]
            $me = [long]$PID -bor ([long]($start -band 0xFFFFFFFF) -shl 32)
            $dead = Start-Process -PassThru -FilePath true; $dead.WaitForExit()
            $deadOwner = [long]$dead.Id -bor ([long](($start + 1) -band 0xFFFFFFFF) -shl 32)
            $bytes = [byte[]]::new(24)
            [BitConverter]::GetBytes($me).CopyTo($bytes, 0)                                      # 64: the word
            [BitConverter]::GetBytes([int]1).CopyTo($bytes, 8)                                   # 72: count
            [BitConverter]::GetBytes([Environment]::CurrentManagedThreadId).CopyTo($bytes, 12)   # 76: thread
            [BitConverter]::GetBytes($deadOwner).CopyTo($bytes, 16)                              # 80: owner process
            $f = [IO.File]::Open("/dev/shm/$($lock.Name)", 'Open', 'ReadWrite', 'ReadWrite')
            try { $f.Position = 64; $f.Write($bytes, 0, $bytes.Length) } finally { $f.Dispose() }
            $lock.HolderPid | Should -Be $PID
            $lock.IsMine | Should -BeFalse
            $lock.RecursionCount | Should -Be 0
            Get-ThrownException { $lock.Release() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
        } finally { $lock.Close() }
    }
}

Describe 'Pid namespaces' {
    It 'refuses, both ways, objects made in another pid namespace sharing /dev/shm (IpcPidNamespaceMismatch)' {
        $lock = New-IpcLock (New-TestName)
        $shm = New-SharedMemory (New-TestName) 64
        $theirs = New-TestName
        $script = @"
Import-Module '$env:IPCPS_MODULE_PATH'
foreach (`$n in '$($lock.Name)', '$($shm.Name)') {
    try { `$o = Get-IpcObject -Name `$n -ErrorAction Stop; `$o.Close(); "opened `$n" } catch { `$_.FullyQualifiedErrorId }
}
`$l = New-IpcLock '$theirs'
'made'
`$null = [Console]::In.ReadLine()
`$l.Close()
"@
        $pwsh = @(Get-PwshCommand)   # one element when pwsh runs as itself (pwsh.exe): still an array
        $psi = [Diagnostics.ProcessStartInfo]::new('unshare')
        foreach ($a in @('--pid', '--fork', '--mount-proc') + $pwsh + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($psi)
        try {
            $lines = @(for ($i = 0; $i -lt 3; $i++) { $p.StandardOutput.ReadLine() })
            $lines[2] | Should -Be 'made'
            $lines[0] | Should -BeLike 'IpcPidNamespaceMismatch,*' -Because 'a Lock made in this namespace is refused there'
            $lines[1] | Should -BeLike 'IpcPidNamespaceMismatch,*' -Because 'so is SharedMemory (its record names pids of this namespace)'
            Get-ErrorId { Get-IpcObject -Name $theirs } | Should -BeLike 'IpcPidNamespaceMismatch,*'
            $e = Get-ThrownException { [IpcPs.IpcObjects]::Open($theirs) }
            $e | Should -BeOfType ([IpcPs.IpcPidNamespaceException])
            $e.ObjectName | Should -Be $theirs
            $e.Message | Should -BeLike "*'$theirs'*another pid namespace*"
            (Get-IpcObject -Name $theirs*).Status | Should -Be 'Active' -Because 'holders of another namespace are never judged dead'
        } finally {
            $p.StandardInput.Close()
            if (-not $p.WaitForExit(30000)) { $p.Kill() }
            $p.Dispose()
            $lock.Close(); $shm.Close()
        }
        Test-Path "/dev/shm/$theirs" | Should -BeFalse -Because 'the other namespace''s process removed its object when it ended'
    }
}
