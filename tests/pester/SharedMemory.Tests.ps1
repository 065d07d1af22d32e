BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'New-SharedMemory' {
    It 'creates a zeroed segment of exactly the requested size, private to the user (0600)' {
        $name = New-TestName
        $shm = New-SharedMemory -Name $name -Size 4097
        try {
            $shm.Name | Should -Be $name
            $shm.Size | Should -Be 4097
            $shm.Kind | Should -Be 'SharedMemory'
            $shm.CreatorPid | Should -Be $PID
            $shm.ToArray().Where({ $_ -ne 0 }).Count | Should -Be 0
            (Get-Item "/dev/shm/$name").UnixMode | Should -Be '-rw-------'
            (Get-Item "/dev/shm/$name").Length | Should -Be 4097
        } finally { $shm.Unlink(); $shm.Close() }
    }

    It 'generates a unique name when none is given' -Tag 'Windows' {
        $a = New-SharedMemory -Size 8; $b = New-SharedMemory -Size 8
        try {
            $a.Name | Should -Match '^ipc_[0-9a-f]{12}$'
            $a.Name | Should -Not -Be $b.Name
        } finally { $a.Unlink(); $b.Unlink(); $a.Close(); $b.Close() }
    }

    It 'reads and writes bytes through Read/Write and the indexer, visible through a second handle' {
        $name = New-TestName
        $shm = New-SharedMemory $name 16
        $other = Get-IpcObject -Name $name
        try {
            $shm[0] = 42
            $shm.Write(1, [byte[]](1, 2, 3))
            $other.Read(0, 4) | Should -Be @(42, 1, 2, 3)
            $other[15] = 255
            $shm[15] | Should -Be 255
            $shm.ToString() | Should -Be "SharedMemory('$name', size=16)"
        } finally { $other.Close(); $shm.Close() }
        Test-Path "/dev/shm/$name" | Should -BeFalse -Because 'the last closer destroys the object'
    }

    It 'shows a table view with name, kind, size and status' -Tag 'Windows' {
        $shm = New-SharedMemory (New-TestName) 32
        try {
            $text = $shm | Format-Table | Out-String
            $text | Should -Match 'Name\s+Kind\s+Size\s+Status'
            $text | Should -Match "$($shm.Name)\s+SharedMemory\s+32\s+Active"
        } finally { $shm.Close() }
    }
}

Describe 'SharedMemory bad input' {
    It 'refuses an existing name with IpcObjectExists' -Tag 'Windows' {
        $name = New-TestName
        $shm = New-SharedMemory $name 8
        try {
            Get-ErrorId { New-SharedMemory $name 8 } | Should -BeLike 'IpcObjectExists*'
            Get-ThrownException { [IpcPs.SharedMemory]::Create($name, 8) } | Should -BeOfType ([IpcPs.IpcObjectExistsException])
        } finally { $shm.Close() }
    }

    It 'refuses a name taken by a segment IpcPs did not make' {
        $name = New-TestName
        [IO.File]::WriteAllBytes("/dev/shm/$name", [byte[]](1, 2, 3))
        try { Get-ErrorId { New-SharedMemory $name 8 } | Should -BeLike 'IpcObjectExists*' }
        finally { Remove-Item "/dev/shm/$name" }
        (Get-Item "/dev/shm/$name" -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'reports an unknown name with IpcObjectNotFound' -Tag 'Windows' {
        Get-ErrorId { Get-IpcObject -Name (New-TestName) } | Should -BeLike 'IpcObjectNotFound*'
        Get-ThrownException { [IpcPs.SharedMemory]::Attach((New-TestName)) } | Should -BeOfType ([IpcPs.IpcObjectNotFoundException])
    }

    It 'refuses size <Size>' -Tag 'Windows' -TestCases @(@{ Size = 0 }, @{ Size = -1 }, @{ Size = -4096 }) {
        param($Size)
        $name = New-TestName
        Get-ErrorId { New-SharedMemory $name $Size } | Should -BeLike 'IpcArgumentOutOfRange*'
        Test-Path "/dev/shm/$name" | Should -BeFalse
        Test-Path "$RegistryDir/$name" | Should -BeFalse
    }

    It 'refuses the name <Label>' -Tag 'Windows' -TestCases @(
        @{ Label = 'empty'; Name = '' }
        @{ Label = 'with a slash'; Name = 'a/b' }
        @{ Label = 'with a wildcard'; Name = 'a*b' }
        @{ Label = 'with a space'; Name = 'a b' }
        @{ Label = 'with a control character'; Name = "a`tb" }
        @{ Label = 'starting with a dot'; Name = '.hidden' }
        @{ Label = 'of 256 characters'; Name = ('x' * 256) }
    ) {
        param($Label, $Name)
        Get-ThrownException { [IpcPs.SharedMemory]::Create($Name, 8) } | Should -BeOfType ([IpcPs.InvalidIpcNameException])
        if ($Name) { Get-ErrorId { New-SharedMemory -Name $Name -Size 8 } | Should -BeLike 'InvalidIpcName*' }
        else { { New-SharedMemory -Name $Name -Size 8 -ErrorAction Stop } | Should -Throw }
    }

    It 'accepts a name of 255 characters' -Tag 'Windows' {
        $name = 'n' + (New-TestName) ; $name = $name + ('x' * (255 - $name.Length))
        $shm = New-SharedMemory $name 8
        try { $shm.Name.Length | Should -Be 255 } finally { $shm.Close() }
    }

    It 'refuses reads and writes outside the segment with a clear error' -Tag 'Windows' {
        $shm = New-SharedMemory (New-TestName) 10
        try {
            { $shm.Read(8, 3) } | Should -Throw '*outside SharedMemory*10 bytes*'
            Get-ThrownException { $shm.Read(-1, 1) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $shm.Read(0, -1) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $shm.Write(9, [byte[]](1, 2)) } | Should -BeOfType ([ArgumentOutOfRangeException])
            { $shm.get_Item(10) } | Should -Throw '*Index 10 is outside*valid indexes are 0..9*'
            $shm[10] | Should -BeNullOrEmpty -Because 'PowerShell answers $null for an index past the end, as for arrays'
            { Set-StrictMode -Version Latest; $shm[10] } | Should -Throw '*Index 10 is outside*'
            Get-ThrownException { $shm[-1] = 1 } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $shm.Write(0, $null) } | Should -BeOfType ([ArgumentNullException])
            $shm.Read(10, 0).Count | Should -Be 0
        } finally { $shm.Close() }
    }

    It 'refuses use after Close with IpcObjectClosed, and Close is idempotent' -Tag 'Windows' {
        $shm = New-SharedMemory (New-TestName) 10
        $shm.Close(); $shm.Close()
        $shm.IsClosed | Should -BeTrue
        Get-ThrownException { $shm.Read(0, 1) } | Should -BeOfType ([ObjectDisposedException])
        $shm.Size | Should -Be 10 -Because 'name and size stay readable after close, as in CPython'
    }

    It 'refuses to open a zero-length segment' {
        $name = New-TestName
        [IO.File]::WriteAllBytes("/dev/shm/$name", [byte[]]@())
        try { { [IpcPs.SharedMemory]::Attach($name) } | Should -Throw '*empty*' }
        finally { Remove-Item "/dev/shm/$name" }
    }
}
