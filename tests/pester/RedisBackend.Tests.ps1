# The Redis backend as the module loads it: importing IpcPs loads no StackExchange.Redis; the first Connect-IpcBackend
# loads it into a load context of its own, beside PowerShell's own assemblies; objects work through the backend.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Runs SCRIPT (param: module path, then ARGUMENTS) in a fresh pwsh with the server's password on its stdin (never on a
    # command line), without the environment variables UNSET; returns the JSON of its last output line.
    function Invoke-Probe([string] $Script, [object[]] $Arguments, [string[]] $Unset = @()) {
        $psi = New-PwshStartInfo (@('-NoProfile', '-NonInteractive', '-File', $Script, $env:IPCPS_MODULE_PATH) + $Arguments)
        foreach ($v in $Unset) { $psi.Environment.Remove($v) | Out-Null }
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        try {
            $p.StandardInput.WriteLine($script:RedisPassword); $p.StandardInput.Close()
            $err = $p.StandardError.ReadToEndAsync()
            $out = $p.StandardOutput.ReadToEnd()
            $p.WaitForExit(60000) | Should -BeTrue
            $p.ExitCode | Should -Be 0 -Because $err.Result
            $out.Trim().Split("`n")[-1] | ConvertFrom-Json
        }
        finally { if (-not $p.HasExited) { $p.Kill() }; $p.Dispose() }
    }

    $script:RedisServer = Start-TestRedis
    $script:HasRedis = [bool]$script:RedisServer
    if ($script:HasRedis) {
        $script:RedisDir = $script:RedisServer.Dir
        $script:RedisPort = $script:RedisServer.Port
        $script:RedisPassword = $script:RedisServer.Password
    }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Redis backend loading' {
    It 'loads StackExchange.Redis only on first use, in a load context of its own, and works beside PowerShell''s assemblies' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $script = Join-Path $script:RedisDir 'probe.ps1'
        @'
param($ModulePath, $Port)
$ErrorActionPreference = 'Stop'
function Loaded { [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'StackExchange.Redis' } }
Import-Module $ModulePath
$afterImport = @(Loaded).Count
$password = [Console]::In.ReadLine()   # the credential comes on stdin, never on the command line
$b = Connect-IpcBackend "redis://:$password@127.0.0.1:$Port/0" -ConnectTimeout 5
$q = $b.Create('Queue', "t_$([guid]::NewGuid().ToString('N').Substring(0, 12))", [IpcPs.IpcBackendOptions]::new())
$q.Put(@{ answer = 42 })
$got = $q.Get()
$isChannel = $q -is [IpcPs.IMessageChannel]
$lock = $b.Create('Lock', "t_$([guid]::NewGuid().ToString('N').Substring(0, 12))", [IpcPs.IpcBackendOptions]::new())
$acquired = $lock.Acquire($true, 5); $token = $lock.Token; $lock.Release()
$isLockable = $lock -is [IpcPs.ILockable]
$q.Unlink(); $lock.Unlink()
$se = @(Loaded)
[pscustomobject]@{
    AfterImport = $afterImport
    Contexts = @($se | ForEach-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
    DefaultHasIt = @([Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -eq 'StackExchange.Redis' }).Count
    Got = $got.answer; IsChannel = $isChannel; IsLockable = $isLockable; Acquired = $acquired; Token = $token
    Address = $b.Address
} | ConvertTo-Json -Compress
'@ | Set-Content $script
        $r = Invoke-Probe $script @($script:RedisPort)
        $r.AfterImport | Should -Be 0                      # importing IpcPs loads no StackExchange.Redis
        $r.Contexts | Should -Be @('IpcPs.Redis')          # loaded once, in the backend's own context
        $r.DefaultHasIt | Should -Be 0
        $r.Got | Should -Be 42
        $r.IsChannel | Should -BeTrue
        $r.IsLockable | Should -BeTrue
        $r.Acquired | Should -BeTrue
        $r.Token | Should -BeGreaterThan 0
        $r.Address | Should -Be "redis://127.0.0.1:$($script:RedisPort)/0"   # no password
    }

    It 'reports a wrong password as BackendAuthenticationFailed without showing it' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $e = $null
        # The server refuses the password at once; the timeout only bounds a test on a machine too loaded to connect (at a
        # load of ~20 a fresh process's first connect took 2.9 s and a 2 s timeout read it as BackendUnavailable).
        try { Connect-IpcBackend "redis://:not-the-password@127.0.0.1:$($script:RedisPort)" -ConnectTimeout 20 -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'BackendAuthenticationFailed*'
        "$($e.TargetObject) $($e.Exception.Message)" | Should -Not -Match 'not-the-password'
    }
}

