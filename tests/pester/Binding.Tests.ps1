# How the cmdlets bind what a user types at the prompt: names and handles by position and from the pipeline, a handle
# of the wrong kind, timeouts at their extremes. Each case here failed once (docs/design.md, "Cmdlet binding").
BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Names by position and from the pipeline' -Tag 'Windows' {
    It 'Send-IpcMessage takes a queue''s name first, by position, as about_IpcPs says' {
        $n = New-TestName 'q'
        $q = New-IpcQueue $n
        try {
            Send-IpcMessage $n 'hello' -ErrorAction Stop
            'a', 'b' | Send-IpcMessage $n -ErrorAction Stop
            Send-IpcMessage -Name $n 5 -ErrorAction Stop
            Send-IpcMessage $q 'by handle' -ErrorAction Stop
            Receive-IpcMessage $q -Count 5 -Timeout 5 | Should -Be @('hello', 'a', 'b', 5, 'by handle')
        } finally { Remove-IpcObject $q; $q.Close() }
    }

    It 'Receive-IpcMessage, Enter-IpcLock, Exit-IpcLock and Remove-IpcObject take names from the pipeline' {
        $qn = New-TestName 'q'; $ln = New-TestName 'l'; $en = New-TestName 'e'
        $q = New-IpcQueue $qn; $l = New-IpcLock $ln; $e = New-IpcEvent $en
        try {
            $q.Put('x')
            $qn | Receive-IpcMessage -Timeout 5 -ErrorAction Stop | Should -Be 'x'
            $ln | Enter-IpcLock -ErrorAction Stop
            $l.Acquire($false) | Should -BeFalse -Because 'the piped name''s lock was taken'
            $ln | Exit-IpcLock -ErrorAction Stop
            $l.Acquire($false) | Should -BeTrue
            $l.Release()
            $qn, $en | Remove-IpcObject -ErrorAction Stop
            $q.Status | Should -Be 'Removed'
            $e.Status | Should -Be 'Removed'
            # Its default set is the backend handles' (a positional Redis handle would bind to -Name as text otherwise).
            (Get-Command Remove-IpcObject).DefaultParameterSet | Should -Be 'ByBackendObject' -Because 'its help says so'
        } finally {
            Remove-IpcObject $ln -ErrorAction SilentlyContinue
            $q.Close(); $l.Close(); $e.Close()
        }
    }
}

