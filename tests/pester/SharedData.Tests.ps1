BeforeAll {
    . $PSScriptRoot/Common.ps1
    # Whether NAME exists: its segment on Linux; on Windows, where a mapping has no file to look at, whether IpcPs
    # finds it by name (a removed name is hidden there even while a process still maps it: docs/design.md).
    function Test-Shm([string] $Name) {
        if ($IsLinux) { Test-Path -LiteralPath "/dev/shm/$Name" } else { $null -ne (Get-IpcObject -Name $Name -ErrorAction SilentlyContinue) }
    }
}

Describe 'New-IpcValue' {
    It 'stores type <Type> (size <Size>) and reads back <Value>' -Tag 'Windows' -TestCases @(
        @{ Type = 'b'; Size = 1; Value = -128; Clr = [sbyte] }
        @{ Type = 'B'; Size = 1; Value = 255; Clr = [byte] }
        @{ Type = 'h'; Size = 2; Value = -32768; Clr = [short] }
        @{ Type = 'H'; Size = 2; Value = 65535; Clr = [ushort] }
        @{ Type = 'i'; Size = 4; Value = -2147483648; Clr = [int] }
        @{ Type = 'I'; Size = 4; Value = 4294967295; Clr = [uint] }
        @{ Type = 'l'; Size = 8; Value = [long]::MinValue; Clr = [long] }
        @{ Type = 'L'; Size = 8; Value = [ulong]::MaxValue; Clr = [ulong] }
        @{ Type = 'q'; Size = 8; Value = [long]::MaxValue; Clr = [long] }
        @{ Type = 'Q'; Size = 8; Value = [ulong]::MaxValue; Clr = [ulong] }
        @{ Type = 'f'; Size = 4; Value = 1.5; Clr = [float] }
        @{ Type = 'd'; Size = 8; Value = -273.154; Clr = [double] }
        @{ Type = 'c'; Size = 1; Value = [char]'x'; Clr = [char] }
        @{ Type = 'int'; Size = 4; Value = 42; Clr = [int] }
        @{ Type = 'System.Double'; Size = 8; Value = 2.25; Clr = [double] }
        @{ Type = 'ULONG'; Size = 8; Value = 7; Clr = [ulong] }
        @{ Type = 'byte'; Size = 1; Value = 200; Clr = [byte] }
    ) {
        param($Type, $Size, $Value, $Clr)
        $v = New-IpcValue (New-TestName) -Type $Type -Value $Value
        try {
            $v.Type.Size | Should -Be $Size
            $v.Get() | Should -Be $Value
            $v.Get() | Should -BeOfType $Clr
            $v.Kind | Should -Be 'Value'
            $v.Length | Should -Be 1
        } finally { $v.Close() }
    }

    It 'starts at 0, and takes a [type] as -Type' -Tag 'Windows' {
        $v = New-IpcValue (New-TestName) -Type ([double])
        try { $v.Value | Should -Be 0; $v.Type.Code | Should -Be 'd' } finally { $v.Close() }
    }

    It 'has a shared RLock NAME.lock, opened with the value and destroyed with it' {
        $name = New-TestName
        $v = New-IpcValue $name -Type i
        $lock = $v.GetLock()
        $lock.Name | Should -Be "$name.lock"
        $lock.Kind | Should -Be 'RLock'
        $v.HasLock | Should -BeTrue
        $other = Get-IpcObject -Name $name
        try {
            $other.Kind | Should -Be 'Value'
            $other.Type.Code | Should -Be 'i'
            $other.GetLock().Name | Should -Be "$name.lock"
            Use-IpcLock $v { $other.GetLock().IsLocked } | Should -BeTrue
        } finally { $other.Close() }
        $v.Close()
        Test-Shm $name | Should -BeFalse
        Test-Shm "$name.lock" | Should -BeFalse
    }

    It '-NoLock makes no lock; GetLock() is then an error' -Tag 'Windows' {
        $name = New-TestName
        $v = New-IpcValue $name -Type i -NoLock
        try {
            $v.HasLock | Should -BeFalse
            Test-Shm "$name.lock" | Should -BeFalse
            Get-ThrownException { $v.GetLock() } | Should -BeOfType ([IpcPs.IpcSyncStateException])
        } finally { $v.Close() }
    }

    It 'refuses an unknown type with IpcInvalidArgument' -Tag 'Windows' {
        Get-ErrorId { New-IpcValue (New-TestName) -Type 'u' } | Should -BeLike 'IpcInvalidArgument*'
        Get-ErrorId { New-IpcValue (New-TestName) -Type 'decimal' } | Should -BeLike 'IpcInvalidArgument*'
    }

    It 'refuses a value that would overflow (no silent truncation): <Type> <Value>' -Tag 'Windows' -TestCases @(
        @{ Type = 'B'; Value = 256 }
        @{ Type = 'B'; Value = -1 }
        @{ Type = 'i'; Value = 2147483648 }
        @{ Type = 'I'; Value = -1 }
        @{ Type = 'q'; Value = [ulong]::MaxValue }
        @{ Type = 'Q'; Value = 1e20 }
        @{ Type = 'f'; Value = 1e300 }
        @{ Type = 'c'; Value = [char]0x100 }
    ) {
        param($Type, $Value)
        Get-ErrorId { New-IpcValue (New-TestName) -Type $Type -Value $Value } | Should -BeLike 'IpcValueOverflow*'
        $v = New-IpcValue (New-TestName) -Type $Type -NoLock
        try {
            Get-ThrownException { $v.Set($Value) } | Should -BeOfType ([OverflowException])
            $v.Get() | Should -Be 0 -Because 'a failed write changes nothing'
        } finally { $v.Close() }
    }

    It 'refuses a value of the wrong type: <Label>' -Tag 'Windows' -TestCases @(
        @{ Label = 'text for a number'; Type = 'i'; Value = 'abc' }
        @{ Label = 'a fraction for an integer'; Type = 'i'; Value = 1.5 }
        @{ Label = 'a date for a double'; Type = 'd'; Value = [datetime]::Now }
        @{ Label = 'two characters for c'; Type = 'c'; Value = 'xy' }
    ) {
        param($Label, $Type, $Value)
        Get-ErrorId { New-IpcValue (New-TestName) -Type $Type -Value $Value } | Should -BeLike 'IpcInvalidArgument*'
        $v = New-IpcValue (New-TestName) -Type $Type -NoLock
        try { Get-ThrownException { $v.Set($Value) } | Should -BeOfType ([ArgumentException]) } finally { $v.Close() }
    }

    It 'accepts integral doubles and booleans for integer types' -Tag 'Windows' {
        $v = New-IpcValue (New-TestName) -Type q -NoLock
        try {
            $v.Set(7.0); $v.Get() | Should -Be 7
            $v.Set($true); $v.Get() | Should -Be 1
            $v.Set(9007199254740993); $v.Get() | Should -Be 9007199254740993
        } finally { $v.Close() }
    }

    It 'keeps 4 processes x 10,000 increments exact under GetLock()' -Tag 'Windows' {
        $v = New-IpcValue (New-TestName) -Type q
        try {
            $jobs = 1..4 | ForEach-Object {
                Start-IpcProcess -ArgumentList $v {
                    param($v)
                    $lock = $v.GetLock()
                    for ($i = 0; $i -lt 10000; $i++) {
                        [void]$lock.Acquire()
                        $v.Value = $v.Value + 1
                        $lock.Release()
                    }
                }
            }
            $jobs | Wait-IpcProcess -Timeout 300 | Out-Null
            foreach ($j in $jobs) { $j.State | Should -Be 'Completed' -Because ($j.Error | Out-String) }
            $jobs | Remove-Job
            $v.Value | Should -Be 40000
        } finally { $v.Close() }
    }
}