# A handle descriptor is untrusted input (it may come in a message from any process that can write the queue): it
# re-attaches only to a server this process already uses, so a message can never make a process connect anywhere.
Describe 'Redis handle descriptors in messages' {
    It 'stay inert records when they name a server this process does not use, and attach once it does' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        # The trap: a port that would see any connection attempt (the kernel completes it into the backlog).
        $trap = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $trap.Start()
        $q = New-IpcQueue
        $b = Connect-IpcBackend "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0"
        $rq = New-IpcQueue -Backend $b -Name "t_$([guid]::NewGuid().ToString('N').Substring(0, 12))"
        try {
            $rq.Put('hello')
            function Descriptor($Name, $Address) {
                # What a sender writes for a Redis handle (BackendHandles.Describe: its CLIXML; around a plain object, the
                # codec writes it as CLIXML too, the form in which descriptors re-attach); a hostile one writes the same.
                $d = [psobject]::new([object]::new())
                $d.PSObject.TypeNames.Clear(); $d.PSObject.TypeNames.Add('IpcPs.IIpcBackendObject')
                foreach ($p in @{ Name = $Name; Kind = 'Queue'; Address = $Address }.GetEnumerator()) { $d.PSObject.Properties.Add([psnoteproperty]::new($p.Key, $p.Value)) }
                $d
            }
            $q.Put(@((Descriptor 'victim' "redis://127.0.0.1:$($trap.LocalEndpoint.Port)/0"), (Descriptor $rq.Name $b.Address)))
            $q.Put((Descriptor $rq.Name $b.Address))
            $script = Join-Path $script:RedisDir 'descriptors.ps1'
            @'
param($ModulePath, $QueueName, $Port)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$q = Get-IpcObject -Name $QueueName -Open
$sw = [Diagnostics.Stopwatch]::StartNew()
$first = $q.Get(10)
$ms = $sw.ElapsedMilliseconds
$password = [Console]::In.ReadLine()
$null = Connect-IpcBackend "redis://:$password@127.0.0.1:$Port/0" -ConnectTimeout 5
$second = $q.Get(10)
[pscustomobject]@{
    Ms = $ms
    TrapLive = $first[0] -is [IpcPs.IIpcBackendObject]; TrapAddress = "$($first[0].Address)"; TrapName = "$($first[0].Name)"
    RealLiveBefore = $first[1] -is [IpcPs.IIpcBackendObject]
    RealLiveAfter = $second -is [IpcPs.IIpcBackendObject]; Got = $(if ($second -is [IpcPs.IIpcBackendObject]) { $second.Get(5) })
} | ConvertTo-Json -Compress
'@ | Set-Content $script
            # Another process: none of this session's trust (the variable IpcPs keeps for its own children).
            $r = Invoke-Probe $script @($q.Name, $script:RedisPort) -Unset 'IPCPS_TRUSTED_BACKENDS', 'IPCPS_BACKEND'
            $trap.Pending() | Should -BeFalse -Because 'a descriptor alone must never make the receiver connect'
            $r.TrapLive | Should -BeFalse
            $r.TrapName | Should -Be 'victim'                      # delivered as the inert record it is: nothing lost
            $r.TrapAddress | Should -Be "redis://127.0.0.1:$($trap.LocalEndpoint.Port)/0"
            $r.Ms | Should -BeLessThan 4000                        # no connect timeout was waited out (it is 5 s)
            $r.RealLiveBefore | Should -BeFalse                    # the real server too, until this process uses it
            $r.RealLiveAfter | Should -BeTrue
            $r.Got | Should -Be 'hello'
        }
        finally {
            $trap.Stop()
            $rq.Unlink(); $rq.Dispose()
            $q.Unlink(); $q.Dispose()
        }
    }
}

