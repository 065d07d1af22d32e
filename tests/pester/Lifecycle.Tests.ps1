BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Object lifecycle' {
    It 'keeps an object while any handle is open, and the last closer destroys it' {
        $name = New-TestName
        $a = New-SharedMemory $name 8
        $b = Get-IpcObject -Name $name -Open
        $a.Close()
        Test-Path "/dev/shm/$name" | Should -BeTrue
        $b.Status | Should -Be 'Active'
        $b.Close()
        Test-Path "/dev/shm/$name" | Should -BeFalse
        Test-Path "$RegistryDir/$name" | Should -BeFalse
    }

    # Not tagged Windows: there a listing sees whole pages (4096 for 64), as an opener does (WindowsOnly.Tests.ps1).
    It 'lists objects without attaching them, with kind, status, creator and holders' {
        $name = New-TestName
        $shm = New-SharedMemory $name 64
        try {
            $listed = Get-IpcObject -Name "$($name.Substring(0, 8))*"
            $listed.Name | Should -Contain $name
            $row = $listed | Where-Object Name -EQ $name
            $row.Kind | Should -Be 'SharedMemory'
            $row.Size | Should -Be 64
            $row.Status | Should -Be 'Active'
            $row.CreatorPid | Should -Be $PID
            $row.HolderPids | Should -Be @($PID)
            (Get-IpcObject -Kind SharedMemory).Name | Should -Contain $name
            # A listed object attaches on first use.
            $shm[3] = 7
            $row[3] | Should -Be 7
            $row.Close()
        } finally { $shm.Close() }
    }

    It 'Remove-IpcObject destroys at once, by name and from the pipeline; -WhatIf changes nothing' {
        $n1 = New-TestName; $n2 = New-TestName
        $a = New-SharedMemory $n1 8; $b = New-SharedMemory $n2 8
        try {
            Remove-IpcObject -Name $n1 -WhatIf
            Test-Path "/dev/shm/$n1" | Should -BeTrue
            Remove-IpcObject -Name $n1
            Test-Path "/dev/shm/$n1" | Should -BeFalse
            $a.Status | Should -Be 'Removed'
            # A handle used after the removal says so (CPython's would go on silently on a segment nobody else sees).
            (Get-ThrownException { $a[0] = 1 }) | Should -BeOfType ([IpcPs.IpcObjectRemovedException])
            Get-IpcObject -Name $n2 | Remove-IpcObject
            Test-Path "/dev/shm/$n2" | Should -BeFalse
            Test-Path "$RegistryDir/$n2" | Should -BeFalse
            Get-ErrorId { Remove-IpcObject -Name $n2 } | Should -BeLike 'IpcObjectNotFound*'
        } finally { $a.Close(); $b.Close() }
    }

    It 'Remove-IpcObject takes handles by position, one or several, as it takes names' -Tag 'Windows' {
        $one = New-IpcEvent; $two = New-IpcQueue; $three = New-SharedMemory -Size 8
        try {
            Remove-IpcObject $one -ErrorAction Stop
            $one.Status | Should -Be 'Removed'
            Remove-IpcObject $two, $three -ErrorAction Stop
            $two.Status | Should -Be 'Removed'
            $three.Status | Should -Be 'Removed'
            $n = New-TestName; $four = New-IpcEvent -Name $n
            Remove-IpcObject $n -ErrorAction Stop
            $four.Status | Should -Be 'Removed'
            Get-ErrorId { Remove-IpcObject $one } | Should -BeLike 'IpcObjectNotFound*'
        } finally { $one.Close(); $two.Close(); $three.Close(); if ($four) { $four.Close() } }
    }

    It 'Unlink twice raises IpcObjectNotFoundException (CPython: FileNotFoundError)' -Tag 'Windows' {
        $shm = New-SharedMemory (New-TestName) 8
        try {
            $shm.Unlink()
            Get-ThrownException { $shm.Unlink() } | Should -BeOfType ([IpcPs.IpcObjectNotFoundException])
        } finally { $shm.Close() }
    }

    It 'shows what a SIGKILLed holder left behind as Orphaned, and Remove-IpcObject reclaims it' {
        $name = New-TestName
        $job = Start-IpcProcess { param($n) $s = New-SharedMemory $n 128; $s[0] = 1; 'ready'; Start-Sleep -Seconds 600 } -ArgumentList $name
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to create the segment'
            $job.Output[0] | Should -Be 'ready'
            (Get-IpcObject -Name $name*).Status | Should -Be 'Active'
            Stop-IpcProcess $job -Force
            $orphan = Get-IpcObject -Name $name*
            $orphan.Status | Should -Be 'Orphaned'
            $orphan.CreatorPid | Should -Be $job.Pid
            $orphan.HolderPids.Count | Should -Be 0
            $orphan | Remove-IpcObject
            Test-Path "/dev/shm/$name" | Should -BeFalse
            Test-Path "$RegistryDir/$name" | Should -BeFalse
        } finally { $job | Remove-Job -Force }
    }

    It 'keeps an object alive for a child after its creator closed it, until the child closes' {
        $name = New-TestName
        $shm = New-SharedMemory $name 8
        $job = Start-IpcProcess { param($m) $m.Open(); 'attached'; Start-Sleep -Seconds 600 } -ArgumentList $shm
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to attach'
            $shm.Close()
            Test-Path "/dev/shm/$name" | Should -BeTrue
            (Get-IpcObject -Name $name*).HolderPids | Should -Contain $job.Pid
        } finally {
            Stop-IpcProcess $job -GracePeriod 10
            $job | Remove-Job -Force
        }
        Test-Path "/dev/shm/$name" | Should -BeFalse -Because 'a politely stopped child detaches, and it was the last holder'
    }

    It 'lists foreign segments only with -IncludeForeign, as Foreign, and never destroys them on close' {
        $name = New-TestName
        [IO.File]::WriteAllBytes("/dev/shm/$name", [byte[]](5, 6, 7))
        try {
            (Get-IpcObject).Name | Should -Not -Contain $name
            $f = Get-IpcObject -IncludeForeign | Where-Object Name -EQ $name
            $f.Status | Should -Be 'Foreign'
            $f.CreatorPid | Should -BeNullOrEmpty
            $open = Get-IpcObject -Name $name
            $open.Read(0, 3) | Should -Be @(5, 6, 7)
            $open.Close()
            Test-Path "/dev/shm/$name" | Should -BeTrue
        } finally { Remove-Item "/dev/shm/$name" -ErrorAction SilentlyContinue }
    }

    It 'completes object names on Tab' -Tag 'Windows' {
        $name = New-TestName 'tab'
        $shm = New-SharedMemory $name 8
        try {
            $line = "Get-IpcObject -Name $($name.Substring(0, 10))"
            $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
            $completions.CompletionText | Should -Contain $name
        } finally { $shm.Close() }
    }
}