Describe 'New-IpcArray' -Tag 'Windows' {
    It 'makes a zeroed array of -Length, or one from -Value' {
        $a = New-IpcArray (New-TestName) -Type d -Length 4
        $b = New-IpcArray (New-TestName) -Type i -Value 1, 2, 3, 4, 5
        try {
            $a.Length | Should -Be 4
            $a.ToArray() | Should -Be @(0, 0, 0, 0)
            $a.ToArray().GetType() | Should -Be ([double[]])
            $b.Length | Should -Be 5
            $b.ToArray() | Should -Be @(1, 2, 3, 4, 5)
            $b.Kind | Should -Be 'Array'
        } finally { $a.Close(); $b.Close() }
    }

    It 'makes an empty array' {
        $a = New-IpcArray (New-TestName) -Type i -Length 0
        try { $a.Length | Should -Be 0; @($a.ToArray()).Count | Should -Be 0 } finally { $a.Close() }
    }

    It 'reads and writes by index, negative from the end; out of range is a clear error' {
        $a = New-IpcArray (New-TestName) -Type h -Value 10, 20, 30
        try {
            $a[0] | Should -Be 10
            $a[-1] | Should -Be 30
            $a[1] = 99
            $a.Set(-3, 7)
            $a.ToArray() | Should -Be @(7, 99, 30)
            $e = Get-ThrownException { $a.Get(3) }
            $e | Should -BeOfType ([ArgumentOutOfRangeException])
            $e.Message | Should -BeLike '*Index 3 is outside*length 3*'
            Get-ThrownException { $a.Get(-4) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $a.Set(3, 1) } | Should -BeOfType ([ArgumentOutOfRangeException])
        } finally { $a.Close() }
    }

    It 'copies ranges in bulk: GetRange, SetRange, CopyTo' {
        $a = New-IpcArray (New-TestName) -Type d -Length 10
        try {
            $a.SetRange(2, [double[]](1.5, 2.5, 3.5))
            $a.SetRange(7, @(7, 8))
            $a.GetRange(1, 4) | Should -Be @(0, 1.5, 2.5, 3.5)
            $dest = [double[]]::new(5)
            $a.CopyTo(6, $dest, 1, 3)
            $dest | Should -Be @(0, 0, 7, 8, 0)
            Get-ThrownException { $a.SetRange(9, [double[]](1, 2)) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $a.GetRange(8, 3) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $a.CopyTo(0, [int[]]::new(3), 0, 3) } | Should -BeOfType ([ArgumentException])
        } finally { $a.Close() }
    }

    It 'leaves the array unchanged when one value of a range is bad' {
        $a = New-IpcArray (New-TestName) -Type B -Value 1, 2, 3
        try {
            Get-ThrownException { $a.SetRange(0, @(9, 9, 300)) } | Should -BeOfType ([OverflowException])
            Get-ThrownException { $a.SetRange(0, @(9, 'x')) } | Should -BeOfType ([ArgumentException])
            $a.ToArray() | Should -Be @(1, 2, 3)
        } finally { $a.Close() }
    }

    It 'refuses a wrong initializer length, an unknown type and bad values with clear errors' {
        Get-ErrorId { New-IpcArray (New-TestName) -Type i -Length 3 -Value 1, 2 } | Should -BeLike 'IpcInvalidArgument*'
        Get-ErrorId { New-IpcArray (New-TestName) -Type 'x' -Length 3 } | Should -BeLike 'IpcInvalidArgument*'
        Get-ErrorId { New-IpcArray (New-TestName) -Type i -Value 1, 'two' } | Should -BeLike 'IpcInvalidArgument*'
        Get-ErrorId { New-IpcArray (New-TestName) -Type b -Value 1, 200 } | Should -BeLike 'IpcValueOverflow*'
        $a = New-IpcArray (New-TestName) -Type i -Length 3 -Value 4, 5, 6
        try { $a.ToArray() | Should -Be @(4, 5, 6) } finally { $a.Close() }
    }

    It 'holds characters for type c (a string gives its characters)' {
        $a = New-IpcArray (New-TestName) -Type c -Value 'hello'
        try {
            $a[0] = 'J'
            -join $a.ToArray() | Should -Be 'Jello'
            $a[1] | Should -BeOfType ([char])
            $a.Read[byte](4) | Should -Be ([byte][char]'o')
        } finally { $a.Close() }
    }

    It 'is opened by name and passed to a child, which sees and changes the same elements' {
        $a = New-IpcArray (New-TestName) -Type q -Value 1, 2, 3
        try {
            $other = Get-IpcObject -Name $a.Name
            $other.Kind | Should -Be 'Array'
            $other[1] = 20
            $other.Close()
            $job = Start-IpcProcess -ArgumentList $a { param($a) $a[2] = $a[0] + $a[1]; $a.Length }
            $job | Wait-IpcProcess -PassThru | Receive-Job | Should -Be 3
            $job | Remove-Job
            $a.ToArray() | Should -Be @(1, 20, 21)
            (Get-IpcObject -Kind Array).Name | Should -Contain $a.Name
        } finally { $a.Close() }
    }

    It 'is formatted with the IpcObject table view, not as its ToString (its indexer is not its first .NET property)' {
        $a = New-IpcArray (New-TestName) -Type i -Value 1, 2, 3
        try {
            # A fresh object, formatted before anything has enumerated its members (Get-Member would hide the bug).
            $text = Out-String -InputObject $a   # piped, an array is its elements, as a PowerShell array
            $text | Should -Match '(?m)^Name\s+Kind\s+Size\s+Status'
            $text | Should -Match ([regex]::Escape($a.Name) + '\s+Array')
            $text.Trim() | Should -Not -Be $a.ToString()
            $b = New-IpcArray (New-TestName) -Type d -Length 2
            try {
                (Format-Table -InputObject $b -Property Name | Out-String) | Should -Match ('(?m)^Name\s*$[\s\S]*' + [regex]::Escape($b.Name))
                (Format-List -InputObject $b -Property * | Out-String) | Should -Match ('(?m)^Length\s*:\s*2\s*$')
            } finally { $b.Close() }
            $other = Get-IpcObject -Name $a.Name
            try { (Out-String -InputObject $other) | Should -Match ([regex]::Escape($a.Name) + '\s+Array') } finally { $other.Close() }
        } finally { $a.Close() }
    }

    It 'refuses to open another kind as an Array' {
        $v = New-IpcValue (New-TestName) -Type i
        try { Get-ErrorId { Get-IpcObject -Name $v.GetLock().Name -Kind Array } | Should -BeLike 'IpcObjectWrongKind*' } finally { $v.Close() }
    }
}

