# Issue 12 (hardening): what another user can plant in /dev/shm, and what any writer can do to a segment after it was
# opened. Every test here failed on the code before the hardening (a root session opened another user's segment and ran
# its barrier action; a squatted registry folder denied service; a header changed after attach crashed the process).
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # A copy of segment SOURCE under NAME, owned by uid 65534 (nobody) with mode 0666: what another user could plant.
    function New-PlantedSegment([string] $Source, [string] $Name) {
        Copy-Item "/dev/shm/$Source" "/dev/shm/$Name"
        chown 65534:65534 "/dev/shm/$Name"
        chmod 0666 "/dev/shm/$Name"
    }

    # Runs SCRIPT in a child pwsh with a private /dev/shm (a tmpfs in a mount namespace of its own) and a HOME of its
    # own, after SETUP (bash) ran there as root. Returns the child's output lines; throws on a non-zero exit. Without
    # warm spares: one still booting when the child exits made pwsh's module folder in that HOME after it was removed
    # (a leftover ipcps-home folder failed CI run 35).
    function Invoke-Isolated([string] $Setup, [string] $Script) {
        $home_ = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-home')
        New-Item -ItemType Directory $home_ | Out-Null
        try {
            $pwsh = (Get-PwshCommand | ForEach-Object { "'$_'" }) -join ' '
            $bash = "mount -t tmpfs -o mode=1777 ipcps-test /dev/shm && $Setup && HOME='$home_' IPCPS_SPARES=0 TERM=dumb exec $pwsh -NoProfile -NonInteractive -OutputFormat Text -Command -"
            $out = "Import-Module '$env:IPCPS_MODULE_PATH'; `$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'`n$Script" |
                & unshare --mount --propagation private -- bash -c $bash 2>&1
            if ($LASTEXITCODE) { throw "The isolated pwsh failed ($LASTEXITCODE): $($out -join "`n")" }
            $out
        } finally { Remove-Item -Recurse -Force $home_ }
    }
}

Describe 'Segments of another user' {
    BeforeAll {
        $marker = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-pwned')
        # A real barrier whose action would leave a marker file: the bytes another user would plant.
        $template = New-IpcBarrier -Parties 1 -Action ([scriptblock]::Create("Set-Content '$marker' 'the planted action ran'"))
    }
    AfterAll {
        $template.Close()
        Remove-Item $marker -ErrorAction SilentlyContinue
    }

    It 'refuses a planted segment through every way of opening or creating it, and never runs a planted action' {
        $name = New-TestName
        New-PlantedSegment $template.Name $name
        try {
            foreach ($open in @(
                    { Get-IpcObject -Name $name }
                    { New-IpcBarrier -Name $name -Parties 1 -OpenOrCreate }
                    { [IpcPs.IpcObjects]::Open($name) }
                    { [IpcPs.IpcObjects]::Open($name, 'Barrier') }
                    { Get-IpcObject -Name $name -Kind ShareableList }
                    { New-IpcLock -Name $name -OpenOrCreate }
                    { New-IpcSemaphore -Name $name -OpenOrCreate }
                    { New-IpcEvent -Name $name -OpenOrCreate }
                    { New-IpcCondition -Name $name -OpenOrCreate }
                    { New-IpcQueue -Name $name -OpenOrCreate }
                    { New-SharedMemory -Name $name -Size 64 }
                    { New-IpcLock -Name $name }
                    { New-IpcSemaphore -Name $name }
                    { New-IpcEvent -Name $name }
                    { New-IpcCondition -Name $name }
                    { New-IpcBarrier -Name $name -Parties 1 }
                    { New-IpcQueue -Name $name }
                    { New-IpcPipe -Name $name }
                    { New-IpcValue -Name $name -Type i }
                    { New-IpcArray -Name $name -Type i -Length 4 }
                    { New-ShareableList -Name $name -InputObject 1 }
                    { Remove-IpcObject -Name $name -Confirm:$false }
                )) {
                $e = Get-ErrorId { & $open }
                # A cmdlet's ErrorId, or the exception's type from a method call.
                $e | Should -Match '^(IpcObjectNotOwned|IpcObjectOwnerException)' -Because "$open must refuse uid 65534's segment"
            }
            (Get-ThrownException { [IpcPs.IpcObjects]::Open($name) }).Message | Should -Match 'uid 65534'
            # Listing shows it only as a foreign name, and attaches nothing.
            Test-Path "/dev/shm/$name" | Should -BeTrue
            Test-Path $marker | Should -BeFalse
        } finally { Remove-Item -Force "/dev/shm/$name" }
    }

    It 'refuses a symlink planted under a name, whoever made it' {
        $name = New-TestName
        $target = New-TemporaryFile
        try {
            Set-Content $target 'precious'
            New-Item -ItemType SymbolicLink -Path "/dev/shm/$name" -Target $target.FullName | Out-Null
            Get-ErrorId { Get-IpcObject -Name $name } | Should -Not -BeNullOrEmpty
            Get-ErrorId { New-SharedMemory -Name $name -Size 64 } | Should -Not -BeNullOrEmpty
            Get-Content $target | Should -Be 'precious'
        } finally {
            Remove-Item -Force "/dev/shm/$name"
            Remove-Item $target
        }
    }
}

Describe 'Squatted folders' {
    It 'keeps working when another user made the registry folder first, and never uses that folder' {
        $out = Invoke-Isolated -Setup 'mkdir -m 0777 /dev/shm/.ipcps-0 && chown 65534:65534 /dev/shm/.ipcps-0' -Script @'
$lock = New-IpcLock -Name squat-lock
$child = Start-IpcProcess { "$((Get-IpcObject -Name squat-lock).Kind)"; "$((Get-IpcObject | Where-Object Name -eq squat-lock).Status)" }
$child | Wait-IpcProcess -PassThru | Receive-Job
(Get-ChildItem -Force /dev/shm/.ipcps-0).Count
(Get-Item -Force /dev/shm/.ipcps-0).User
$lock.Close()
Test-Path /dev/shm/squat-lock
'@
        $out | Where-Object { $_ } | Should -Be @('Lock', 'Active', '0', 'nobody', 'False')
    }

    It 'keeps working when the registry folder is a file or a symlink of another user' {
        $out = Invoke-Isolated -Setup 'ln -s /tmp /dev/shm/.ipcps-0' -Script @'
$m = New-SharedMemory -Name squat-shm -Size 16
"$((Get-IpcObject -Name squat-shm).Kind)"
$m.Close()
'@
        $out | Should -Be 'SharedMemory'
    }

    It 'avoids a folder of its own that others were given access to, and never writes into it' {
        $out = Invoke-Isolated -Setup 'mkdir -m 0777 /dev/shm/.ipcps-0' -Script @'
$m = New-SharedMemory -Name open-shm -Size 16
(Get-ChildItem -Force /dev/shm/.ipcps-0).Count
"$((Get-IpcObject -Name open-shm).Kind)"
$m.Close()
'@
        $out | Should -Be @('0', 'SharedMemory')
    }

    It 'keeps using the fallback while it exists, when the squatter gives the name up' {
        $out = Invoke-Isolated -Setup 'mkdir -m 0777 /dev/shm/.ipcps-0 && chown 65534:65534 /dev/shm/.ipcps-0' -Script @'
$a = New-SharedMemory -Name before -Size 16
Remove-Item -Force /dev/shm/.ipcps-0   # the squatter leaves (root may remove it here)
$b = New-SharedMemory -Name after -Size 16
$child = Start-IpcProcess { Get-IpcObject | ForEach-Object Name }
($child | Wait-IpcProcess -PassThru | Receive-Job) -join ','
Test-Path /dev/shm/.ipcps-0
$a.Close(); $b.Close()
'@
        $out | Should -Be @('after,before', 'False')
    }
}

Describe 'Headers changed after attach' {
    # Each attack runs in a child pwsh: on the code before the hardening it died there (a fatal AccessViolation or
    # SIGBUS), which the test sees as a failed job instead of losing the test run.
    It 'gives a typed error for <Case>, and the process lives' -ForEach @(
        @{ Case = 'an Array whose length another writer set to 10^9'; Script = {
                $a = New-IpcArray -Type d -Length 4
                $a[1] = 2.5
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($a.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[16:24] = (10**9).to_bytes(8, 'little')`nm.close()"
                $a.Length
                try { $a.Get(400000000) } catch { $_.Exception.InnerException.GetType().Name }
                $a[1]
                $b = $null
                try { $b = Get-IpcObject -Name $a.Name -ErrorAction Stop } catch { $_.FullyQualifiedErrorId -replace ',.*' }
                $a.Close()
            }; Expected = @('4', 'ArgumentOutOfRangeException', '2.5', 'IpcObjectCorrupt')
        }
        @{ Case = 'a one-way pipe whose duplex flag another writer set'; Script = {
                $r, $w = New-IpcPipe -Duplex:$false -BufferSize 4096
                $flags = [IpcPs.IpcConnection].GetField('FlagsOff', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($r.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[$flags] = 1`nm.close()"
                $w.Duplex
                try { $w.Recv() } catch { $_.Exception.InnerException.GetType().Name }
                $w.Send('still works'); $r.Recv()
                $r.Close(); $w.Close()
            }; Expected = @('False', 'InvalidOperationException', 'still works')
        }
        @{ Case = 'a queue whose block count another writer set to 10^9'; Script = {
                $q = New-IpcQueue -Capacity 4096
                $off = [IpcPs.IpcQueue].GetField('BlockCountOff', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
                $q.Put('first')
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($q.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[$($off):$($off + 4)] = (10**9).to_bytes(4, 'little')`nm.close()"
                $q.Capacity
                $q.Get()
                1..100 | ForEach-Object { $q.Put("x" * 40); [void]$q.Get() }
                try { $null = Get-IpcObject -Name $q.Name -ErrorAction Stop } catch { $_.FullyQualifiedErrorId -replace ',.*' }
                $q.Close()
            }; Expected = @('4096', 'first', 'IpcObjectCorrupt')
        }
        @{ Case = 'a queue whose free-list tail and fresh-block mark another writer damaged (found by the fuzzer)'; Script = {
                $q = New-IpcQueue -Capacity 4096
                $tail = [IpcPs.IpcQueue].GetField('FreeTailOff', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
                $fresh = [IpcPs.IpcQueue].GetField('FreshOff', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
                $q.Put('one'); $q.Put('two')
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($q.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[$($tail):$($tail + 4)] = (10**6).to_bytes(4, 'little')`nm.close()"
                try { $q.Get() } catch { $_.Exception.InnerException.GetType().Name }
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($q.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[$($tail):$($tail + 4)] = (-1).to_bytes(4, 'little', signed=True)`nm.buf[$($fresh):$($fresh + 4)] = (-3).to_bytes(4, 'little', signed=True)`nm.close()"
                try { $q.Put('three') } catch { $_.Exception.InnerException.GetType().Name }
                $q.Close()
            }; Expected = @('IpcObjectCorruptException', 'IpcObjectCorruptException')
        }
        @{ Case = 'a ShareableList item whose format another writer made longer than its slot'; Script = {
                $l = New-ShareableList -InputObject @('abc', 7)
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($l.Name)')`nr.unregister(m._name, 'shared_memory')`nn = int.from_bytes(m.buf[0:8], 'little')`nd = int.from_bytes(m.buf[8 + 8 * n:16 + 8 * n], 'little')`nf = 8 * (n + 2) + d`nm.buf[f:f + 8] = b'9999999s'`nm.close()"
                try { $l.Get(0) } catch { $_.Exception.InnerException.GetType().Name }
                $l.Get(1)
                $l.Close()
            }; Expected = @('IpcObjectCorruptException', '7')
        }
        @{ Case = 'a semaphore whose maximum another writer set out of range'; Script = {
                $s = New-IpcSemaphore -InitialCount 1 -MaximumCount 2
                Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($s.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[16:24] = (2**40).to_bytes(8, 'little')`nm.close()"
                $s.MaximumValue
                try { $null = Get-IpcObject -Name $s.Name -ErrorAction Stop } catch { $_.FullyQualifiedErrorId -replace ',.*' }
                $s.Close()
            }; Expected = @('2', 'IpcObjectCorrupt')
        }
    ) {
        $job = Start-IpcProcess -InitializationScript ([scriptblock]::Create(". '$PSScriptRoot/Common.ps1'")) -ScriptBlock $Script
        $job | Wait-IpcProcess -Timeout 120 | Out-Null
        $job.State | Should -Be 'Completed' -Because ($job.ChildJobs[0].JobStateInfo.Reason | Out-String)
        ($job | Receive-Job | ForEach-Object { "$_" }) | Should -Be $Expected
        $job | Remove-Job
    }

    It 'never allocates what a pipe frame header claims before the bytes arrive' {
        $r, $w = New-IpcPipe -BufferSize 4096
        try {
            $rings = [IpcPs.IpcConnection].GetField('RingsOffset', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
            $tail = [IpcPs.IpcConnection].GetField('TailOff', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
            $data = [IpcPs.IpcConnection].GetField('DataOffset', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
            # Ring 0 is read by end 0: a frame header claiming 2 GiB - 16 bytes of raw data, and nothing after it.
            Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($r.Name)')`nr.unregister(m._name, 'shared_memory')`nm.buf[$($data):$($data + 8)] = ((2**31 - 16) | (1 << 32)).to_bytes(8, 'little')`nm.buf[$($rings + $tail):$($rings + $tail + 8)] = (8).to_bytes(8, 'little')`nm.close()"
            $before = [GC]::GetTotalAllocatedBytes($true)
            $reader = Start-Stoppable { param($c) try { $c.Recv() } catch { $_.Exception.InnerException.GetType().Name } } @($r)
            $mid = [IpcPs.IpcConnection].GetField('ReaderMid', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
            $probe = New-SharedMemory -Size 8   # keeps the test's own allocations apart from the reader's
            Wait-Until { Invoke-Python "from multiprocessing import shared_memory as s, resource_tracker as r`nm = s.SharedMemory('$($r.Name)')`nr.unregister(m._name, 'shared_memory')`nprint(int.from_bytes(m.buf[$($rings + $mid):$($rings + $mid + 4)], 'little'))`nm.close()" | ForEach-Object { $_ -eq '1' } } -Because 'the reader waits inside the frame'
            $grown = [GC]::GetTotalAllocatedBytes($true) - $before
            $w.Close()   # the only writer goes: the reader sees the frame cut short
            $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'ConnectionClosedException'
            $grown | Should -BeLessThan 64MB
            $probe.Close()
        } finally { $r.Close(); $w.Close() }
    }
}

Describe 'Hidden locks' {
    It 'Remove-IpcObject of a <Kind> leaves nothing in /dev/shm, not even its lock' -ForEach @(
        @{ Kind = 'Value'; Make = { New-IpcValue -Type i } }
        @{ Kind = 'Array'; Make = { New-IpcArray -Type i -Length 3 } }
        @{ Kind = 'Condition'; Make = { New-IpcCondition } }
    ) {
        $o = & $Make
        $name = $o.Name
        try {
            Test-Path "/dev/shm/$name.lock" | Should -BeTrue
            Remove-IpcObject -Name $name -Confirm:$false
            Test-Path "/dev/shm/$name" | Should -BeFalse
            Test-Path "/dev/shm/$name.lock" | Should -BeFalse
            Test-Path "$RegistryDir/$name.lock" | Should -BeFalse
        } finally { $o.Close() }
    }

    It 'leaves a lock the user gave a Condition' {
        $l = New-IpcLock -Recursive
        $c = New-IpcCondition -Lock $l
        try {
            Remove-IpcObject -Name $c.Name -Confirm:$false
            Test-Path "/dev/shm/$($l.Name)" | Should -BeTrue
        } finally { $c.Close(); $l.Close() }
    }
}