Describe 'Redis handles in the console' {
    It 'show one row each, with the server and the state read from it, as local handles do' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $b = Connect-IpcBackend "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0"
        $n = "t_$([guid]::NewGuid().ToString('N').Substring(0, 10))"
        $made = @(
            New-IpcQueue -Backend $b -Name "${n}q" -MaxSize 5
            New-IpcLock -Backend $b -Name "${n}l"
            New-IpcSemaphore -Backend $b -Name "${n}s" -InitialCount 3
            New-IpcEvent -Backend $b -Name "${n}e"
            New-IpcBarrier -Backend $b -Name "${n}b" -Parties 2
            New-IpcValue -Backend $b -Name "${n}v" -Type i -Value 7
        )
        try {
            $made[0].Put('x'); $made[0].Put('y')
            $null = $made[1].Acquire()
            $null = $made[2].Acquire()
            $made[3].Set()
            $text = $made | Format-Table | Out-String -Width 300
            $rows = @{}
            foreach ($line in $text -split "`n") { if ($line -match "^($n\w)\s+(\w+)\s+(redis://\S+)\s+(.+?)\s*$") { $rows[$Matches[1]] = $Matches } }
            $rows.Count | Should -Be 6 -Because $text
            foreach ($r in $rows.Values) { $r[3] | Should -Be $b.Address }   # the address, never a password
            $text | Should -Not -Match ([regex]::Escape($script:RedisPassword))
            $rows["${n}q"][4] | Should -Be '2 messages, Fifo (max 5)'
            $rows["${n}l"][4] | Should -BeLike 'held here, token *'
            $rows["${n}s"][4] | Should -Be 'value 2 of 3'
            $rows["${n}e"][4] | Should -Be 'set'
            $rows["${n}b"][4] | Should -Be '0 of 2 waiting'
            $rows["${n}v"][4] | Should -Be '7 (int)'
            # Listed by Get-IpcObject: the same view (a fresh handle: the lock is held, not here).
            $listed = Get-IpcObject -Backend $b | Where-Object Name -like "$n*" | Format-Table | Out-String -Width 300
            $listed | Should -Match "${n}l\s+Lock\s+\S+\s+held\s*(\r?\n|$)"
        }
        finally {
            $made[1].Release(); $made[2].Release()
            foreach ($o in $made) { $o.Unlink(); $o.Dispose() }
        }
    }

    It 'completes -Name with the backend''s objects of the kinds the cmdlet acts on, from -Backend or $env:IPCPS_BACKEND' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $b = Connect-IpcBackend "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0"
        $n = "t_$([guid]::NewGuid().ToString('N').Substring(0, 10))"
        $made = @(
            New-IpcEvent -Backend $b -Name "${n}.e1"
            New-IpcEvent -Backend $b -Name "${n}e2"
            New-IpcQueue -Backend $b -Name "${n}q"
        )
        $local = New-IpcEvent -Name "${n}local"
        $saved = $env:IPCPS_BACKEND
        function Complete($line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches }
        try {
            $m = Complete "Set-IpcEvent -Backend '$($b.Address)' -Name $n"
            $m.ListItemText | Should -Be @("${n}.e1", "${n}e2")         # events only, not the queue, not the local event
            $m[0].CompletionText | Should -Be "${n}.e1"
            $m[0].ToolTip | Should -Be "Event ${n}.e1 at $($b.Address)"
            (Complete "Receive-IpcMessage -Backend '$($b.Address)' -Name $n").ListItemText | Should -Be @("${n}q")
            (Complete "Set-IpcEvent -Name $n").ListItemText | Should -Be @("${n}local")   # no backend: local objects
            $env:IPCPS_BACKEND = $b.Address
            (Complete "Set-IpcEvent -Name $n").ListItemText | Should -Be @("${n}.e1", "${n}e2")
            (Complete "Set-IpcEvent -Backend local -Name $n").ListItemText | Should -Be @("${n}local")
            # A server that does not answer completes nothing, within about a second.
            $trap = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $trap.Start()
            try {
                $sw = [Diagnostics.Stopwatch]::StartNew()
                Complete "Set-IpcEvent -Backend 'redis://127.0.0.1:$($trap.LocalEndpoint.Port)/0' -Name $n" | Should -BeNullOrEmpty
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 4
            } finally { $trap.Stop() }
        }
        finally {
            $env:IPCPS_BACKEND = $saved
            foreach ($o in $made) { $o.Unlink(); $o.Dispose() }
            $local.Unlink(); $local.Dispose()
        }
    }
}