Describe 'New-ShareableList' {
    It 'stores every item type and reads them back typed' -Tag 'Windows' {
        $sl = New-ShareableList (New-TestName) -InputObject @('howdy', [byte[]][char[]]'HoWdY', -273.154, 100, $null, $true, 42)
        try {
            $sl.Count | Should -Be 7
            $sl.Format | Should -Be '8s8sdqxxxxxx?xxxxxxxx?q'
            $sl.SharedMemory.Size | Should -Be 191
            $sl[0] | Should -BeExactly 'howdy'
            [Text.Encoding]::ASCII.GetString($sl[1]) | Should -BeExactly 'HoWdY'
            $sl[2] | Should -Be -273.154
            $sl[3] | Should -BeOfType ([long])
            $sl[4] | Should -BeNullOrEmpty
            $sl[5] | Should -BeTrue
            $sl[-1] | Should -Be 42
            $sl.Kind | Should -Be 'ShareableList'
        } finally { $sl.Close() }
    }

    It 'matches the reference layout byte for byte (the worked example of reference §12.2)' -Tag 'Windows' {
        $sl = New-ShareableList (New-TestName) -InputObject @('howdy', [byte[]][char[]]'HoWdY', -273.154, 100, $null, $true, 42)
        try {
            $hex = [Convert]::ToHexString($sl.SharedMemory.ToArray()).ToLower()
            $hex.Substring(0, 16) | Should -Be '0700000000000000'
            $hex.Substring(72 * 2, 16) | Should -Be ([Convert]::ToHexString([Text.Encoding]::ASCII.GetBytes("howdy`0`0`0")).ToLower())
            $hex.Substring(88 * 2, 16) | Should -Be '5839b4c8761271c0'
            $hex.Substring(112 * 2, 16) | Should -Be '0000000000000001'
            $hex.Substring(184 * 2) | Should -Be '01020000030000'
        } finally { $sl.Close() }
    }

    It 'takes items from the pipeline, one per object (a byte[] stays one item); none makes an empty list' -Tag 'Windows' {
        $sl = 1..3 | New-ShareableList (New-TestName)
        $bytes = , [byte[]](1, 2, 3) | New-ShareableList (New-TestName)
        $empty = New-ShareableList (New-TestName)
        try {
            $sl.ToArray() | Should -Be @(1, 2, 3)
            $bytes.Count | Should -Be 1
            $bytes.Format | Should -Be '8s'
            $empty.Count | Should -Be 0
            $empty.Format | Should -Be ''
            $empty.SharedMemory.Size | Should -Be 16
            $empty.IndexOf($null) | Should -Be -1
            Get-ThrownException { $empty.Get(0) } | Should -BeOfType ([ArgumentOutOfRangeException])
        } finally { $sl.Close(); $bytes.Close(); $empty.Close() }
    }

    It 'changes an item''s type within its slot, and refuses an oversize item leaving the list unchanged' -Tag 'Windows' {
        $sl = New-ShareableList (New-TestName) -InputObject @('howdy', [byte[]][char[]]'HoWdY', -273.154, 100, $null, $true, 42)
        try {
            $sl[4] = 'some'
            $sl.Format | Should -Be '8s8sdq8sxxxxxxx?q'
            $sl[2] = 'dry ice'
            $before = $sl.SharedMemory.ToArray()
            foreach ($big in 'far too many', 'encodées', [byte[]][char[]]'123456789') {
                $e = Get-ThrownException { $sl.Set(2, $big) }
                $e | Should -BeOfType ([IpcPs.IpcStorageException])
                $e.Message | Should -BeLike '*exceeds available storage*'
            }
            $sl.SharedMemory.ToArray() | Should -Be $before -Because 'nothing is written, not even the neighbour''s bytes'
            $sl[2] = 'encodés'   # exactly 8 bytes in UTF-8
            $sl[2] | Should -Be 'encodés'
            $sl[3] | Should -Be 100
        } finally { $sl.Close() }
    }

    It 'sizes strings by their UTF-8 bytes (CPython''s gh-88336 not copied)' -Tag 'Windows' {
        $sl = New-ShareableList (New-TestName) -InputObject @('ééééééé', 'aéééééé')
        try {
            $sl.Format | Should -Be '16s16s'
            $sl[0] | Should -Be 'ééééééé'
            $sl[1] | Should -Be 'aéééééé'
        } finally { $sl.Close() }
    }

    It 'refuses indexes below -Count and beyond the end' -Tag 'Windows' {
        $sl = 1..6 | New-ShareableList (New-TestName)
        try {
            $sl[-6] | Should -Be 1
            Get-ThrownException { $sl.Get(-7) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $sl.Get(6) } | Should -BeOfType ([ArgumentOutOfRangeException])
            Get-ThrownException { $sl.Set(-7, 1) } | Should -BeOfType ([ArgumentOutOfRangeException])
        } finally { $sl.Close() }
    }

    It 'finds items with CPython''s equality: IndexOf, CountOf, Contains' -Tag 'Windows' {
        $sl = New-ShareableList (New-TestName) -InputObject @(1, 1.0, $true, 'a', 'A', [byte[]](1, 2), $null, 42, 42)
        try {
            $sl.CountOf(1) | Should -Be 3
            $sl.CountOf('a') | Should -Be 1
            $sl.IndexOf('A') | Should -Be 4
            $sl.IndexOf([byte[]](1, 2)) | Should -Be 5
            $sl.IndexOf($null) | Should -Be 6
            $sl.CountOf(42) | Should -Be 2
            $sl.IndexOf('100') | Should -Be -1
            $sl.Contains(42) | Should -BeTrue
        } finally { $sl.Close() }
    }

    It 'refuses unsupported items and integers beyond 64 bits with clear errors' -Tag 'Windows' {
        Get-ErrorId { New-ShareableList (New-TestName) -InputObject @(1, (Get-Date)) } | Should -BeLike 'IpcInvalidArgument*'
        Get-ErrorId { New-ShareableList (New-TestName) -InputObject @([ulong]::MaxValue) } | Should -BeLike 'IpcValueOverflow*'
        $sl = New-ShareableList (New-TestName) -InputObject @(1)
        try {
            Get-ThrownException { $sl.Set(0, @(1, 2)) } | Should -BeOfType ([ArgumentException])
            Get-ThrownException { $sl.Set(0, [decimal]1) } | Should -BeOfType ([ArgumentException])
            $sl[0] | Should -Be 1
        } finally { $sl.Close() }
    }

    It 'refuses a segment whose bytes are not a ShareableList' {
        $name = New-TestName 'junk'
        [IO.File]::WriteAllBytes("/dev/shm/$name", [Text.Encoding]::ASCII.GetBytes('this is not a ShareableList at all'))
        try {
            Get-ErrorId { Get-IpcObject -Name $name -Kind ShareableList } | Should -BeLike 'IpcObjectWrongKind*'
            Get-ThrownException { [IpcPs.ShareableList]::Open($name) } | Should -BeOfType ([IpcPs.IpcObjectKindException])
        } finally { Remove-Item -LiteralPath "/dev/shm/$name" }
        $shm = New-SharedMemory (New-TestName) 64
        try { Get-ErrorId { Get-IpcObject -Name $shm.Name -Kind ShareableList } | Should -BeLike 'IpcObjectWrongKind*' } finally { $shm.Close() }
    }

    It 'is listed and opened by name with Get-IpcObject, tethered to the original' -Tag 'Windows' {
        $sl = 0..4 | New-ShareableList (New-TestName)
        try {
            (Get-IpcObject -Kind ShareableList).Name | Should -Contain $sl.Name
            $c = Get-IpcObject -Name $sl.Name
            Should -ActualValue $c -BeOfType ([IpcPs.ShareableList])
            $c[-1] = -999
            $sl[-1] | Should -Be -999
            $c.Close()
        } finally { $sl.Close() }
        Test-Shm $sl.Name | Should -BeFalse
    }
}