Describe 'Registry safety' {
    It 'refuses a registry folder that others can write, and a record that is a symlink' {
        $keep = New-SharedMemory (New-TestName) 8   # makes sure the folder exists while the test changes it
        $victim = New-TemporaryFile
        try {
            Set-Content $victim 'precious'
            $name = New-TestName
            New-Item -ItemType SymbolicLink -Path "$RegistryDir/$name" -Target $victim.FullName | Out-Null
            Get-ErrorId { New-SharedMemory $name 8 } | Should -Not -BeNullOrEmpty
            Get-Content $victim | Should -Be 'precious'
            Test-Path "/dev/shm/$name" | Should -BeFalse
            Remove-Item "$RegistryDir/$name"

            # A record another user put there (the folder was theirs to write for a moment): refused, not parsed.
            $planted = New-TestName
            Set-Content "$RegistryDir/$planted" "kind=Lock`ncreator=1:1`nattached=1:1"
            chown 65534 "$RegistryDir/$planted"
            try {
                Get-ErrorId { New-SharedMemory $planted 8 } | Should -Not -BeNullOrEmpty
                Test-Path "/dev/shm/$planted" | Should -BeFalse
                @(Get-IpcObject).Name | Should -Contain $keep.Name   # a listing skips the bad record
            } finally { rm -f "$RegistryDir/$planted" }
            # A folder open to others is avoided, never written into: see Trust.Tests.ps1 ("Squatted folders").
        } finally { $keep.Close(); Remove-Item $victim }
    }
}
