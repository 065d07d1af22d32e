# A read that fails, made through a property, an indexer or a method (about_IpcPs, "Errors"; docs/design.md, "A read
# that fails, read through a property"). PowerShell turns a property getter's exception into $null whatever the strict
# mode, and an indexer's unless Set-StrictMode -Version 3.0: these tests pin that down for our objects, so that the
# docs stay true, and show that every such read has a method that throws the typed error instead.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # The exception a member call threw, unwrapped from PowerShell's MethodInvocationException; $null when none.
    function Get-ReadFailure([scriptblock] $Script) {
        try { $null = & $Script; $null }
        catch {
            $e = $_.Exception
            if ($e -is [System.Management.Automation.MethodInvocationException]) { $e.InnerException } else { $e }
        }
    }

    # What SCRIPT reads: a hashtable, since a $null from a pipeline would be an empty array.
    function Get-Read([scriptblock] $Script) { @{ Value = & $Script } }
}

Describe 'a closed handle read through its properties, its indexers and its methods' -Tag 'Windows' {
    It 'a <kind>''s <property> reads $null (in strict mode too), and <method> throws IpcObjectClosed' -ForEach @(
        @{ Kind = 'Value'; Property = 'Value'; Method = 'Get()'; Make = { New-IpcValue -Type i -Value 5 }; Read = { param($o) $o.Value }; Call = { param($o) $o.Get() }; Open = 5; Called = 5 }
        @{ Kind = 'Queue'; Property = 'Count'; Method = 'QSize()'; Make = { $q = New-IpcQueue; $q.Put(1); $q.Put(2); $q }; Read = { param($o) $o.Count }; Call = { param($o) $o.QSize() }; Open = 2; Called = 2 }
        @{ Kind = 'Semaphore'; Property = 'CurrentValue'; Method = 'GetValue()'; Make = { New-IpcSemaphore -InitialCount 2 }; Read = { param($o) $o.CurrentValue }; Call = { param($o) $o.GetValue() }; Open = 2; Called = 2 }
        @{ Kind = 'Lock'; Property = 'IsLocked'; Method = 'Locked()'; Make = { $k = New-IpcLock; $null = $k.Acquire(); $k }; Read = { param($o) $o.IsLocked }; Call = { param($o) $o.Locked() }; Open = $true; Called = $true }
        @{ Kind = 'Event'; Property = 'State'; Method = 'IsSet()'; Make = { New-IpcEvent -Set }; Read = { param($o) $o.State }; Call = { param($o) $o.IsSet() }; Open = 'Set'; Called = $true }
    ) {
        $o = & $Make
        try {
            (Get-Read { & $Read $o }).Value | Should -Be $Open -Because 'the property reads the object while it is open'
            & $Call $o | Should -Be $Called -Because "$Method reads what $Property reads"
            $o.Close()
            (Get-Read { & $Read $o }).Value | Should -BeNullOrEmpty
            (Get-Read { Set-StrictMode -Version Latest; & $Read $o }).Value | Should -BeNullOrEmpty -Because 'strict mode does not change what PowerShell does with a getter''s exception'
            $e = Get-ReadFailure { & $Call $o }
            $e | Should -Not -BeNullOrEmpty
            $e | Should -BeOfType [System.ObjectDisposedException]
            $e.Message | Should -BeLike "*'$($o.Name)' is closed*"
        }
        finally { $o.Close(); Remove-IpcObject -Name $o.Name -ErrorAction SilentlyContinue }
    }

    It 'a <kind>''s indexer reads $null outside strict mode and throws in strict mode 3.0; <method> throws' -ForEach @(
        @{ Kind = 'Array'; Method = 'Get(0)'; Make = { New-IpcArray -Type i -Value 7, 8 }; Call = { param($o) $o.Get(0) } }
        @{ Kind = 'ShareableList'; Method = 'Get(0)'; Make = { New-ShareableList -InputObject @(7, 'x') }; Call = { param($o) $o.Get(0) } }
        @{ Kind = 'SharedMemory'; Method = 'Read(0, 1)'; Make = { $s = New-SharedMemory -Size 16; $s[0] = 7; $s }; Call = { param($o) $o.Read(0, 1)[0] } }
    ) {
        $o = & $Make
        try {
            $o[0] | Should -Be 7
            & $Call $o | Should -Be 7
            $o.Close()
            (Get-Read { $o[0] }).Value | Should -BeNullOrEmpty
            (Get-Read { Set-StrictMode -Version 2.0; $o[0] }).Value | Should -BeNullOrEmpty -Because 'strict mode 2.0 is not enough for an indexer'
            $strict = Get-ReadFailure { Set-StrictMode -Version 3.0; $o[0] }
            $strict | Should -BeOfType [System.ObjectDisposedException]
            Get-ReadFailure { & $Call $o } | Should -BeOfType [System.ObjectDisposedException]
        }
        finally { $o.Close(); Remove-IpcObject -Name $o.Name -ErrorAction SilentlyContinue }
    }
}