Describe 'Use-IpcScope' {
    It 'destroys what the block created (not what existed before or was only opened) when it ends normally' -Tag 'Windows' {
        $before = New-IpcEvent (New-TestName)
        $names = @{ shm = New-TestName; value = New-TestName; array = New-TestName; list = New-TestName; lock = New-TestName }
        try {
            $out = Use-IpcScope -ArgumentList $names, $before.Name {
                param($n, $existing)
                $null = New-SharedMemory $n.shm 64
                $null = New-IpcValue $n.value -Type d
                $null = New-IpcArray $n.array -Type i -Length 3
                $null = New-ShareableList $n.list -InputObject @(1, 'a')
                $null = New-IpcLock $n.lock
                $opened = Get-IpcObject -Name $existing
                (Test-Shm "$($n.value).lock") -and (Test-Shm $n.list)
            }
            $out | Should -BeTrue
            foreach ($n in $names.Values) { Test-Shm $n | Should -BeFalse -Because "$n was created in the scope" }
            Test-Shm "$($names.value).lock" | Should -BeFalse
            Test-Shm $before.Name | Should -BeTrue
            $before.Status | Should -Be 'Active'
        } finally { $before.Close() }
    }

    It 'writes the block''s output after the scope ends, so objects later commands create are theirs; errors go to -ErrorVariable' -Tag 'Windows' {
        $name = New-TestName; $later = New-TestName
        $seen = [Collections.Generic.List[bool]]::new()
        $ErrorActionPreference = 'Continue'   # Pester makes errors in a test terminating
        try {
            Use-IpcScope -ArgumentList $name { param($n) $null = New-IpcValue $n -Type i; 'made'; Write-Error 'soft' } -ErrorVariable ev -ErrorAction SilentlyContinue |
                ForEach-Object { $seen.Add((Test-Shm $name)); $script:kept = New-IpcValue $later -Type i }
            $seen | Should -Be @($false)
            $ev.Count | Should -Be 1
            Test-Shm $later | Should -BeTrue -Because 'a later command in the pipeline created it, not the block'
        } finally { if ($script:kept) { $script:kept | Remove-IpcObject } }
    }

    It 'destroys them when the block throws, and rethrows the error' -Tag 'Windows' {
        $name = New-TestName
        $e = Get-ThrownException { Use-IpcScope -ArgumentList $name { param($n) $null = New-IpcValue $n -Type i; throw 'boom' } }
        $e.Message | Should -Be 'boom'
        Test-Shm $name | Should -BeFalse
        Test-Shm "$name.lock" | Should -BeFalse
    }

    It 'destroys them when the pipeline is stopped (Ctrl+C)' -Tag 'Windows' {
        $name = New-TestName
        $run = Start-Stoppable {
            param($n)
            Use-IpcScope -ArgumentList $n {
                param($n)
                $null = New-ShareableList $n -InputObject @(1, 2, 3)
                $null = New-IpcArray "$n.arr" -Type d -Length 10
                Start-Sleep -Seconds 600
            }
        } -Arguments $name
        try {
            Wait-Until { (Test-Shm $name) -and (Test-Shm "$name.arr.lock") } -Because 'the scope to create its objects'
            $run.PowerShell.Stop()
            Test-Shm $name | Should -BeFalse
            Test-Shm "$name.arr" | Should -BeFalse
            Test-Shm "$name.arr.lock" | Should -BeFalse
        } finally { $run.PowerShell.Dispose() }
    }

    It 'keeps objects valid for children until the end, and nests' -Tag 'Windows' {
        $outer = New-TestName; $inner = New-TestName
        $result = Use-IpcScope -ArgumentList $outer, $inner {
            param($outer, $inner)
            $v = New-IpcValue $outer -Type q -Value 1
            Use-IpcScope -ArgumentList $inner { param($n) $null = New-IpcEvent $n }
            Test-Shm $inner
            Start-IpcProcess -ArgumentList $v { param($v) $v.Value = 41 } | Wait-IpcProcess -PassThru | Remove-Job
            $v.Value + 1
            Test-Shm $outer
        }
        $result | Should -Be @($false, 42, $true)
        Test-Shm $outer | Should -BeFalse
    }

    # Not tagged Windows: there the event lives only while a handle on it is open, and the other runspace's handle is
    # unreachable once it is disposed, so the event lasts until that handle is collected: the outcome is the GC's.
    It 'does not capture objects created by a runspace on another thread' {
        $name = New-TestName
        try {
            Use-IpcScope -ArgumentList $name {
                param($n)
                $ps = [powershell]::Create()
                try { $null = $ps.AddScript("Import-Module '$env:IPCPS_MODULE_PATH'; `$e = New-IpcEvent '$n'").Invoke() }
                finally { $ps.Dispose() }
            }
            Test-Shm $name | Should -BeTrue
        } finally { Remove-IpcObject -Name $name -Confirm:$false -ErrorAction SilentlyContinue }
    }
}
