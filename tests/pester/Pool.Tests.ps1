BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Every worker process of POOL has ended (the pool was removed).
    function Assert-WorkersGone([int[]] $Pids) {
        Wait-Until { -not (Get-Process -Id $Pids -ErrorAction SilentlyContinue) } -Because 'the workers to end'
    }

    # What the processes PIDS left in /dev/shm, by name: every registry record that names one of them as creator or
    # holder ("creator=PID:START", "attached=PID:START"; docs/design.md, "The registry"), and every segment of a
    # generated name (ipc_ and 12 hex digits, as a pool's pipes and progress words have) not in BEFORE that has no record
    # (IpcPs makes the record before the segment, and removes it after: a segment found without its record that is
    # still there afterwards was left). What other tests running beside this one make and remove is neither, so only
    # these processes' leftovers count.
    function Get-Leftovers([string[]] $Before, [int[]] $Pids) {
        $named = "(?m)^(creator|attached)=($($Pids -join '|')):"
        if (Test-Path -LiteralPath $RegistryDir) {
            foreach ($record in Get-ChildItem -Force -File -LiteralPath $RegistryDir) {
                $text = try { [IO.File]::ReadAllText($record.FullName) } catch { '' }   # deleted meanwhile: not left
                if ($text -match $named) { $record.Name }
            }
        }
        Get-ChildItem -Force -File /dev/shm | ForEach-Object Name | Where-Object {
            $_ -cmatch '^ipc_[0-9a-f]{12}$' -and $_ -notin $Before -and -not (Test-Path -LiteralPath (Join-Path $RegistryDir $_)) -and
            (Test-Path -LiteralPath "/dev/shm/$_")   # removed since the listing (segment, then record): not left
        }
    }
}