Describe 'a manager''s dict and list read through properties, indexers and methods' -Tag 'Windows' {
    BeforeEach {
        $script:m = Start-IpcManager
        $script:d = $script:m.Dict(@{ a = 1; b = 'two' })
        $script:l = $script:m.List(@(10, 20, 30))
    }
    AfterEach { if ($script:m) { Stop-IpcManager $script:m -ErrorAction SilentlyContinue } }

    It 'the methods read what the properties and indexers read while the manager runs' {
        $d.Get('a') | Should -Be 1
        $d.Get('absent') | Should -BeNullOrEmpty
        $d.Get('absent', 'default') | Should -Be 'default'
        $d.Get('b', 'default') | Should -Be 'two'
        $default = [Collections.Generic.List[int]]::new()
        [object]::ReferenceEquals($d.Get('absent', $default), $default) | Should -BeTrue -Because 'the default is the caller''s own object, never sent to the manager'
        $null -eq $d.Get('absent', $null) | Should -BeTrue
        $d.GetCount() | Should -Be 2
        $d.GetCount() | Should -Be $d.Count
        $l.Get(0) | Should -Be 10
        $l.Get(-1) | Should -Be 30
        $l.GetCount() | Should -Be 3
        $l.GetCount() | Should -Be $l.Count
        Get-ReadFailure { $l.Get(3) } | Should -Not -BeNullOrEmpty -Because 'an index past the end is an error from the method'
    }

    It 'once the manager has stopped, $d[k], $d.Count and $l.Count read $null, and the methods throw ConnectionClosed' {
        Stop-IpcManager $m
        (Get-Read { $d['a'] }).Value | Should -BeNullOrEmpty
        (Get-Read { $d.Count }).Value | Should -BeNullOrEmpty
        (Get-Read { $l.Count }).Value | Should -BeNullOrEmpty
        (Get-Read { $l[0] }).Value | Should -BeNullOrEmpty
        Get-ReadFailure { Set-StrictMode -Version 3.0; $d['a'] } | Should -BeOfType [IpcPs.ConnectionClosedException]
        foreach ($call in { $d.Get('a') }, { $d.Get('a', 0) }, { $d.GetCount() }, { $d.ToHashtable() }, { $l.Get(0) }, { $l.GetCount() }, { $l.ToArray() }) {
            Get-ReadFailure $call | Should -BeOfType [IpcPs.ConnectionClosedException] -Because "$call must throw"
        }
    }

    # Before: Get(key, otherwise) asked ContainsKey, then read the key in a second call, so a key removed between the
    # two read as $null instead of OTHERWISE.
    It 'Get(key, otherwise) is one call: a key removed and put back by another process reads as its value or as otherwise, never $null' {
        $go = New-IpcEvent; $stop = New-IpcEvent
        try {
            $job = Start-IpcProcess -ArgumentList $d, $go, $stop {
                param($d, $go, $stop)
                $d['k'] = 1; $go.Set()
                while (-not $stop.IsSet()) { $null = $d.Remove('k'); $d['k'] = 1 }
            }
            Wait-IpcEvent $go -Timeout 120 -ErrorAction Stop   # the child toggles the key from now on
            $seen = @{}
            for ($i = 0; $i -lt 1500; $i++) {
                $r = $d.Get('k', 'otherwise')
                $key = if ($null -eq $r) { '$null' } else { "$r" }
                $seen[$key] = 1 + [int]$seen[$key]
            }
            $stop.Set()
            $null = $job | Wait-Job -Timeout 120
            $job.State | Should -Be 'Completed'
            $seen.Keys | Should -Not -Contain '$null'
            @($seen.Keys | Sort-Object) | Should -Be @('1', 'otherwise') -Because 'both the key and its absence were seen, so the race was run'
        }
        finally { $stop.Set(); $job | Remove-Job -Force -ErrorAction SilentlyContinue; $go.Close(); $stop.Close() }
    }
}

