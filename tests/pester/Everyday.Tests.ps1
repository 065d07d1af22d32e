# Issue 16, "Everyday PowerShell": looking never holds, Ctrl+C ends method waits, names on every action cmdlet,
# views that show state, data that enumerates, one timeout rule, and the small things a user trips on.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # A child pwsh that runs SCRIPT (the module imported first) and stays until killed: returns the Process.
    function Start-PwshChild([string] $Script) {
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$env:IPCPS_MODULE_PATH'; $Script")
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        [Diagnostics.Process]::Start($psi)
    }

    function Stop-PwshChild([Diagnostics.Process] $Process) {
        if (-not $Process.HasExited) { $Process.Kill(); $Process.WaitForExit() }
        $Process.Dispose()
    }

    # Holders and status of every object named PREFIX*, as text: what listing must not change.
    function Get-HolderSnapshot([string] $Prefix) {
        @(Get-IpcObject -Name "$Prefix*" | ForEach-Object { "$($_.Name) $($_.Status) $(@($_.HolderPids | Sort-Object) -join ',')" })
    }

    # Every kind, made by a child that keeps them: returns the child (a job) once they exist.
    function Start-HolderOfEveryKind([string] $Prefix, [IpcPs.IpcEvent] $Ready) {
        Start-IpcProcess -ArgumentList $Prefix, $Ready {
            param($p, $ready)
            $keep = @(
                New-SharedMemory "$p-shm" 64
                New-IpcLock "$p-lock"
                New-IpcLock "$p-rlock" -Recursive
                New-IpcSemaphore "$p-sem" -InitialCount 2
                New-IpcEvent "$p-event"
                New-IpcCondition "$p-cond"
                New-IpcBarrier "$p-barrier" -Parties 3
                New-IpcQueue "$p-queue"
                New-IpcValue "$p-value" -Type d -Value 2.5
                New-IpcArray "$p-array" -Type i -Value 1, 2, 3
                New-ShareableList "$p-list" -InputObject @(1, 'two')
            )
            $pipe = New-IpcPipe "$p-pipe"
            $keep[7].Put('one')
            $ready.Set()
            Start-Sleep -Seconds 600
        }
    }
}

Describe 'Looking never holds (issue 16, item 1)' {
    It 'leaves holders and status unchanged whichever common way the objects are listed and shown' {
        $p = New-TestName 'look'
        $ready = New-IpcEvent (New-TestName)
        $job = Start-HolderOfEveryKind $p $ready
        try {
            Wait-IpcEvent $ready -Timeout 60 -ErrorAction Stop
            $before = Get-HolderSnapshot $p
            $before.Count | Should -BeGreaterOrEqual 12
            $before | ForEach-Object { $_ | Should -Match " Active $($job.Pid)$" }
            Get-IpcObject -Name "$p*" | Out-String | Out-Null
            Get-IpcObject -Name "$p*" | Format-Table | Out-String | Out-Null
            Get-IpcObject -Name "$p*" | Format-List * | Out-String | Out-Null
            Get-IpcObject -Name "$p*" | ForEach-Object Name | Out-Null
            Get-IpcObject -Name "$p*" | Select-Object * | Out-Null
            Get-IpcObject -Name "$p*" | ConvertTo-Json -Depth 2 -WarningAction SilentlyContinue | Out-Null
            Get-IpcObject -Name "$p*" | Where-Object Status -EQ 'Active' | Measure-Object | Out-Null
            foreach ($n in 'queue', 'lock', 'value', 'array', 'list', 'event', 'sem', 'barrier', 'cond', 'pipe', 'shm') {
                $o = Get-IpcObject -Name "$p-$n"
                Format-List -InputObject $o -Property * | Out-String | Out-Null
                $o.ToString() | Out-Null
                $o.IsOpen | Should -BeFalse
            }
            $q = Get-IpcObject -Name "$p-queue"
            $q.Count, $q.QSize(), $q.Empty() | Out-Null
            (Get-IpcObject -Name "$p-event").IsSet() | Out-Null
            ((Get-IpcObject -Name "$p-array") | Measure-Object -Sum).Sum | Should -Be 6 -Because 'the listed array enumerates its items'
            Get-HolderSnapshot $p | Should -Be $before -Because 'looking never makes this session a holder'
        } finally {
            Stop-IpcProcess $job -GracePeriod 10; $job | Remove-Job -Force; $ready.Close()
        }
        @(Get-IpcObject -Name "$p*").Count | Should -Be 0 -Because 'the child was the only holder, and its end destroyed everything'
    }

    It 'keeps an orphan Orphaned when it is found by exact name and shown, so Remove-IpcObject reclaims it' {
        $name = New-TestName 'orphan'
        $job = Start-IpcProcess { param($n) $q = New-IpcQueue $n; $q.Put(1); 'made'; Start-Sleep -Seconds 600 } -ArgumentList $name
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to make the queue'
            Stop-IpcProcess $job -Force
            $o = Get-IpcObject -Name $name
            Format-List -InputObject $o -Property * | Out-String | Out-Null
            $o.Count | Should -Be 1
            $o.Status | Should -Be 'Orphaned'
            (Get-IpcObject -Name $name).Status | Should -Be 'Orphaned'
            Get-IpcObject | Where-Object Status -EQ 'Orphaned' | Where-Object Name -EQ $name | Remove-IpcObject
            Test-Path "/dev/shm/$name" | Should -BeFalse
        } finally { $job | Remove-Job -Force }
    }

    It 'a child that only lists objects does not keep another script''s object alive after its creator closed it' {
        $name = New-TestName 'list'
        $listed = New-IpcEvent (New-TestName)
        $q = New-IpcQueue $name
        $job = Start-IpcProcess -ArgumentList $name, $listed {
            param($n, $listed)
            Get-IpcObject | Format-List * | Out-String | Out-Null
            Get-IpcObject -Name $n | ConvertTo-Json -WarningAction SilentlyContinue | Out-Null
            Get-IpcObject | ForEach-Object Name | Out-Null
            Set-IpcEvent $listed
            Start-Sleep -Seconds 600
        }
        try {
            Wait-IpcEvent $listed -Timeout 60 -ErrorAction Stop
            $job.IsAlive | Should -BeTrue
            (Get-IpcObject -Name $name).HolderPids | Should -Be @($PID)
            $q.Close()
            Test-Path "/dev/shm/$name" | Should -BeFalse -Because 'this session was the only holder: the child only looked'
        } finally { Stop-IpcProcess $job -Force; $job | Remove-Job -Force; $listed.Close() }
    }

    It 'opens on first use, or at once with -Open; an action cmdlet given a listed handle opens it only for the command' {
        $name = New-TestName 'use'
        $job = Start-IpcProcess { param($n) $q = New-IpcQueue $n; 'made'; Start-Sleep -Seconds 600 } -ArgumentList $name
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to make the queue'
            # The handle as -Channel: Send-IpcMessage's pipeline carries messages (a handle is a message too).
            Send-IpcMessage (Get-IpcObject -Name $name) 'by cmdlet' -ErrorAction Stop
            (Get-IpcObject -Name $name).HolderPids | Should -Not -Contain $PID
            $described = Get-IpcObject -Name $name
            $described.Put('by method')
            $described.IsOpen | Should -BeTrue
            (Get-IpcObject -Name $name).HolderPids | Should -Contain $PID
            $described.Close()
            $opened = Get-IpcObject -Name $name -Open
            $opened.IsOpen | Should -BeTrue
            (Get-IpcObject -Name $name).HolderPids | Should -Contain $PID
            Close-IpcObject $opened
            (Get-IpcObject -Name $name).HolderPids | Should -Not -Contain $PID
            (Get-IpcObject -Name $name).Count | Should -Be 2
        } finally { Stop-IpcProcess $job -GracePeriod 10; $job | Remove-Job -Force }
    }
}