# A Redis manager's dict, list and namespace are shared by name: handed to a child or put in a message, they arrive
# as the same store (written there, seen here), never as a copy of their contents.
Describe 'Redis handles and stores in a message that cannot be delivered' {
    It 'leave the server''s clients as they were, and the same ones delivered in a good message work' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $b = Connect-IpcBackend "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0"
        $m = Connect-IpcManager -Address $b.Address
        $n = "t_$([guid]::NewGuid().ToString('N').Substring(0, 10))"
        $d = $m.Dict("${n}d"); $l = $m.List("${n}l")
        $rq = New-IpcQueue -Backend $b -Name "${n}q"
        $q = New-IpcQueue (New-TestName)
        $gone = New-IpcEvent (New-TestName)
        # The server's clients, by id: a store or a handle holds none of its own (the process's one connection carries them).
        function Get-RedisClient { @(redis-cli -p $script:RedisPort --no-auth-warning -a $script:RedisPassword CLIENT LIST | Where-Object { $_ -notmatch 'cmd=client' } | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object) }
        try {
            $d['a'] = 1; $rq.Put('hello')
            $q.Put(@($d, $l, $rq, $gone))
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $clients = Get-RedisClient
            $clients.Count | Should -BeGreaterThan 0
            $e = Get-ThrownException { $q.Get() }
            $e | Should -BeOfType ([IpcPs.MessageFormatException])
            $e.InnerException | Should -BeOfType ([IpcPs.IpcObjectNotFoundException])
            Get-RedisClient | Should -Be $clients -Because 'the decode made no connection and closed none'
            $d['a'] | Should -Be 1                 # the process's connection still serves
            $q.Put(@($d, $l, $rq))
            $r = $q.Get()
            $r[0] | Should -BeOfType ([IpcPs.IIpcBackendStore])
            $r[0]['b'] = 2; $d['b'] | Should -Be 2
            $null = $r[1].Add('x'); $l.ToArray() | Should -Be @('x')
            $r[2] | Should -BeOfType ([IpcPs.IIpcBackendObject])
            $r[2].Get(5) | Should -Be 'hello'
            $r[2].Dispose()
            Get-RedisClient | Should -Be $clients
        }
        finally {
            $q.Close(); $gone.Close()
            $rq.Unlink(); $rq.Dispose()
            $d.Unlink(); $l.Unlink()
        }
    }
}

Describe 'Redis manager stores across processes' {
    It 'reach a Start-IpcProcess child and a message as the shared store, and stay inert for a server not in use' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $b = Connect-IpcBackend "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0"
        $m = Connect-IpcManager -Address $b.Address
        $n = "t_$([guid]::NewGuid().ToString('N').Substring(0, 10))"
        $d = $m.Dict("${n}d"); $l = $m.List("${n}l"); $ns = $m.Namespace("${n}n")
        $q = New-IpcQueue
        $trap = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $trap.Start()
        try {
            $d['a'] = 1
            $kinds = Start-IpcProcess -ArgumentList $d, $l, $ns {
                param($d, $l, $ns)
                $d['b'] = 2; $null = $l.Add('x'); $ns.x = 5
                $d.GetType().Name; $l.GetType().Name; $ns.GetType().Name
            } | Wait-Job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
            $kinds | Should -Be @('RedisDict', 'RedisList', 'RedisNamespace')
            $d['b'] | Should -Be 2                 # written by the child, seen here: the same dict
            $l.ToArray() | Should -Be @('x')
            $ns.x | Should -Be 5
            # Through a message: the same store again.
            $q.Put(@($d, 'tail'))
            $got = $q.Get()
            $got[0] | Should -BeOfType ([IpcPs.IIpcBackendStore])
            $got[0]['c'] = 3
            $d['c'] | Should -Be 3
            # A store descriptor naming a server this process does not use stays an inert record: nothing connects.
            $fake = [psobject]::new([object]::new())
            $fake.PSObject.TypeNames.Clear(); $fake.PSObject.TypeNames.Add('IpcPs.IIpcBackendStore')
            foreach ($p in @{ Name = 'victim'; StoreKind = 'Dict'; Address = "redis://127.0.0.1:$($trap.LocalEndpoint.Port)/0" }.GetEnumerator()) { $fake.PSObject.Properties.Add([psnoteproperty]::new($p.Key, $p.Value)) }
            $q.Put(@($fake))
            $inert = $q.Get(5)
            $inert[0] | Should -Not -BeOfType ([IpcPs.IIpcBackendStore])
            $inert[0].Name | Should -Be 'victim'
            $trap.Pending() | Should -BeFalse
        }
        finally {
            $trap.Stop()
            $q.Unlink(); $q.Dispose()
            $d.Unlink(); $l.Unlink(); Remove-IpcObject -Backend $b -Name "${n}n" -ErrorAction SilentlyContinue
        }
    }
}

