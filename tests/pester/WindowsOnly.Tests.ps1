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