Describe 'Process pool' {
    BeforeAll {
        $script:pool = New-IpcPool -Size 2
        $script:firstPids = $pool.Pids
    }
    AfterAll {
        $pids = $pool.Pids
        Remove-IpcPool $pool
        Assert-WorkersGone $pids
    }

    It 'New-IpcPool returns a pool of warm workers, used again by later calls' {
        $pool.Size | Should -Be 2
        $pool.Pids | Should -HaveCount 2
        Get-Process -Id $pool.Pids | Should -HaveCount 2
        $first = 1..20 | Invoke-IpcPool -Pool $pool { $PID }
        $second = 1..20 | Invoke-IpcPool -Pool $pool { $PID }
        @($first + $second | Sort-Object -Unique) | ForEach-Object { $_ | Should -BeIn $pool.Pids }
        $pool.ToString() | Should -Be "IpcPool($($pool.Id), size 2, idle)"
    }

    It '1,000 items through 2 workers with -Ordered come back in input order' -Tag 'Windows' {
        $out = 1..1000 | Invoke-IpcPool -Pool $pool { $_ * 2 } -Ordered
        $out.Count | Should -Be 1000
        ($out -join ',') | Should -Be ((1..1000 | ForEach-Object { $_ * 2 }) -join ',')
        $unordered = 1..1000 | Invoke-IpcPool -Pool $pool { $_ * 2 }
        ($unordered | Sort-Object) -join ',' | Should -Be ($out -join ',')
    }

    It 'an item whose script block throws produces one ErrorRecord naming the item, and the others complete' {
        $out = 0..9 | Invoke-IpcPool -Pool $pool { if ($_ -eq 5) { throw "item five failed" }; $_ } -Ordered -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -Be @(0, 1, 2, 3, 4, 6, 7, 8, 9)
        $failed | Should -HaveCount 1
        $failed[0].TargetObject | Should -Be 5
        $failed[0].Exception.Message | Should -Be 'item five failed'
        $failed[0].ErrorDetails.Message | Should -BeLike "``[item 5 '5'``] item five failed*"
    }

    It 'a worker killed mid-run is replaced, its item reported, and the run completes' {
        $q = New-IpcQueue
        $never = New-IpcEvent
        try {
            $replacedBefore = $pool.Replaced
            $pidsBefore = $pool.Pids
            # The input itself kills the worker running item 50, once that item has said where it runs.
            $out = & { foreach ($i in 0..199) { if ($i -eq 120) { Stop-Process -Id ([int]$q.Get($true, 60)) -Force }; $i } } |
                Invoke-IpcPool -Pool $pool -Ordered -ArgumentList $q, $never {
                param($q, $never)
                if ($_ -eq 50) { $q.Put($PID); $null = $never.Wait(60) }
                $_
            } -ErrorVariable died -ErrorAction SilentlyContinue
            ($out -join ',') | Should -Be ((0..199 | Where-Object { $_ -ne 50 }) -join ',')
            $died | Should -HaveCount 1
            $died[0].FullyQualifiedErrorId | Should -Match '^PoolWorkerDied'
            $died[0].TargetObject | Should -Be 50
            $died[0].ErrorDetails.Message | Should -BeLike "``[item 50 '50'``] The pool worker process * died (ended by signal 9, SIGKILL)*"
            $pool.Replaced | Should -Be ($replacedBefore + 1)
            @(Compare-Object $pidsBefore $pool.Pids).Count | Should -Be 2 -Because 'one worker was replaced'
            (1..10 | Invoke-IpcPool -Pool $pool { $_ } -Ordered) | Should -Be (1..10) -Because 'the pool is whole again'
        } finally { $q.Close(); $never.Close() }
    }

    It 'brings back each item''s warnings, verbose, debug and information records; errors keep going' {
        $VerbosePreference = 'Continue'
        $out = 1, 2 | Invoke-IpcPool -Pool $pool -Ordered {
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            Write-Warning "w$_"; Write-Verbose "v$_"; Write-Debug "d$_"; Write-Information "i$_"; Write-Error "e$_"; "o$_"
        } -WarningVariable w -InformationVariable i -ErrorVariable e -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -InformationAction SilentlyContinue 4>$null 5>$null
        $out | Should -Be @('o1', 'o2')
        @($w.Message) | Should -Be @('w1', 'w2')
        @($i | ForEach-Object { "$($_.MessageData)" }) | Should -Be @('i1', 'i2')
        @($e | ForEach-Object { $_.Exception.Message }) | Should -Be @('e1', 'e2')
        $e[1].TargetObject | Should -Be 2
    }

    It 're-attaches IPC handles in items, arguments and $using: variables, and passes -ArgumentList and $using:' {
        $shm = New-SharedMemory (New-TestName) 16
        $mark = New-SharedMemory (New-TestName) 1
        $offset = 100
        try {
            $items = 0..3 | ForEach-Object { @{ Slot = $_; Target = $shm } }
            $out = $items | Invoke-IpcPool -Pool $pool -Ordered -ArgumentList 7 {
                param($add)
                $_.Target[$_.Slot] = $_.Slot + $add
                ($using:mark)[0] = 1
                $_.Slot + $using:offset
            }
            $out | Should -Be @(100, 101, 102, 103)
            $shm.Read(0, 4) | Should -Be @(7, 8, 9, 10)
            $mark[0] | Should -Be 1
        } finally { $shm.Close(); $mark.Close() }
    }

    It 'writes a progress bar during a run that lasts more than a second' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("param(`$p) Import-Module '$env:IPCPS_MODULE_PATH'; 1..60 | Invoke-IpcPool -Pool `$p { Start-Sleep -Milliseconds 50; `$_ }").AddArgument($pool)
            $out = $ps.Invoke()
            $out | Should -HaveCount 60
            $bars = @($ps.Streams.Progress | Where-Object Activity -eq 'Invoke-IpcPool')
            $bars.Count | Should -BeGreaterThan 1
            $bars[-1].RecordType | Should -Be 'Completed'
            $bars[0].StatusDescription | Should -Match '^\d+ of \d+ items done$'
        } finally { $ps.Dispose() }
    }

    It 'lets a downstream Select-Object -First end the call early, and the pool stays usable' {
        $first = 1..500 | Invoke-IpcPool -Pool $pool { $_ } -Ordered | Select-Object -First 3
        $first | Should -Be @(1, 2, 3)
        (1..5 | Invoke-IpcPool -Pool $pool { $_ } -Ordered) | Should -Be (1..5)
    }

    It 'stops promptly on Ctrl+C, replacing the busy workers, and the pool stays usable' -Tag 'Windows' {
        $never = New-IpcEvent
        $started = New-IpcQueue
        try {
            $run = Start-Stoppable { param($p, $never, $started) 1..4 | Invoke-IpcPool -Pool $p -ArgumentList $never, $started { param($n, $s) $s.Put($_); $null = $n.Wait(600) } } -Arguments $pool, $never, $started
            $null = $started.Get($true, 60)
            $run.PowerShell.Stop()
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            $run.PowerShell.Dispose()
            (1..4 | Invoke-IpcPool -Pool $pool { $_ } -Ordered) | Should -Be (1..4)
        } finally { $never.Close(); $started.Close() }
        # The killed workers held both handles; they are gone by the time the stop returns, so this process was the
        # last holder and closing destroyed the objects (a worker reaped later would have left them orphaned).
        Test-Path "/dev/shm/$($never.Name)" | Should -BeFalse
        Test-Path "/dev/shm/$($started.Name)" | Should -BeFalse
    }

    It 'names an item whose string form throws by its type in its error, and the call goes on' {
        $bad = [pscustomobject]@{ a = 1 } | Add-Member -Force -PassThru ScriptMethod ToString { throw 'no string form' }
        $errs = $null
        $out = 1, $bad, 3, 4 | Invoke-IpcPool -Pool $pool { if ($_ -isnot [int]) { Write-Error 'item failed' } else { $_ } } -Ordered -ChunkSize 1 -ErrorAction SilentlyContinue -ErrorVariable errs
        $out | Should -Be @(1, 3, 4)
        $errs | Should -HaveCount 1
        $errs[0].ToString() | Should -BeLike "*item 1 '``[System.Management.Automation.PSCustomObject``]'*item failed*"
        $errs[0].TargetObject.a | Should -Be 1
    }
}