Describe 'Ctrl+C ends method waits (issue 16, item 2)' {
    It 'a SIGINT to a pwsh blocked in $q.Get() ends it, and a message put afterwards stays for the next Get' {
        $q = New-IpcQueue (New-TestName)
        $child = Start-PwshChild "`$q = Get-IpcObject -Name '$($q.Name)' -Open; `$m = `$q.Get(); ""got `$m"""
        try {
            Wait-Until { $q.WaiterCount -eq 1 -or $child.HasExited } -Because 'the child to block in Get()'
            $child.HasExited | Should -BeFalse
            & kill -INT $child.Id
            $child.WaitForExit(10000) | Should -BeTrue -Because 'Ctrl+C ends the method''s wait'
            $q.Put('kept')
            $q.QSize() | Should -Be 1 -Because 'the stopped Get took nothing'
            $q.Get($true, 5) | Should -Be 'kept'
            $child.StandardOutput.ReadToEnd() | Should -Not -Match 'got'
        } finally { Stop-PwshChild $child; $q.Close() }
    }

    It 'Ctrl+C typed in an interactive pwsh (a tmux pane) ends $q.Get(); the next Get receives the message' {
        if (-not (Get-Command tmux -ErrorAction Ignore)) { Set-ItResult -Skipped -Because 'tmux is not installed'; return }
        $q = New-IpcQueue (New-TestName)
        $session = New-TestName 'tmux'
        $pwsh = (Get-PwshCommand | ForEach-Object { "'$_'" }) -join ' '
        # A server of its own on a socket in a folder of its own (tmux's default, /tmp/tmux-UID, would stay behind).
        $folder = Join-Path ([IO.Path]::GetTempPath()) "ipcps-$session"
        $null = New-Item -ItemType Directory $folder
        $socket = Join-Path $folder 's'
        function tmux { & (Get-Command tmux -CommandType Application | Select-Object -First 1) -S $socket @args }
        tmux new-session -d -s $session -x 160 -y 40 "exec env NO_COLOR=1 $pwsh -NoProfile -NoLogo"
        $panePid = [int](tmux display-message -p -t $session '#{pane_pid}')
        try {
            $screen = { (tmux capture-pane -p -t $session) -join "`n" }
            Wait-Until { (& $screen) -match 'PS .*>' } -TimeoutSeconds 60 -Because 'the prompt'
            tmux send-keys -t $session "Import-Module '$env:IPCPS_MODULE_PATH'; `$q = Get-IpcObject -Name '$($q.Name)' -Open; `$q.Get()" Enter
            Wait-Until { $q.WaiterCount -eq 1 } -Because 'the session to block in Get()'
            tmux send-keys -t $session C-c
            Wait-Until { $q.WaiterCount -eq 0 } -Because 'Ctrl+C to end the wait'
            $q.Put('after Ctrl+C')
            tmux send-keys -t $session "'got ' + `$q.Get()" Enter
            Wait-Until { (& $screen) -match 'got after Ctrl\+C' } -Because 'the next Get to receive the message'
            $q.QSize() | Should -Be 0
        } finally {
            # The pane's pwsh holds the queue: it must be gone before this session's Close, the last, destroys it.
            tmux kill-session -t $session 2>$null
            Wait-Until { -not (Get-Process -Id $panePid -ErrorAction Ignore) } -Because 'the pane''s pwsh to end'
            $q.Close()
            Remove-Item -Recurse -Force $folder -ErrorAction Ignore
        }
    }

    It 'PowerShell.Stop ends $q.Get(), $lock.Acquire(), $sem.Acquire(), $ev.Wait(), $cond.Wait(), $b.Wait(), $conn.Recv(), $q.Join() promptly, taking nothing' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName) -Joinable
        $lock = New-IpcLock (New-TestName); $lock.Acquire() | Out-Null
        $sem = New-IpcSemaphore (New-TestName) -InitialCount 0
        $ev = New-IpcEvent (New-TestName)
        $cond = New-IpcCondition (New-TestName)
        $b = New-IpcBarrier (New-TestName) -Parties 2
        $mine, $theirs = New-IpcPipe
        $q.Put('unfinished')
        $calls = [ordered]@{
            'Get'     = { param($o) $o.Get() }
            'Acquire' = { param($o) $o.Acquire() }
            'Sem'     = { param($o) $o.Acquire() }
            'Wait'    = { param($o) $o.Wait() }
            'Cond'    = { param($o) $o.Acquire() | Out-Null; try { $o.Wait() } finally { $o.Release() } }
            'Barrier' = { param($o) $o.Wait() }
            'Recv'    = { param($o) $o.Recv() }
            'Join'    = { param($o) $o.Join() }
        }
        $targets = @{ Get = $null; Acquire = $lock; Sem = $sem; Wait = $ev; Cond = $cond; Barrier = $b; Recv = $theirs; Join = $q }
        $empty = New-IpcQueue (New-TestName); $targets['Get'] = $empty
        try {
            foreach ($call in $calls.Keys) {
                $started = New-IpcEvent (New-TestName)
                $run = Start-Stoppable ([scriptblock]::Create("param(`$o, `$started) `$started.Set(); & { $($calls[$call]) } `$o")) -Arguments $targets[$call], $started
                try {
                    Wait-IpcEvent $started -Timeout 60 -ErrorAction Stop
                    if ($call -eq 'Get') { Wait-Until { $empty.WaiterCount -eq 1 } -Because 'Get to sleep' }
                    if ($call -eq 'Wait') { Wait-Until { $ev.WaiterCount -eq 1 } -Because 'Wait to sleep' }
                    if ($call -eq 'Cond') { Wait-Until { $cond.WaiterCount -eq 1 } -Because 'the condition wait' }
                    if ($call -eq 'Barrier') { Wait-Until { $b.NWaiting -eq 1 } -Because 'the barrier wait' }
                    if ($call -eq 'Join') { Wait-Until { $q.JoinWaiterCount -eq 1 } -Because 'Join to sleep' }
                    $stop = $run.PowerShell.BeginStop($null, $null)
                    $stop.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because "Ctrl+C must end $call() promptly"
                    $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                } finally { $run.PowerShell.Dispose(); $started.Close() }
            }
            $empty.Put('stays'); $empty.QSize() | Should -Be 1
            $lock.HolderPid | Should -Be $PID
            $sem.CurrentValue | Should -Be 0
            $ev.IsSet() | Should -BeFalse
            $theirs.Send('to me'); $mine.Poll(5) | Should -BeTrue
            $theirs.Poll() | Should -BeFalse -Because 'the stopped Recv took nothing (nothing was sent its way)'
        } finally {
            $lock.Release()
            $q, $empty, $lock, $sem, $ev, $cond, $b, $mine, $theirs | ForEach-Object { $_.Close() }
        }
    }

    It 'ends a blocked $q.Get() stopped with ForEach-Object -Parallel''s Ctrl+C, leaving the message for the next Get' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        $run = Start-Stoppable { param($q) 1 | ForEach-Object -Parallel { ($using:q).Get() } } -Arguments $q
        try {
            Wait-Until { $q.WaiterCount -eq 1 } -Because 'the parallel runspace to block in Get()'
            $stop = $run.PowerShell.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
            $q.Put('later'); $q.Get($true, 5) | Should -Be 'later'
        } finally { $run.PowerShell.Dispose(); $q.Close() }
    }

    It 'ends a manager proxy call waiting for its reply, and the next call works on a new connection' -Tag 'Windows' {
        $m = Start-IpcManager -InitializationScript { class Slow { [string] Nap([string] $started, [int] $s) { Set-IpcEvent $started; Start-Sleep -Seconds $s; return 'rested' } } } -Register @{ Slow = 'Slow' }
        $started = New-IpcEvent (New-TestName)
        try {
            $slow = $m.Slow()
            $run = Start-Stoppable { param($p, $name) $p.Nap($name, 20) } -Arguments $slow, $started.Name
            try {
                Wait-IpcEvent $started -Timeout 60 -ErrorAction Stop   # the manager runs the call: the client waits for its reply
                $w = [Diagnostics.Stopwatch]::StartNew()
                $stop = $run.PowerShell.BeginStop($null, $null)
                $stop.AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
                $w.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the call does not wait for its 20 s reply'
            } finally { $run.PowerShell.Dispose() }
            $d = $m.Dict(); $d['k'] = 'v'; $d['k'] | Should -Be 'v'
        } finally { Stop-IpcManager $m; $started.Close() }
    }
}