Describe 'A handle of another kind' -Tag 'Windows' {
    BeforeAll {
        $script:Lock = New-IpcLock (New-TestName 'deploy')
        $script:Event = New-IpcEvent
        $script:Queue = New-IpcQueue
        $script:Barrier = New-IpcBarrier -Parties 2
    }
    AfterAll { foreach ($h in $script:Lock, $script:Event, $script:Queue, $script:Barrier) { Remove-IpcObject $h; $h.Close() } }

    # Before, PowerShell converted the handle to its display text and bound that to -Name: "Lock('deploy_…', unlocked)
    # is not a valid IPC object name".
    It '<Call> says what the handle is' -ForEach @(
        @{ Call = 'Wait-IpcEvent $lock'; Script = { Wait-IpcEvent $script:Lock -Timeout 0 }; Kind = 'Lock'; What = 'an event' }
        @{ Call = '$lock | Set-IpcEvent'; Script = { $script:Lock | Set-IpcEvent }; Kind = 'Lock'; What = 'an event' }
        @{ Call = 'Reset-IpcEvent $queue'; Script = { Reset-IpcEvent $script:Queue }; Kind = 'Queue'; What = 'an event' }
        @{ Call = 'Receive-IpcMessage $event'; Script = { Receive-IpcMessage $script:Event -Timeout 0 }; Kind = 'Event'; What = 'a queue or a pipe' }
        @{ Call = 'Send-IpcMessage $event 1'; Script = { Send-IpcMessage $script:Event 1 }; Kind = 'Event'; What = 'a queue or a pipe' }
        @{ Call = 'Enter-IpcLock $event'; Script = { Enter-IpcLock $script:Event -Timeout 0 }; Kind = 'Event'; What = 'a Lock, RLock' }
        @{ Call = 'Use-IpcLock $barrier {}'; Script = { Use-IpcLock $script:Barrier { 'ran' } }; Kind = 'Barrier'; What = 'a Lock, RLock' }
        @{ Call = 'Wait-IpcQueue $lock'; Script = { Wait-IpcQueue $script:Lock -Timeout 0 }; Kind = 'Lock'; What = 'a queue' }
        @{ Call = 'Wait-IpcBarrier $queue'; Script = { Wait-IpcBarrier $script:Queue -Timeout 0 }; Kind = 'Queue'; What = 'a barrier' }
    ) {
        $err = $null
        try { & $Script -ErrorAction Stop | Out-Null } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -BeLike "*is a $Kind, not $What*"
        $err.Exception.Message | Should -Not -BeLike '*not a valid IPC object name*'
    }

    It 'Get-IpcObject rows of several kinds piped to Set-IpcEvent set the events and name the others' {
        $e2 = New-IpcEvent
        try {
            $errors = $null
            $script:Event, $script:Lock, $e2 | Set-IpcEvent -ErrorVariable errors -ErrorAction SilentlyContinue
            $script:Event.IsSet() | Should -BeTrue
            $e2.IsSet() | Should -BeTrue -Because 'the lock in the middle does not stop the pipeline'
            @($errors).Count | Should -Be 1
            "$($errors[0])" | Should -BeLike "*'$($script:Lock.Name)' is a Lock, not an event*"
        } finally { Remove-IpcObject $e2; $e2.Close(); $script:Event.Clear() }
    }

    It 'Set-IpcEvent and Reset-IpcEvent still take several events by position' {
        $e2 = New-IpcEvent
        try {
            Set-IpcEvent $script:Event, $e2 -ErrorAction Stop
            $script:Event.IsSet() | Should -BeTrue
            $e2.IsSet() | Should -BeTrue
            Reset-IpcEvent @($e2) -ErrorAction Stop
            $e2.IsSet() | Should -BeFalse
            Reset-IpcEvent (Get-IpcObject -Name $script:Event.Name, $e2.Name) -ErrorAction Stop
            $script:Event.IsSet() | Should -BeFalse
        } finally { Remove-IpcObject $e2; $e2.Close(); $script:Event.Clear() }
    }

    It 'two events given to a command that waits for one say to give one or pipe them' {
        $e2 = New-IpcEvent
        try {
            $err = $null
            try { Wait-IpcEvent $script:Event, $e2 -Timeout 0 -ErrorAction Stop } catch { $err = $_ }
            $err.Exception.Message | Should -BeLike '*is an event, but this command takes one at a time here: give one, or pipe several*'
        } finally { Remove-IpcObject $e2; $e2.Close() }
    }
}

