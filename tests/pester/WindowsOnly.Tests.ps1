# What only Windows has (docs/design.md, "Windows"): tagged WindowsOnly, so the Windows leg (Wine) runs these and the
# Linux leg leaves them out (build.ps1 passes -ExcludeTag WindowsOnly there); Linux's counterparts are in the other files.
BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'Windows: local managers on the loopback' -Tag 'WindowsOnly' {
    It 'a local manager listens on 127.0.0.1, its address and key in its private folder; Connect-IpcManager -Name finds it from another process' {
        $name = New-TestName 'mgr'
        $m = Start-IpcManager -Name $name
        try {
            $m.Address | Should -Match '^127\.0\.0\.1:\d+$'
            $m.Directory | Should -Be (Join-Path $env:LOCALAPPDATA "IpcPs\managers\$name")
            Get-Content -Raw (Join-Path $m.Directory 'address') | Should -Be $m.Address
            (Get-Item (Join-Path $m.Directory 'authkey')).Length | Should -BeGreaterThan 15
            $d = $m.Dict(); $d['here'] = 1
            # Another process: no key is passed; it reads the folder's key for the folder's address only.
            $r = Invoke-Pwsh "`$m = Connect-IpcManager -Name '$name'; `$m.Address; `$m.Pid"
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $r.Lines[-2] | Should -Be $m.Address
            $r.Lines[-1] | Should -Be "$($m.Pid)"
            Get-ErrorId { Start-IpcManager -Name $name } | Should -Match '^IpcObjectExists'
        } finally { Stop-IpcManager $m }
        Test-Path (Join-Path $env:LOCALAPPDATA "IpcPs\managers\$name") | Should -BeFalse -Because 'the folder goes with its manager'
    }
}

Describe 'Windows: segments and removal' -Tag 'WindowsOnly' {
    It 'a plain segment''s creator sees the size it asked for; an opener sees whole pages, as CPython on Windows' {
        $a = New-SharedMemory (New-TestName 'win') 10
        try {
            $a.Size | Should -Be 10
            $b = Get-IpcObject -Name $a.Name
            try { $b.Size | Should -Be 4096 } finally { $b.Close() }
        } finally { $a.Close() }
    }

    It 'Remove-IpcObject of a name a child still holds hides it behind a tombstone until the child closes it' {
        $name = New-TestName 'win'
        $job = Start-IpcProcess { param($n) $s = New-SharedMemory $n 8; $s.Write(0, [byte[]](7)); 'made'; Start-Sleep 600 } -ArgumentList $name
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to make the segment'
            $job.Output[0] | Should -Be 'made'
            Remove-IpcObject -Name $name
            # The kernel keeps the name while the child holds it: it is hidden, and cannot be made again yet.
            Get-IpcObject | Where-Object Name -EQ $name | Should -BeNullOrEmpty
            Get-ErrorId { Get-IpcObject -Name $name } | Should -Match '^IpcObjectNotFound'
            Get-ErrorId { New-SharedMemory $name 8 } | Should -Match '^IpcObjectExists'
            Stop-IpcProcess $job   # the polite stop: the child detaches, and its handle was the last
            $again = New-SharedMemory $name 8
            try { $again.Read(0, 1) | Should -Be 0 -Because 'a new segment, not the removed one' } finally { $again.Close() }
        } finally { $job | Remove-Job -Force }
    }
}

Describe 'Windows: ending warm spares' -Tag 'WindowsOnly' {
    It 'ends a spare still booting by closing its stdin (it exits by itself, code 129, as it loads the module), never by terminating it, and leaves no console host' {
        # A console program terminated while it connects to its console (Wine: 20-30 ms into its start) left that
        # console's host running for ever, holding the spare's inherited handles: a test's output never ended.
        $saved = $env:IPCPS_SPARES; $env:IPCPS_SPARES = $null
        try {
            [IpcPs.Hosting.SpareChildren]::EndAll()
            $hosts = @(Get-Process conhost -ErrorAction SilentlyContinue).Id
            $job = Start-IpcProcess { 1 }   # no spare: a cold start, and a spare launched at once
            Wait-Until { [IpcPs.Hosting.SpareChildren]::Pids } -Because 'the spare''s launch'
            $spare = Get-Process -Id ([IpcPs.Hosting.SpareChildren]::Pids[0])
            $null = $spare.Handle   # held from now: its exit code stays readable
            # Its first line of output (the ready frame), read by SpareChildren from its start (internal: by reflection).
            $idle = [IpcPs.Hosting.SpareChildren].GetField('Idle', [Reflection.BindingFlags]'NonPublic, Static').GetValue($null)
            $child = $idle[0]
            $firstLine = $child.GetType().GetProperty('FirstLine').GetValue($child)
            [IpcPs.Hosting.SpareChildren]::EndAll()   # a pwsh boots for seconds under Wine: this one is still booting
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 1
            $spare.WaitForExit(120000) | Should -BeTrue
            $spare.ExitCode | Should -Be 129 -Because 'the spare saw its stdin closed and exited by itself'
            $firstLine.Wait(10000) | Should -BeTrue
            $firstLine.Result | Should -BeNullOrEmpty -Because 'it saw its stdin closed as it loaded the module: it readied no runspace and never said it was ready'
            Wait-Until { -not (Get-Process conhost -ErrorAction SilentlyContinue | Where-Object Id -NotIn $hosts) } -TimeoutSeconds 60 -Because 'the console hosts of the spare and the child to end with them'
        } finally { $env:IPCPS_SPARES = $saved }
    }
}

Describe 'Windows: a session''s spares' -Tag 'WindowsOnly' {
    It 'a session that ends while its spare boots: the spare ends on its own soon after, the session''s output ends, no console host is left' {
        $hosts = @(Get-Process conhost -ErrorAction SilentlyContinue).Id
        # The session takes a ready spare; that job's end launches the replacement, whose pid the session prints as
        # soon as it is launched, and exits while it boots.
        $r = Invoke-Pwsh @'
$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
$null = [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))
$taken = [IpcPs.Hosting.SpareChildren]::Pids[0]
$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
while (-not ([IpcPs.Hosting.SpareChildren]::Pids | Where-Object { $_ -ne $taken })) { Start-Sleep -Milliseconds 10 }
"$taken $([IpcPs.Hosting.SpareChildren]::Pids[0])"
'@ -Environment @{ IPCPS_SPARES = '1' } -TimeoutSeconds 180
        $said = $r.Lines -join "`n"
        $r.ExitCode | Should -Be 0 -Because $said
        $said | Should -Not -Match '(?m)Unhandled exception|^\s+at ' -Because 'no process of the session may end on an exception'
        $pids = @($r.Lines | Where-Object { $_ -match '^\d+ \d+$' })
        $pids | Should -HaveCount 1 -Because "the session prints the two pids once:`n$said"
        $taken, $spare = [int[]]($pids[0] -split ' ')
        $spare | Should -Not -Be $taken
        $p = Get-Process -Id $spare -ErrorAction SilentlyContinue
        if ($p) { $p.WaitForExit(60000) | Should -BeTrue -Because 'the spare sees its session has gone' }
        Wait-Until { -not (Get-Process conhost -ErrorAction SilentlyContinue | Where-Object Id -NotIn $hosts) } -TimeoutSeconds 60 -Because 'the console hosts of the session''s children to end with them'
    }
}