Describe 'Names in every action cmdlet (issue 16, item 3)' {
    It 'each action cmdlet takes the object''s name, opens it for the command and leaves this session no holder' -Tag 'Windows' {
        $p = New-TestName 'names'
        $ready = New-IpcEvent (New-TestName)
        $job = Start-IpcProcess -ArgumentList $p, $ready {
            param($p, $ready)
            $keep = @(New-IpcEvent "$p-ev"; New-IpcLock "$p-lock"; New-IpcQueue "$p-q"; New-IpcQueue "$p-jq" -Joinable; New-IpcBarrier "$p-b" -Parties 1)
            $ready.Set(); Start-Sleep -Seconds 600
        }
        try {
            Wait-IpcEvent $ready -Timeout 60 -ErrorAction Stop
            Set-IpcEvent "$p-ev"
            (Get-IpcObject -Name "$p-ev").IsSet() | Should -BeTrue
            Wait-IpcEvent "$p-ev" -Timeout 5 -ErrorAction Stop
            Wait-IpcEvent -Name "$p-ev" -Timeout 5 -PassThru | ForEach-Object Name | Should -Be "$p-ev"
            Reset-IpcEvent -Name "$p-ev"
            (Get-IpcObject -Name "$p-ev").IsSet() | Should -BeFalse
            "$p-ev" | Set-IpcEvent
            (Get-IpcObject -Name "$p-ev").IsSet() | Should -BeTrue
            Enter-IpcLock "$p-lock" -Timeout 5 -ErrorAction Stop
            (Get-IpcObject -Name "$p-lock").HolderPid | Should -Be $PID
            Exit-IpcLock -Name "$p-lock"
            (Get-IpcObject -Name "$p-lock").IsLocked | Should -BeFalse
            Use-IpcLock "$p-lock" { (Get-IpcObject -Name "$p-lock").HolderPid } | Should -Be $PID
            Send-IpcMessage -Name "$p-q" -InputObject 'a'
            'b', 'c' | Send-IpcMessage -Name "$p-q"
            Receive-IpcMessage "$p-q" -Count 3 -Timeout 5 | Should -Be @('a', 'b', 'c')
            Receive-IpcMessage -Name "$p-q" -NoWait | Should -BeNullOrEmpty
            Wait-IpcQueue "$p-jq" -Timeout 5 -ErrorAction Stop
            Wait-IpcBarrier -Name "$p-b" -Timeout 5 -PassThru | Should -Be 0
            foreach ($o in Get-IpcObject -Name "$p-*") { $o.HolderPids | Should -Be @($job.Pid) -Because "$($o.Name) was only used by name here" }
            Get-ErrorId { Set-IpcEvent "$p-q" } | Should -BeLike 'IpcObjectWrongKind*'
            Get-ErrorId { Wait-IpcEvent (New-TestName) -Timeout 1 } | Should -BeLike 'IpcObjectNotFound*'
        } finally { Stop-IpcProcess $job -GracePeriod 10; $job | Remove-Job -Force; $ready.Close() }
    }

    It 'completes -Name with the names of live objects of the kinds the cmdlet works on' {
        $p = New-TestName 'tab'
        $ev = New-IpcEvent "$p-event"; $q = New-IpcQueue "$p-queue"
        try {
            foreach ($case in @(@{ Line = "Set-IpcEvent -Name $p"; Yes = "$p-event"; No = "$p-queue" }, @{ Line = "Send-IpcMessage -Name $p"; Yes = "$p-queue"; No = "$p-event" }, @{ Line = "Wait-IpcEvent -Name $p"; Yes = "$p-event"; No = "$p-queue" })) {
                $found = (TabExpansion2 -inputScript $case.Line -cursorColumn $case.Line.Length).CompletionMatches.CompletionText
                $found | Should -Contain $case.Yes
                $found | Should -Not -Contain $case.No
            }
        } finally { $ev.Close(); $q.Close() }
    }

    It 'takes -Priority from a piped object''s Priority property' {
        $q = New-IpcQueue (New-TestName) -Order Priority
        try {
            @([pscustomobject]@{ Task = 'late'; Priority = 9 }, [pscustomobject]@{ Task = 'early'; Priority = 1 }) | Send-IpcMessage $q
            (Receive-IpcMessage $q -Count 2).Task | Should -Be @('early', 'late')
        } finally { $q.Close() }
    }
}