Describe 'A number where the New-* commands take a name' -Tag 'Windows' {
    # CPython's constructors take a count or a size first (Semaphore(3), Queue(100), Barrier(3)); the New-* commands take
    # -Name first. A number there made an object of that name with the default count, silently.
    It '<Call> is refused and makes nothing' -ForEach @(
        @{ Call = 'New-IpcSemaphore NUMBER' }
        @{ Call = 'New-IpcQueue NUMBER' }
        @{ Call = 'New-IpcBarrier NUMBER' }
        @{ Call = 'New-SharedMemory NUMBER' }
        @{ Call = 'New-ShareableList NUMBER' }
        @{ Call = 'New-IpcLock -Name NUMBER' }
        @{ Call = 'New-IpcEvent NUMBER.50' }
        @{ Call = 'New-IpcValue NUMBER -Type i' }
        @{ Call = 'New-IpcArray NUMBER -Type i -Length 2' }
        @{ Call = 'New-IpcPipe NUMBER' }
        @{ Call = '$n = NUMBER; New-IpcCondition $n' }
    ) {
        $number = Get-Random -Minimum 100000 -Maximum 999999
        # The number as typed (not 123456.5, nor a culture's 123456,5): what PowerShell would have bound as the name.
        $name = if ($Call -like '*NUMBER.50*') { "$number.50" } else { "$number" }
        $culture = [cultureinfo]::CurrentCulture
        $refused = $false
        try {
            [cultureinfo]::CurrentCulture = 'de-DE'
            $err = { & ([scriptblock]::Create($Call.Replace('NUMBER', "$number"))) } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
            $refused = $true
            $err.Exception.Message | Should -BeLike "*$name is a number, not a name; a name made of digits is given as a string ('$name'*"
            Get-IpcObject | Where-Object Name -EQ $name | Should -BeNullOrEmpty
        } finally {
            [cultureinfo]::CurrentCulture = $culture
            if (-not $refused) { Remove-IpcObject -Name $name -ErrorAction SilentlyContinue }   # made by the old code
        }
    }

    It 'a name made of digits is a name when given as a string' {
        $name = "$(Get-Random -Minimum 100000 -Maximum 999999)"
        $s = $q = $null
        try {
            $s = New-IpcSemaphore $name -InitialCount 3
            $s.Name | Should -Be $name
            $s.Acquire($false), $s.Acquire($false), $s.Acquire($false), $s.Acquire($false) | Should -Be $true, $true, $true, $false
            $i = 5
            $q = New-IpcQueue -Name "$name$i" -MaxSize 2
            (Get-IpcObject -Name "$name$i").Kind | Should -Be 'Queue'
        } finally {
            foreach ($o in $s, $q) { if ($o) { Remove-IpcObject $o; $o.Close() } }
        }
    }
}

Describe 'Timeouts at their extremes' -Tag 'Windows' {
    It '[TimeSpan]::MaxValue is no limit, as a negative number is' {
        $job = Start-IpcProcess { 'done' }
        try {
            $null = $job | Wait-Job -Timeout 120
            # Before: DateTime.UtcNow + TimeSpan.MaxValue threw ArgumentOutOfRangeException.
            $job | Wait-IpcProcess -Timeout ([TimeSpan]::MaxValue) -PassThru -ErrorAction Stop | Should -Be $job
            $job | Wait-IpcProcess -Timeout '10675199.02:48:05.4775807' -PassThru -ErrorAction Stop | Should -Be $job
        } finally { $job | Remove-Job -Force }
        $e = New-IpcEvent
        try {
            $e.Set()
            Wait-IpcEvent $e -Timeout ([TimeSpan]::MaxValue) -PassThru -ErrorAction Stop | Should -Be $e
        } finally { Remove-IpcObject $e; $e.Close() }
    }
}

Describe 'Close-IpcObject on a backend''s handles' {
    BeforeAll { $script:Redis = Start-TestRedis }
    AfterAll { Stop-TestRedis $script:Redis }

    It 'closes a Redis lock''s handle by position and from the pipeline, releasing what it held' {
        if (-not $script:Redis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $name = New-TestName 'lock'
        $held = New-IpcLock -Backend $script:Redis.Uri -Name $name -LeaseTime 60
        $other = Get-IpcObject -Backend $script:Redis.Uri -Name $name
        try {
            Enter-IpcLock $held -Timeout 5
            $other.Acquire($false) | Should -BeFalse
            Close-IpcObject $held -ErrorAction Stop
            $other.Acquire($false) | Should -BeTrue -Because 'closing the handle released its lease, long before 60 s'
            $other | Close-IpcObject -ErrorAction Stop
            $third = Get-IpcObject -Backend $script:Redis.Uri -Name $name
            $third.Acquire($false) | Should -BeTrue
            Close-IpcObject $third
        } finally { Remove-IpcObject -Backend $script:Redis.Uri -Name $name -ErrorAction SilentlyContinue }
    }
}