Describe 'Pools made per call, and bad input' {
    It 'Invoke-IpcPool without -Pool makes -ThrottleLimit workers for the call and ends them after it' {
        $pids = @(1..8 | Invoke-IpcPool -ThrottleLimit 2 { $PID } | Sort-Object -Unique)
        $pids.Count | Should -BeIn 1, 2
        $pids | Should -Not -Contain $PID
        Assert-WorkersGone $pids
    }

    It 'on Ctrl+C ends the workers of a pool made for the call without starting replacements' {
        $never = New-IpcEvent
        $started = New-IpcQueue
        $log = Join-Path $TestDrive 'starts.txt'
        # Every worker that starts records its pid (the initialization script runs before any item).
        $init = [scriptblock]::Create("Add-Content -LiteralPath '$log' -Value `$PID")
        try {
            $run = Start-Stoppable { param($never, $started, $init)
                1..4 | Invoke-IpcPool -ThrottleLimit 2 -InitializationScript $init -ArgumentList $never, $started { param($n, $s) $s.Put($PID); $null = $n.Wait(600) }
            } -Arguments $never, $started, $init
            $busy = $started.Get($true, 60)   # the first worker takes all four items (prefetch)
            # Both workers have started (one may be a warm spare, ready long before the other) before the stop.
            Wait-Until { @(Get-Content -LiteralPath $log -ErrorAction SilentlyContinue).Count -ge 2 } -TimeoutSeconds 120 -Because 'both workers to start'
            $run.PowerShell.Stop()
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            $run.PowerShell.Dispose()
            # The stop returned after the pool was removed: its workers are gone, and none was started in their place.
            Get-Process -Id $busy -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @(Get-Content -LiteralPath $log).Count | Should -Be 2 -Because 'the two workers of the pool, and no replacement, started'
        } finally { $never.Close(); $started.Close() }
    }

    It 'runs -InitializationScript in every worker first; a failing one fails New-IpcPool with the worker''s error' {
        (1..4 | Invoke-IpcPool -ThrottleLimit 2 -InitializationScript { function Twice($x) { 2 * $x } } { Twice $_ } -Ordered) | Should -Be @(2, 4, 6, 8)
        $err = $null
        try { New-IpcPool -Size 1 -InitializationScript { throw 'cannot initialize' } -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Match '^ChildProcessFailed'
        $err.ToString() | Should -BeLike '*cannot initialize*'
    }

    It 'keeps the initialization script off the workers'' command lines, which any local user can read' {
        $marker = "secret-$(New-TestName)"
        $p = New-IpcPool -Size 1 -InitializationScript ([scriptblock]::Create("`$script:token = '$marker'"))
        try {
            (1 | Invoke-IpcPool -Pool $p { $script:token }) | Should -Be $marker
            # The command line as text, with every base64 run in it decoded (as UTF-8 and UTF-16), two levels deep:
            # -EncodedCommand holds the bootstrap, which could hold more base64.
            function Expand([string] $text, [int] $depth) {
                $text
                if ($depth -eq 0) { return }
                foreach ($m in [regex]::Matches($text, '[A-Za-z0-9+/]{16,}={0,2}')) {
                    try { $bytes = [Convert]::FromBase64String($m.Value) } catch { continue }
                    Expand ([Text.Encoding]::UTF8.GetString($bytes)) ($depth - 1)
                    Expand ([Text.Encoding]::Unicode.GetString($bytes)) ($depth - 1)
                }
            }
            foreach ($id in $p.Pids) {
                $cmd = [IO.File]::ReadAllText("/proc/$id/cmdline") -replace "`0", ' '
                (Expand $cmd 2) -join "`n" | Should -Not -Match ([regex]::Escape($marker))
            }
        } finally { Remove-IpcPool $p }
    }

    It 'leaves nothing in /dev/shm when the session running a pool is killed with SIGKILL mid-run' {
        $before = @(Get-ChildItem -Force /dev/shm | ForEach-Object Name)
        $started = New-IpcEvent (New-TestName)
        $psi = New-PwshStartInfo '-NoProfile', '-NonInteractive', '-Command', (
            "Import-Module '$env:IPCPS_MODULE_PATH'; `$p = New-IpcPool -Size 2; `$p.Pids -join ','; " +
            "1..100 | Invoke-IpcPool -Pool `$p -ArgumentList (Get-IpcObject -Name '$($started.Name)') { param(`$e) Set-IpcEvent `$e; Start-Sleep -Milliseconds 200 } | Out-Null")
        $psi.RedirectStandardOutput = $true
        $session = [Diagnostics.Process]::Start($psi)
        try {
            $workers = [int[]]($session.StandardOutput.ReadLine() -split ',')
            Wait-IpcEvent $started -Timeout 60 -ErrorAction Stop
            $session.Kill()                              # SIGKILL: no clean-up of its own
            $session.WaitForExit()
            Assert-WorkersGone $workers                  # the workers see their parent go and end
            # The session and its workers only (the test's own event, which they held, aside): tests running beside this
            # one make and remove segments of their own meanwhile.
            $left = @(Get-Leftovers $before (@($session.Id) + $workers) | Where-Object { $_ -ne $started.Name })
            $left | Should -BeNullOrEmpty -Because "the pool's pipes go with the last process holding them (found: $($left -join ', '))"
        } finally {
            if (-not $session.HasExited) { $session.Kill($true) }
            $session.Dispose(); $started | Remove-IpcObject
        }
    }

    It 'refuses a removed pool, a busy one, a bad -ThrottleLimit and an unset $using: variable' {
        $p = New-IpcPool -Size 1
        $pids = $p.Pids
        $never = New-IpcEvent
        $started = New-IpcQueue
        try {
            $run = Start-Stoppable { param($p, $never, $started) 1 | Invoke-IpcPool -Pool $p -ArgumentList $never, $started { param($n, $s) $s.Put($_); $null = $n.Wait(600) } } -Arguments $p, $never, $started
            $null = $started.Get($true, 60)
            Get-ErrorId { 2 | Invoke-IpcPool -Pool $p { $_ } } | Should -Match '^IpcInvalidOperation'
            $run.PowerShell.Stop()
            $run.PowerShell.Dispose()
        } finally { $never.Close(); $started.Close() }
        Remove-IpcPool $p
        $p.IsRemoved | Should -BeTrue
        Assert-WorkersGone ($pids + $p.Pids)
        Get-ErrorId { 1 | Invoke-IpcPool -Pool $p { $_ } } | Should -Match '^IpcObjectClosed'
        { Remove-IpcPool $p } | Should -Not -Throw
        Get-ErrorId { 1 | Invoke-IpcPool -ThrottleLimit 0 { $_ } } | Should -Match '^ParameterArgumentValidationError'
        Get-ErrorId { New-IpcPool -Size 0 } | Should -Match '^ParameterArgumentValidationError'
        Get-ErrorId { 1 | Invoke-IpcPool -ThrottleLimit 1 { $using:notSetAnywhere } } | Should -Match '^IpcInvalidArgument'
    }
}

Describe 'Removing a pool during its call' {
    It 'Remove-IpcPool during a call in another runspace ends the call with IpcObjectClosed, and no worker outlives the pool' {
        $p = New-IpcPool -Size 1
        $started = New-IpcQueue
        $run = Start-Stoppable { param($p, $s) 1..20 | Invoke-IpcPool -Pool $p -ArgumentList $s { param($s) $s.Put($PID); Start-Sleep -Milliseconds 300; $_ } -ChunkSize 1 } -Arguments $p, $started
        try {
            $null = $started.Get($true, 60)
            Remove-IpcPool $p
            # It returns once the workers have ended (the one that quit after its item, too, was not replaced).
            Get-Process -Id $p.Pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-Until { $run.Async.IsCompleted } -TimeoutSeconds 60 -Because 'the call to end'
            @($run.PowerShell.Streams.Error)[0].FullyQualifiedErrorId | Should -Match '^IpcObjectClosed'
            $p.Replaced | Should -Be 0
            Get-Process -Id $p.Pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        } finally {
            if (-not $run.Async.IsCompleted) { $run.PowerShell.Stop() }
            $run.PowerShell.Dispose(); $started.Close(); Remove-IpcPool $p
        }
    }

    It 'Remove-IpcPool from the downstream of the pool''s own call ends the call with IpcObjectClosed, after the results before it' {
        $p = New-IpcPool -Size 1
        $got = [Collections.Generic.List[object]]::new()
        $err = $null
        try { 1..50 | Invoke-IpcPool -Pool $p { $_ } -ChunkSize 1 -Ordered | ForEach-Object { $got.Add($_); if ($_ -eq 3) { Remove-IpcPool $p } } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Match '^IpcObjectClosed'
        $got[0..2] | Should -Be @(1, 2, 3)
        $p.Replaced | Should -Be 0
        Get-Process -Id $p.Pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