Describe 'Views that show state (issue 16, item 4)' {
    It 'the default table and list views of every kind show its state' {
        $p = New-TestName 'view'
        $made = @(
            @{ Object = (New-SharedMemory "$p-shm" 100); Table = '\b100\b'; List = 'Size\s+: 100' }
            @{ Object = (New-IpcLock "$p-lock"); Table = "held by pid $PID"; List = "HeldBy\s+: $PID" }
            @{ Object = (New-IpcSemaphore "$p-sem" -InitialCount 2 -MaximumCount 5); Table = 'value 2 of 5'; List = 'CurrentValue\s+: 2' }
            @{ Object = (New-IpcEvent "$p-ev" -Set); Table = '\bset\b'; List = 'State\s+: Set' }
            @{ Object = (New-IpcBarrier "$p-bar" -Parties 3); Table = '0 of 3 waiting'; List = 'Parties\s+: 3' }
            @{ Object = (New-IpcQueue "$p-q" -Order Lifo); Table = '2 messages, Lifo'; List = 'Count\s+: 2' }
            @{ Object = (New-IpcValue "$p-val" -Type d -Value 2.5); Table = '2\.5 \(double\)'; List = 'Value\s+: 2\.5' }
            @{ Object = (New-IpcArray "$p-arr" -Type i -Value 7, 8, 9); Table = 'int\[3\]'; List = 'Values\s+: 7, 8, 9' }
            @{ Object = (New-ShareableList "$p-sl" -InputObject @(1, 'x', $null)); Table = '3 items'; List = "Items\s+: 1, 'x', \`$null" }
            @{ Object = (New-IpcCondition "$p-cond"); Table = "0 waiting, lock $p-cond.lock"; List = "LockName\s+: $p-cond.lock" }
        )
        $made[1].Object.Acquire() | Out-Null
        $made[5].Object.Put(1); $made[5].Object.Put(2)
        $pipeA, $pipeB = New-IpcPipe "$p-pipe"
        try {
            foreach ($m in $made) {
                $o = $m.Object
                $table = Out-String -InputObject $o -Width 200
                $table | Should -Match '(?m)^Name\s+Kind\s+Size\s+Status\s+Holders\s+State' -Because "$($o.Kind)'s default view is the table"
                $table | Should -Match $m.Table -Because "$($o.Kind)'s table shows its state"
                (Format-List -InputObject $o | Out-String -Width 200) | Should -Match $m.List -Because "$($o.Kind)'s list shows its state"
                (Format-List -InputObject (Get-IpcObject -Name $o.Name) | Out-String -Width 200) | Should -Match $m.List -Because 'a listed handle shows it too'
            }
            (Out-String -InputObject $pipeA -Width 200) | Should -Match 'duplex'
            $listing = Get-IpcObject -Name "$p-*" | Out-String -Width 200
            $listing | Should -Match '2 messages, Lifo'
            $listing | Should -Match "$p-arr\s+Array"
            $made[5].Object.Count | Should -Be 2
        } finally { $made[1].Object.Release(); foreach ($m in $made) { $m.Object.Close() }; $pipeA.Close(); $pipeB.Close() }
    }

    It 'a pool shows its size and busy workers, and a manager its address and state' {
        $pool = New-IpcPool -Size 2
        $m = Start-IpcManager
        try {
            $table = Get-IpcPool -Id $pool.Id | Out-String -Width 200
            $table | Should -Match '(?m)^\s*Id\s+Size\s+Busy\s+State'
            $table | Should -Match "\b$($pool.Id)\s+2\s+0\s+Idle"
            (Format-List -InputObject $pool | Out-String) | Should -Match 'Busy\s+: 0'
            $mt = Out-String -InputObject $m -Width 250
            $mt | Should -Match ([regex]::Escape($m.Address))
            $mt | Should -Match 'Running'
            Stop-IpcManager $m
            (Out-String -InputObject $m -Width 250) | Should -Match 'Stopped'
        } finally { Remove-IpcPool $pool; if ($m.State -ne 'Stopped') { Stop-IpcManager $m } }
    }
}