# What a local queue or manager list does, a Redis one does: found by a review that ran the same scripts on both.
Describe 'Redis queues and lists as the local ones' {
    BeforeAll {
        if ($script:HasRedis) { $script:Uri = "redis://:$($script:RedisPassword)@127.0.0.1:$($script:RedisPort)/0" }
    }

    It 'Insert into a list of 10,000 items keeps every item (at 0, inside and from the end)' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $m = Connect-IpcManager -Address $script:Uri
        $l = $m.List((New-TestName 'list'))
        try {
            $l.Extend([object[]](1..10000))
            $l.Insert(0, 'first')
            $l.Insert(5, 'fifth')
            $l.Insert(-1, 'before-last')
            $l.Count | Should -Be 10003
            $all = $l.ToArray()
            $all[0] | Should -Be 'first'
            $all[5] | Should -Be 'fifth'
            $all[-2] | Should -Be 'before-last'
            $all[-1] | Should -Be 10000
            ($all | Where-Object { $_ -is [int] } | Measure-Object -Sum).Sum | Should -Be (10000 * 10001 / 2)
        }
        finally { $l.Unlink() }
    }

    It '$q.Count is the number of messages ready, as QSize()' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $q = New-IpcQueue -Name (New-TestName 'q') -Backend $script:Uri
        try {
            $q.Count | Should -Be 0
            1..3 | Send-IpcMessage $q
            $q.Count | Should -Be 3
            $q.Count | Should -Be $q.QSize()
            $null = Receive-IpcMessage $q
            $q.Count | Should -Be 2
            # Close(), as on a local handle: this handle is done, the queue stays.
            $q.Close()
            { $q.QSize() } | Should -Throw
            $again = Get-IpcObject -Name $q.Name -Backend $script:Uri
            $again.Count | Should -Be 2
            $again.Close()
        }
        finally { $q.Unlink(); $q.Close() }
    }

    It 'PutMany is all or nothing: a batch with no room for all of it puts none, one larger than MaxSize is refused at once' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $q = New-IpcQueue -Name (New-TestName 'q') -Backend $script:Uri -MaxSize 3
        try {
            $q.Put('kept')
            # The local queue's signatures: (items), (items, block, seconds).
            $e = Get-ThrownException { $q.PutMany(('a', 'b', 'c'), $true, 0.3) }
            $e | Should -BeOfType ([IpcPs.QueueFullException])
            $q.QSize() | Should -Be 1 -Because 'no part of a batch that did not fit is put'
            $e = Get-ThrownException { $q.PutMany(1..5) }
            $e | Should -BeOfType ([IpcPs.MessageTooLargeException]) -Because 'a batch larger than MaxSize can never fit: refused at once'
            $q.QSize() | Should -Be 1
            $q.PutMany(('a', 'b'))
            $q.GetMany(10, 0) | Should -Be @('kept', 'a', 'b')
        }
        finally { $q.Unlink(); $q.Close() }
    }

    It 'PutManyWithPriority puts a batch at one priority, in order among themselves' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $q = New-IpcQueue -Name (New-TestName 'q') -Backend $script:Uri -Order Priority
        try {
            $q.PutWithPriority('late', 9)
            $q.PutManyWithPriority(('x', 'y', 'z'), 5)
            $q.PutMany(@{ k = 1 })   # a hashtable given whole is one message, at priority 0
            $got = $q.GetMany(10, 0)
            $got.Count | Should -Be 5
            $got[0].k | Should -Be 1
            $got[1..4] | Should -Be @('x', 'y', 'z', 'late')
        }
        finally { $q.Unlink(); $q.Close() }
    }
}