Describe 'Redis objects read through properties and methods with the server gone' {
    BeforeAll {
        $script:RedisServer = Start-TestRedis
    }
    AfterAll { Stop-TestRedis $script:RedisServer }

    It 'the methods read what the properties read, and throw once the server is gone where the properties read $null' {
        if (-not $script:RedisServer) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $b = Connect-IpcBackend $script:RedisServer.Uri
        $n = New-TestName 'pr'
        $v = New-IpcValue -Backend $b -Name "${n}v" -Type i -Value 7
        $q = New-IpcQueue -Backend $b -Name "${n}q" -Joinable
        $s = New-IpcSemaphore -Backend $b -Name "${n}s" -InitialCount 3
        $lock = New-IpcLock -Backend $b -Name "${n}l"
        $m = Connect-IpcManager -Address $b.Address
        $d = $m.Dict("${n}d"); $l = $m.List("${n}li")
        $d['a'] = 1; $l.Append(10); $q.Put('x'); $q.Put('y'); $null = $q.Get(); $null = $s.Acquire(); $null = $lock.Acquire()

        $v.Get() | Should -Be $v.Value
        $v.Get() | Should -Be 7
        $q.QSize() | Should -Be 1
        $counts = $q.GetCounts()
        $counts.Ready, $counts.InFlight, $counts.Unfinished, $counts.DeadLetterCount | Should -Be @(1, 1, 2, 0)
        $counts.InFlight | Should -Be $q.InFlight
        $s.GetValue() | Should -Be 2
        $s.GetValue() | Should -Be $s.CurrentValue
        $lock.Locked() | Should -BeTrue
        $d.Get('a') | Should -Be 1
        $d.Get('absent', 'default') | Should -Be 'default'
        $d.GetCount() | Should -Be 1
        $l.Get(0) | Should -Be 10
        $l.GetCount() | Should -Be 1

        Stop-TestRedis $script:RedisServer; $script:RedisServer = $null
        # With the server gone each read waits for it up to the backend's operation timeout (5 s): the reads run side by
        # side, each in a runspace of its own (the objects are passed by reference, the code as text).
        $objects = @{ v = $v; q = $q; s = $s; lock = $lock; d = $d; l = $l }
        $reads = '$o.v.Value', '$o.q.InFlight', '$o.s.CurrentValue', '$o.lock.IsLocked', '$o.d.Count', '$o.l.Count', '$o.d[''a'']'
        $calls = '$o.v.Get()', '$o.q.GetCounts()', '$o.s.GetValue()', '$o.lock.Locked()', '$o.d.Get(''a'')', '$o.d.GetCount()', '$o.l.Get(0)', '$o.l.GetCount()'
        $results = @($reads + $calls) | ForEach-Object -ThrottleLimit 16 -Parallel {
            $o = $using:objects
            $code = $_
            try { $value = & ([scriptblock]::Create($code)); [pscustomobject]@{ Code = $code; Value = $value; Failure = $null } }
            catch {
                $e = $_.Exception
                if ($e -is [System.Management.Automation.MethodInvocationException]) { $e = $e.InnerException }
                [pscustomobject]@{ Code = $code; Value = $null; Failure = $e }
            }
        }
        $results.Count | Should -Be ($reads.Count + $calls.Count)
        foreach ($r in $results | Where-Object Code -in $reads) {
            $r.Failure | Should -BeNullOrEmpty -Because "$($r.Code) does not throw (PowerShell drops a getter's exception)"
            $r.Value | Should -BeNullOrEmpty -Because "$($r.Code) reads `$null when the server is gone"
        }
        foreach ($r in $results | Where-Object Code -in $calls) {
            $r.Failure | Should -Not -BeNullOrEmpty -Because "$($r.Code) must throw"
            $r.Failure | Should -BeOfType [IpcPs.IpcBackendException] -Because "$($r.Code) throws the backend's error"
        }
    }
}