Describe 'Data that enumerates (issue 16, item 5)' {
    It 'an IpcArray and a ShareableList enumerate as PowerShell arrays do' {
        $a = New-IpcArray (New-TestName) -Type i -Value 4, 5, 6
        $l = New-ShareableList (New-TestName) -InputObject @(1, 2.5, 'three')
        try {
            $seen = foreach ($x in $a) { $x }
            $seen | Should -Be @(4, 5, 6)
            ($a | Measure-Object -Sum).Sum | Should -Be 15
            $a.Count | Should -Be 3
            $a[-1] | Should -Be 6
            $a[0..1] | Should -Be @(4, 5)
            $items = foreach ($x in $l) { $x }
            $items | Should -Be @(1, 2.5, 'three')
            $l.Count | Should -Be 3
            $l[-1] | Should -Be 'three'
            $l.GetRange(1, 2) | Should -Be @(2.5, 'three')
            @($l).Count | Should -Be 3
            # Still one object where IpcPs takes a handle: a child gets the array, a listing shows the object.
            $job = Start-IpcProcess -ArgumentList $a { param($arr) "$($arr.GetType().Name) $($arr.Count)" }
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'IpcArray 3'
            (Get-IpcObject -Name $a.Name | Out-String) | Should -Match ([regex]::Escape($a.Name) + '\s+Array')
            # PowerShell's serializer (Start-Job, remoting) still writes the descriptor, so the handle re-attaches.
            $back = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($l))
            $back.Name | Should -Be $l.Name
            $reopened = [IpcPs.ShareableList]$back
            $reopened[2] | Should -Be 'three'
            $reopened.Close()
        } finally { $a.Close(); $l.Close() }
    }

    It 'a manager list refuses + and += with an error that says what to write, and stays the shared list' {
        $m = Start-IpcManager
        try {
            $list = $m.List(@(1, 2))
            # In this scope: += in a child scope ({ $list += 3 }) would make a new local variable there, not touch $list.
            $e = $null
            try { $list += 3 } catch { $e = $_ }
            "$e" | Should -Match 'Append'
            "$(Get-ThrownException { $list + 3 })" | Should -Match 'Append'
            $list.GetType().Name | Should -Be 'ManagedList'
            $list.Append(3)
            $list.Extend(@(4, 5))
            $list.ToArray() | Should -Be @(1, 2, 3, 4, 5)
            (@($list) + 6).Count | Should -Be 6
        } finally { Stop-IpcManager $m }
    }
}

Describe 'One timeout rule (issue 16, item 6)' {
    BeforeAll {
        $script:lock = New-IpcLock (New-TestName); $lock.Acquire() | Out-Null
        $script:ev = New-IpcEvent (New-TestName)
        $script:jq = New-IpcQueue (New-TestName) -Joinable; $jq.Put('unfinished')
        $script:bar = New-IpcBarrier (New-TestName) -Parties 2
        $script:empty = New-IpcQueue (New-TestName)
        $script:full = New-IpcQueue (New-TestName) -MaxSize 1; $full.Put('fills it')
        $script:sleeper = Start-IpcProcess { Start-Sleep -Seconds 600 }
        # Advanced script blocks, so that -ErrorAction and -ErrorVariable given to them govern the cmdlet inside.
        $script:Timeouts = [ordered]@{}
        foreach ($case in @(
                @('Wait-IpcEvent', 'Wait-IpcEvent $ev -Timeout 0.2'),
                @('Wait-IpcQueue', 'Wait-IpcQueue $jq -Timeout 0.2'),
                @('Wait-IpcBarrier', 'Wait-IpcBarrier $bar -Timeout 0.2'),
                @('Wait-IpcProcess', 'Wait-IpcProcess $sleeper -Timeout 0.2'),
                @('Enter-IpcLock', 'Enter-IpcLock $lock -Timeout 0.2'),
                @('Use-IpcLock', 'Use-IpcLock $lock -Timeout 0.2 { ''the block ran'' }'),
                @('Receive-IpcMessage', 'Receive-IpcMessage $empty -Timeout 0.2'),
                @('Send-IpcMessage', 'Send-IpcMessage $full ''no room'' -Timeout 0.2'))) {
            $Timeouts[$case[0]] = [scriptblock]::Create("[CmdletBinding()] param() $($case[1])")
        }
    }
    AfterAll {
        $lock.Release()
        Stop-IpcProcess $sleeper -Force; $sleeper | Remove-Job -Force
        $lock, $ev, $jq, $bar, $empty, $full | ForEach-Object { $_.Close() }
    }

    It 'every cmdlet with -Timeout: no output, a non-terminating IpcTimeout error (TimeoutException, OperationTimeout) that -ErrorAction governs' -Tag 'Windows' {
        foreach ($name in $Timeouts.Keys) {
            $bar.Reset()
            $errors = $null
            $out = & $Timeouts[$name] -ErrorAction SilentlyContinue -ErrorVariable errors
            $out | Should -BeNullOrEmpty -Because "$name outputs nothing for what did not happen"
            @($errors).Count | Should -Be 1 -Because "$name writes one error"
            $errors[0].FullyQualifiedErrorId | Should -BeLike "IpcTimeout,*" -Because $name
            $errors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $errors[0].Exception | Should -BeOfType ([TimeoutException])
            $bar.Reset()
            $afterwards = $false
            & { & $Timeouts[$name] -ErrorAction SilentlyContinue; $script:afterwards = $true }
            $script:afterwards | Should -BeTrue -Because "$name's timeout is not terminating by itself"
            $bar.Reset()
            $caught = $null
            try { & $Timeouts[$name] -ErrorAction Stop } catch [TimeoutException] { $caught = $_ }
            $caught | Should -Not -BeNullOrEmpty -Because "-ErrorAction Stop makes $name's timeout terminating"
        }
        $lock.HolderPid | Should -Be $PID -Because 'nothing was taken'
        $full.QSize() | Should -Be 1
    }

    It 'a wait that succeeds outputs nothing, and -PassThru outputs the object' -Tag 'Windows' {
        $e = New-IpcEvent (New-TestName) -Set
        $q = New-IpcQueue (New-TestName) -Joinable
        $b = New-IpcBarrier (New-TestName) -Parties 1
        $job = Start-IpcProcess { 'done' }
        try {
            Wait-IpcEvent $e -Timeout 5 | Should -BeNullOrEmpty
            Wait-IpcQueue $q -Timeout 5 | Should -BeNullOrEmpty
            Wait-IpcBarrier $b -Timeout 5 | Should -BeNullOrEmpty
            Wait-IpcProcess $job -Timeout 60 | Should -BeNullOrEmpty
            Wait-IpcEvent $e -Timeout 5 -PassThru | Should -Be $e
            Wait-IpcQueue $q -Timeout 5 -PassThru | Should -Be $q
            Wait-IpcBarrier $b -Timeout 5 -PassThru | Should -Be 0
            Wait-IpcProcess $job -Timeout 60 -PassThru | Should -Be $job
            [bool](Wait-IpcEvent $e -Timeout 0 -PassThru -ErrorAction Ignore) | Should -BeTrue
        } finally { $job | Remove-Job; $e.Close(); $q.Close(); $b.Close() }
    }
}

Describe 'The small things (issue 16, item 7)' {
    It 'Get-IpcPool finds a pool whose variable was lost, and removes it' {
        Measure-Command { $pool = New-IpcPool -Size 1 } | Out-Null
        $lost = @(Get-IpcPool)
        $lost.Count | Should -BeGreaterOrEqual 1
        $pids = $lost.Pids
        $lost | Remove-IpcPool
        @(Get-IpcPool).Count | Should -Be 0
        Wait-Until { -not (Get-Process -Id $pids -ErrorAction SilentlyContinue) } -Because 'the workers to end'
    }

    It 'Remove-IpcPool takes ids, as Remove-Job does' {
        $a = New-IpcPool -Size 1
        $b = New-IpcPool -Size 1
        try {
            $pids = @($a.Pids)
            Remove-IpcPool $a.Id -ErrorAction Stop
            $a.State | Should -Be 'Removed'
            $b.State | Should -Not -Be 'Removed'
            Get-ErrorId { Remove-IpcPool -Id ($b.Id + 1000) } | Should -BeLike 'IpcObjectNotFound*'
            Remove-IpcPool -Id $b.Id -WhatIf
            $b.State | Should -Not -Be 'Removed' -Because '-WhatIf changes nothing'
            Wait-Until { -not (Get-Process -Id $pids -ErrorAction SilentlyContinue) } -Because 'the removed pool''s worker to end'
        } finally { Remove-IpcPool $a, $b }
    }

    It 'Wait-IpcProcess -Any returns when the first child ends' -Tag 'Windows' {
        $slow = Start-IpcProcess { Start-Sleep -Seconds 600 }
        $quick = Start-IpcProcess { 'quick' }
        try {
            $first = Wait-IpcProcess $slow, $quick -Any -Timeout 60 -PassThru
            $first | Should -Be $quick
            $slow.IsAlive | Should -BeTrue
        } finally { Stop-IpcProcess $slow -Force; $slow, $quick | Remove-Job -Force }
    }

    It 'Close-IpcObject closes handles without destroying what another holds' {
        $name = New-TestName
        $a = New-IpcEvent $name
        $b = Get-IpcObject -Name $name -Open
        Close-IpcObject $a
        $a.IsClosed | Should -BeTrue
        Test-Path "/dev/shm/$name" | Should -BeTrue
        $b | Close-IpcObject
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }

    It 'Use-IpcScope, Use-IpcLock and Use-IpcManager run their block in the caller''s scope' {
        $l = New-IpcLock (New-TestName)
        try {
            Use-IpcScope { $fromScope = 'scope' }
            Use-IpcLock $l { $fromLock = 'lock' }
            Use-IpcManager { param($m) $fromManager = $m.Dict().Count }
            $fromScope | Should -Be 'scope'
            $fromLock | Should -Be 'lock'
            $fromManager | Should -Be 0
        } finally { $l.Close() }
    }

    It 'Use-IpcScope, Use-IpcLock and Use-IpcManager take -Args, as Start-IpcProcess and Invoke-IpcPool do' {
        $l = New-IpcLock (New-TestName)
        try {
            Use-IpcScope -Args 2 { param($x) $x * 3 } | Should -Be 6
            Use-IpcLock $l -Args 2 { param($x) $x * 4 } | Should -Be 8
            Use-IpcManager -Args 2 { param($m, $x) $x * 5 } | Should -Be 10
        } finally { $l.Close() }
    }

    It 'a handle used after Remove-IpcObject says so, in this process and in another' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        $go = New-IpcEvent (New-TestName)
        $job = Start-IpcProcess -ArgumentList $q, $go { param($q, $go) Wait-IpcEvent $go -Timeout 60; try { $q.Put(1); 'worked' } catch { $_.Exception.InnerException.GetType().Name } }
        try {
            Wait-Until { (Get-IpcObject -Name $q.Name).HolderPids -contains $job.Pid } -Because 'the child to attach'
            Remove-IpcObject -Name $q.Name
            (Get-ThrownException { $q.Put(1) }) | Should -BeOfType ([IpcPs.IpcObjectRemovedException])
            Get-ErrorId { Send-IpcMessage $q 'x' } | Should -BeLike 'IpcObjectRemoved*'
            $q.Count | Should -Be 0 -Because 'reading what it last held still works'
            Set-IpcEvent $go
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'IpcObjectRemovedException'
        } finally { $q.Close(); $go.Close() }
    }

    It 'a pipe end whose peer this process still holds does not report the end of the stream; it does once every holder closed' {
        $a, $b = New-IpcPipe
        try {
            $job = Start-IpcProcess -ArgumentList $b { param($c) $c.Send('hello') }
            $job | Wait-IpcProcess -Timeout 60 -ErrorAction Stop
            $job | Remove-Job
            $a.Recv() | Should -Be 'hello'
            $a.Poll(0.3) | Should -BeFalse -Because 'this process holds the other end: no end of the stream'
            Get-ErrorId { Receive-IpcMessage $a -Timeout 0.3 } | Should -BeLike 'IpcTimeout*'
            $b.Close()
            Get-ErrorId { Receive-IpcMessage $a -Timeout 10 } | Should -BeLike 'ConnectionClosed*'
        } finally { $a.Close(); $b.Close() }
    }

    It 'a child''s terminating error appears once; a child''s parse error keeps its lines' -Tag 'Windows' {
        $job = Start-IpcProcess { 'before'; throw 'boom in child' }
        $job | Wait-IpcProcess -Timeout 60 -ErrorAction Stop
        $errs = $null
        $out = $job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable errs
        $out | Should -Be 'before'
        @($errs).Count | Should -Be 1
        "$($errs[0])" | Should -Be 'boom in child'
        $job.JobStateInfo.Reason.Message | Should -Be 'boom in child'
        $job | Remove-Job
        $script = Join-Path ([IO.Path]::GetTempPath()) "$(New-TestName 'ipcps-bad').ps1"
        Set-Content $script "'a'`n`$x = @(1, 2`nfoo bar }"
        try {
            $job = Start-IpcProcess { param($path) . $path } -ArgumentList $script
            $job | Wait-IpcProcess -Timeout 60 -ErrorAction Stop
            $errs = $null
            $job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable errs | Out-Null
            @($errs).Count | Should -Be 1
            $errs[0].Exception.Message | Should -Match "char:9\r?\n\+ foo bar \}" -Because 'the message keeps its lines'
            $shown = $errs[0] | Out-String -Width 200
            $shown | Should -Match '(?m)^\s*3 \| foo bar \}' -Because 'PowerShell shows the line as for its own parse errors'
            $shown | Should -Match 'Missing closing'
            $job | Remove-Job
        } finally { Remove-Item $script -ErrorAction SilentlyContinue }
    }

    It 'writes messages without .NET''s notes for programmers, and the duplicate-name error says how to open what is there' {
        $q = New-IpcQueue (New-TestName); $q.Close()
        "$((Get-ThrownException { $q.Put(1) }).Message)" | Should -Not -Match 'Object name'
        "$((Get-ThrownException { [IpcPs.IpcQueue]::Create($null, 0, 10) }).Message)" | Should -Not -Match 'Actual value|\(Parameter'
        $e = $null; try { New-IpcSemaphore -InitialCount -1 -ErrorAction Stop } catch { $e = $_ }
        "$e" | Should -Not -Match 'Actual value|\(Parameter'
        $name = New-TestName
        $first = New-IpcQueue $name
        $shm = New-SharedMemory (New-TestName) 8
        try {
            $e = $null; try { New-IpcQueue $name -ErrorAction Stop } catch { $e = $_ }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectExists*'
            "$e" | Should -Match '-OpenOrCreate'
            "$e" | Should -Match 'a Queue'
            $e = $null; try { New-SharedMemory $shm.Name 8 -ErrorAction Stop } catch { $e = $_ }
            "$e" | Should -Match 'Get-IpcObject -Name .+ -Open'
        } finally { $first.Close(); $shm.Close() }
    }

    It 'is importable by name in ForEach-Object -Parallel and Start-ThreadJob of a session that imported it by path' {
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-Command', @"
Import-Module '$env:IPCPS_MODULE_PATH'
1 | ForEach-Object -Parallel { Import-Module IpcPs -ErrorAction Stop; 'parallel ' + (Get-Module IpcPs).Version }
Start-ThreadJob { `$e = New-IpcEvent; 'thread job ' + `$e.Kind; `$e.Close() } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
"@)
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        $p.WaitForExit(120000) | Should -BeTrue
        $err.Result | Should -BeNullOrEmpty
        $out.Result | Should -Match 'parallel \d+\.\d+'
        $out.Result | Should -Match 'thread job Event'
        $p.Dispose()
    }

    It 'reads and writes typed values in shared memory, as CPython''s struct does' {
        $shm = New-SharedMemory (New-TestName) 64
        try {
            $shm.WriteInt32(0, -42); $shm.WriteDouble(8, 2.5); $shm.WriteInt64(16, [long]::MaxValue); $shm.WriteUInt16(30, 65535)
            [void]$shm.WriteString(32, 'héllo')
            $shm.ReadInt32(0) | Should -Be -42
            $shm.ReadDouble(8) | Should -Be 2.5
            $shm.ReadInt64(16) | Should -Be ([long]::MaxValue)
            $shm.ReadUInt16(30) | Should -Be 65535
            $shm.ReadString(32, 8) | Should -Be 'héllo'
            $shm.ReadValue[single](8) | Out-Null
            $buffer = [byte[]]::new(4)
            $shm.ReadInto(0, $buffer, 0, 4)
            [BitConverter]::ToInt32($buffer, 0) | Should -Be -42
            Get-ThrownException { $shm.ReadInt64(60) } | Should -BeOfType ([ArgumentOutOfRangeException])
            if ($HasPython) {
                Invoke-Python @"
from multiprocessing import shared_memory, resource_tracker
import struct
m = shared_memory.SharedMemory(name='$($shm.Name)')
resource_tracker.unregister(m._name, 'shared_memory')
print(struct.unpack_from('<i', m.buf, 0)[0], struct.unpack_from('<d', m.buf, 8)[0])
m.close()
"@ | Should -Be '-42 2.5'
            }
        } finally { $shm.Close() }
    }
}

Describe 'The README''s CPython snippet (issue 16, item 8)' -Skip:(-not (Get-Command python3 -ErrorAction SilentlyContinue)) {
    It 'leaves the PowerShell segment in place when the Python process ends' {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        $python = [regex]::Match($readme, '(?s)```python\r?\n(.*?)```').Groups[1].Value
        $python | Should -Match "name='scratch'"
        $shm = New-SharedMemory (New-TestName) 16
        try {
            $shm.Write(0, [byte[]](42, 1, 2, 3))
            Invoke-Python ($python -replace "name='scratch'", "name='$($shm.Name)'") | Should -Be "b'*\x01\x02\x03'"
            Test-Path "/dev/shm/$($shm.Name)" | Should -BeTrue -Because 'CPython''s resource tracker must not destroy the segment'
            $shm[0] | Should -Be 42
        } finally { $shm.Close() }
    }
}
