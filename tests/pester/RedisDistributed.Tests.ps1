# The cmdlets on Redis across "hosts" (issue 14): a redis-server in a network namespace of its own, producers and
# consumers — real pwsh processes — in two other namespaces, joined by veth pairs (the tests run as root); the test
# process reaches the server over a veth of its own. Skipped, with the reason, only where namespaces cannot be made.
# Handles also pass to Start-IpcProcess children, which re-attach them with the password their parent sent on stdin.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:Started = [Collections.Generic.List[Diagnostics.Process]]::new()
    $script:Password = [guid]::NewGuid().ToString('N')
    $script:NetnsSkip = $null
    $script:Namespaces = @()
    $script:RootLink = $null
    $script:RedisProcess = $null
    $script:WorkDir = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-redisnet')
    New-Item -ItemType Directory $script:WorkDir | Out-Null

    # One script plays every role; its request (with the password) comes as one JSON line on stdin, never on the command line.
    $script:RoleScript = Join-Path $script:WorkDir 'role.ps1'
    @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$req = [Console]::In.ReadLine() | ConvertFrom-Json
$null = Connect-IpcBackend "redis://:$($req.Password)@$($req.Host):$($req.Port)/0" -ConnectTimeout 10
$uri = "redis://$($req.Host):$($req.Port)/0"   # no password: this process remembers it for the address
function Say([string] $line) { [Console]::Out.WriteLine($line); [Console]::Out.Flush() }
function Now { [DateTime]::UtcNow.Ticks }
switch ($req.Role) {
    'producer' { $req.From..$req.To | Send-IpcMessage -Name $req.Name -Backend $uri; Say 'DONE' }
    'consumer' {
        $q = Get-IpcObject -Name $req.Name -Backend $uri
        $got = [Collections.Generic.List[int]]::new()
        while ($true) { $m = $q.Get($true, 120); if ($m -is [string]) { break }; $got.Add($m) }
        Say (ConvertTo-Json -Compress -InputObject @($got))
    }
    'victim' {
        $q = Get-IpcObject -Name $req.Name -Backend $uri
        $d = $q.GetDelivery($true, 60)
        Say "GOT $($d.Message) $($d.DeliveryCount) $(Now)"
        $null = [Console]::In.ReadLine()   # never answered: the test kills this process here, before TaskDone
    }
    'jconsumer' {
        $q = Get-IpcObject -Name $req.Name -Backend $uri
        $records = [Collections.Generic.List[string]]::new()
        while ($true) {
            $d = $q.GetDelivery($true, 120)
            if ($d.Message -is [string]) { $q.TaskDone($d); break }
            $records.Add("$($d.Message):$($d.DeliveryCount)")
            $q.TaskDone($d)
        }
        Say (ConvertTo-Json -Compress -InputObject @($records))
    }
    'waiter' { Say 'READY'; Wait-IpcEvent -Name $req.Name -Backend $uri -Timeout 60; Say "WOKE $(Now)" }
    'setter' { $null = [Console]::In.ReadLine(); $t = Now; Set-IpcEvent -Name $req.Name -Backend $uri; Say "SET $t" }
    'barrier' { $a = Now; $i = Wait-IpcBarrier -Name $req.Name -Backend $uri -Timeout 60 -PassThru; Say "BAR $a $(Now) $i" }
    'holder' {
        $l = Get-IpcObject -Name $req.Name -Backend $uri
        Enter-IpcLock $l
        Say "HELD $($l.Token)"
        $null = [Console]::In.ReadLine()
        try { Exit-IpcLock $l -ErrorAction Stop; Say 'RELEASED' } catch { Say "ERR $($_.FullyQualifiedErrorId)" }
        Say "LOST $($l.LeaseLost.IsCancellationRequested)"
    }
    'manager' {
        $m = Connect-IpcManager -Address $uri
        $d = $m.Dict($req.Name)
        $d["p$($req.From)"] = $PID
        $list = $m.List("$($req.Name)_list")
        foreach ($i in 1..25) { $null = $list.Add("$($req.From)-$i") }
        Say 'DONE'
    }
    'durable' {
        # Puts 1..To, one Send-IpcMessage each; says what the server acknowledged (A), what may or may not be stored
        # (M: sent, no answer), and every typed error with how long the call took (E id i ms).
        $q = Get-IpcObject -Name $req.Name -Backend $uri
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        $i = 1
        while ($i -le $req.To) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            try { Send-IpcMessage $q $i -ErrorAction Stop; Say "A $i"; $i++ }
            catch {
                $id = ($_.FullyQualifiedErrorId -split ',')[0]
                Say "E $id $i $($sw.ElapsedMilliseconds)"
                if ($id -eq 'BackendOutcomeUnknown') { Say "M $i"; $i++ }
                elseif ($id -ne 'BackendUnavailable') { throw }
                if ([DateTime]::UtcNow -gt $deadline) { throw 'The server did not come back in time.' }
                Start-Sleep -Milliseconds 100   # back off while the server is down (not synchronisation)
            }
        }
        Say 'END'
    }
}
'@ | Set-Content $script:RoleScript

    # A pwsh playing ROLE in namespace NS (none: this one), against SERVER (default: the namespaced redis).
    function Start-Role([string] $Ns, [hashtable] $Request, $Server = $null) {
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $script:RoleScript, $env:IPCPS_MODULE_PATH)
        if ($Ns) {
            $psi = [Diagnostics.ProcessStartInfo]::new('ip')
            foreach ($a in @('netns', 'exec', $Ns) + (Get-PwshCommand) + $arguments) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
        } else { $psi = New-PwshStartInfo $arguments }
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $script:Started.Add($p)
        $req = $Request.Clone()
        $req.Password = $script:Password
        $req.Host = if ($Server) { $Server.Host } else { $script:RedisHost }
        $req.Port = if ($Server) { $Server.Port } else { $script:RedisPort }
        $p.StandardInput.WriteLine(($req | ConvertTo-Json -Compress)); $p.StandardInput.Flush()
        [pscustomobject]@{ Process = $p; Err = $p.StandardError.ReadToEndAsync(); Role = $Request.Role }
    }

    function Read-RoleLine($Role, [double] $TimeoutSeconds = 60) {
        $t = $Role.Process.StandardOutput.ReadLineAsync()
        if (-not $t.Wait([TimeSpan]::FromSeconds($TimeoutSeconds))) { throw "No line from the $($Role.Role) within $TimeoutSeconds s." }
        if ($null -eq $t.Result) { $Role.Process.WaitForExit(5000) | Out-Null; throw "The $($Role.Role) ended: $($Role.Err.Result)" }
        $t.Result
    }

    # The rest of a role's output, once it has exited (with code 0).
    function Wait-Role($Role, [double] $TimeoutSeconds = 120) {
        $out = $Role.Process.StandardOutput.ReadToEndAsync()
        if (-not $Role.Process.WaitForExit([int]($TimeoutSeconds * 1000))) { throw "The $($Role.Role) did not end within $TimeoutSeconds s." }
        $Role.Process.WaitForExit()
        if ($Role.Process.ExitCode -ne 0) { throw "The $($Role.Role) failed ($($Role.Process.ExitCode)): $($Role.Err.Result)" }
        @($out.Result -split "`n" | ForEach-Object Trim | Where-Object { $_ })
    }

    # The network: namespace R runs redis-server on 10.O.0.1 (its loopback), A and B reach it through veths routed by R,
    # and so does this process (root namespace) through a fourth veth.
    $suffix = [guid]::NewGuid().ToString('N').Substring(0, 4)
    $o = Get-Random -Minimum 200 -Maximum 250
    $script:NsR = "ipcpsR$suffix"; $script:NsA = "ipcpsA$suffix"; $script:NsB = "ipcpsB$suffix"
    $script:RedisHost = "10.$o.0.1"; $script:RedisPort = 6379
    $script:SilentHost = "10.$o.0.99"   # routed into R, which has no such address and does not forward: packets vanish
    function Invoke-Ip([string[]] $IpArgs) {
        $out = & ip @IpArgs 2>&1
        if ($LASTEXITCODE) { throw "ip $($IpArgs -join ' ') failed: $out" }
    }
    try {
        if (-not $IsLinux) { throw 'network namespaces are Linux only' }
        if (-not (Get-Command ip -ErrorAction SilentlyContinue)) { throw 'the ip command (iproute2) is not installed' }
        if (-not (Get-Command redis-server -ErrorAction SilentlyContinue)) { throw 'redis-server is not installed (.ci/run installs it)' }
        if ((& id -u) -ne '0') { throw 'making network namespaces needs root' }
        foreach ($ns in $script:NsR, $script:NsA, $script:NsB) { Invoke-Ip @('netns', 'add', $ns); $script:Namespaces += $ns; Invoke-Ip @('-n', $ns, 'link', 'set', 'lo', 'up') }
        Invoke-Ip @('-n', $script:NsR, 'addr', 'add', "$($script:RedisHost)/32", 'dev', 'lo')
        $links = @(@{ Ns = $script:NsA; Net = 1 }, @{ Ns = $script:NsB; Net = 2 }, @{ Ns = $null; Net = 3 })
        foreach ($l in $links) {
            $outer = "ipr$suffix$($l.Net)"; $inner = "ipi$suffix$($l.Net)"
            Invoke-Ip @('link', 'add', $outer, 'type', 'veth', 'peer', 'name', $inner)
            if (-not $l.Ns) { $script:RootLink = $outer }
            Invoke-Ip @('link', 'set', $inner, 'netns', $script:NsR)
            Invoke-Ip @('-n', $script:NsR, 'addr', 'add', "10.$o.$($l.Net).1/24", 'dev', $inner)
            Invoke-Ip @('-n', $script:NsR, 'link', 'set', $inner, 'up')
            if ($l.Ns) {
                Invoke-Ip @('link', 'set', $outer, 'netns', $l.Ns)
                Invoke-Ip @('-n', $l.Ns, 'addr', 'add', "10.$o.$($l.Net).2/24", 'dev', $outer)
                Invoke-Ip @('-n', $l.Ns, 'link', 'set', $outer, 'up')
                Invoke-Ip @('-n', $l.Ns, 'route', 'add', 'default', 'via', "10.$o.$($l.Net).1")
            } else {
                Invoke-Ip @('addr', 'add', "10.$o.$($l.Net).2/24", 'dev', $outer)
                Invoke-Ip @('link', 'set', $outer, 'up')
                Invoke-Ip @('route', 'add', "10.$o.0.0/24", 'via', "10.$o.$($l.Net).1")
            }
        }
        $script:RedisDir = Join-Path $script:WorkDir 'redis'
        New-Item -ItemType Directory $script:RedisDir | Out-Null
        $psi = [Diagnostics.ProcessStartInfo]::new('ip')
        foreach ($a in 'netns', 'exec', $script:NsR, 'redis-server', '--bind', $script:RedisHost, '--port', $script:RedisPort, '--save', '', '--appendonly', 'no',
            '--loglevel', 'warning', '--dir', $script:RedisDir, '--requirepass', $script:Password) { $psi.ArgumentList.Add("$a") }
        $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true
        $script:RedisProcess = [Diagnostics.Process]::Start($psi)
        Wait-Until -Because 'redis-server in its namespace to listen' {
            try { $c = [Net.Sockets.TcpClient]::new($script:RedisHost, $script:RedisPort); $c.Dispose(); $true } catch { $false }
        }
        $script:Uri = "redis://:$($script:Password)@$($script:RedisHost):$($script:RedisPort)/0"
        $script:Backend = Connect-IpcBackend $script:Uri
    } catch {
        $script:NetnsSkip = "network namespaces could not be made here: $($_.Exception.Message)"
    }
}

AfterAll {
    foreach ($p in $script:Started) { try { if (-not $p.HasExited) { $p.Kill(); $p.WaitForExit(10000) | Out-Null } } catch { } ; $p.Dispose() }
    if ($script:RedisProcess) { try { if (-not $script:RedisProcess.HasExited) { $script:RedisProcess.Kill(); $script:RedisProcess.WaitForExit(10000) | Out-Null } } catch { } }
    if ($script:RootLink) { & ip link del $script:RootLink 2>$null }
    foreach ($ns in $script:Namespaces) { & ip netns del $ns 2>$null }
    Remove-Item -Recurse -Force $script:WorkDir -ErrorAction SilentlyContinue
}

Describe 'Redis across network namespaces' {
    BeforeEach {
        if ($script:NetnsSkip) { Set-ItResult -Skipped -Because $script:NetnsSkip }
    }

    It '2 producers and 3 consumers in another namespace move 5,000 messages through a Redis queue, each exactly once' {
        $q = New-IpcQueue -Backend $script:Backend -Name (New-TestName)
        try {
            $consumers = foreach ($i in 1..3) { Start-Role $script:NsB @{ Role = 'consumer'; Name = $q.Name } }
            $producers = @(
                Start-Role $script:NsA @{ Role = 'producer'; Name = $q.Name; From = 1; To = 2500 }
                Start-Role $script:NsA @{ Role = 'producer'; Name = $q.Name; From = 2501; To = 5000 }
            )
            foreach ($p in $producers) { Wait-Role $p | Should -Be 'DONE' }
            1..3 | ForEach-Object { 'STOP' } | Send-IpcMessage $q   # after every message: a plain queue is FIFO
            $got = foreach ($c in $consumers) { Wait-Role $c | Select-Object -Last 1 | ConvertFrom-Json }
            $got.Count | Should -Be 5000
            ($got | Sort-Object -Unique).Count | Should -Be 5000
            ($got | Measure-Object -Sum).Sum | Should -Be (5000 * 5001 / 2)
            $q.QSize() | Should -Be 0
        } finally { Remove-IpcObject $q }
    }

    It 'redelivers the message of a consumer SIGKILLed before TaskDone after the visibility timeout (count 2); Join returns only when all are done' {
        $q = New-IpcQueue -Backend $script:Backend -Name (New-TestName) -Joinable -VisibilityTimeout 3
        try {
            1..200 | Send-IpcMessage $q
            $victim = Start-Role $script:NsB @{ Role = 'victim'; Name = $q.Name }
            $line = Read-RoleLine $victim
            $line | Should -Match '^GOT \d+ 1 \d+$'
            $taken = [int]($line -split ' ')[1]; $gotAt = [long]($line -split ' ')[3]
            $victim.Process.Kill()   # SIGKILL: no TaskDone, no goodbye
            $victim.Process.WaitForExit()
            $consumers = foreach ($i in 1..2) { Start-Role $script:NsB @{ Role = 'jconsumer'; Name = $q.Name } }
            Wait-IpcQueue $q -Timeout 90 -ErrorAction Stop
            $joinedAt = [DateTime]::UtcNow.Ticks
            $q.Unfinished | Should -Be 0
            [TimeSpan]::FromTicks($joinedAt - $gotAt).TotalSeconds | Should -BeGreaterOrEqual 2.9   # not before the redelivery
            'STOP', 'STOP' | Send-IpcMessage $q
            $records = foreach ($c in $consumers) { Wait-Role $c | Select-Object -Last 1 | ConvertFrom-Json }
            $records.Count | Should -Be 200   # 199 first deliveries and the redelivered one
            $records | Should -Contain "${taken}:2"
            ($records | ForEach-Object { [int]($_ -split ':')[0] } | Sort-Object -Unique).Count | Should -Be 200
            @($records | Where-Object { $_ -like '*:2' }).Count | Should -Be 1
        } finally { Remove-IpcObject $q }
    }

    It 'an Event set in one namespace wakes a waiter in another within a second' {
        $e = New-IpcEvent -Backend $script:Backend -Name (New-TestName)
        try {
            $waiter = Start-Role $script:NsB @{ Role = 'waiter'; Name = $e.Name }
            $setter = Start-Role $script:NsA @{ Role = 'setter'; Name = $e.Name }
            Read-RoleLine $waiter | Should -Be 'READY'
            $setter.Process.StandardInput.WriteLine('go'); $setter.Process.StandardInput.Flush()
            $set = [long]((Wait-Role $setter | Select-Object -Last 1) -split ' ')[1]
            $woke = [long]((Wait-Role $waiter | Select-Object -Last 1) -split ' ')[1]
            [TimeSpan]::FromTicks($woke - $set).TotalSeconds | Should -BeLessThan 1
        } finally { Remove-IpcObject $e }
    }

    It 'a Barrier of 3 processes in 2 namespaces releases them together' {
        $b = New-IpcBarrier -Backend $script:Backend -Name (New-TestName) -Parties 3
        try {
            $parties = @(
                Start-Role $script:NsA @{ Role = 'barrier'; Name = $b.Name }
                Start-Role $script:NsA @{ Role = 'barrier'; Name = $b.Name }
                Start-Role $script:NsB @{ Role = 'barrier'; Name = $b.Name }
            )
            $lines = foreach ($p in $parties) { Wait-Role $p | Select-Object -Last 1 }
            $arrived = $lines | ForEach-Object { [long]($_ -split ' ')[1] }
            $released = $lines | ForEach-Object { [long]($_ -split ' ')[2] }
            ($lines | ForEach-Object { [int]($_ -split ' ')[3] } | Sort-Object) | Should -Be @(0, 1, 2)
            ($released | Measure-Object -Minimum).Minimum | Should -BeGreaterOrEqual ($arrived | Measure-Object -Maximum).Maximum
            # together: no party left before the last arrived (above), and all within moments of each other (2 s: a loaded machine)
            [TimeSpan]::FromTicks(($released | Measure-Object -Maximum).Maximum - ($released | Measure-Object -Minimum).Minimum).TotalSeconds | Should -BeLessThan 2
        } finally { Remove-IpcObject $b }
    }

    It 'a dict and a list from Connect-IpcManager redis:// are shared by 4 processes in 2 namespaces' {
        $name = New-TestName
        $roles = foreach ($i in 1..4) { Start-Role ($i -le 2 ? $script:NsA : $script:NsB) @{ Role = 'manager'; Name = $name; From = $i } }
        $m = Connect-IpcManager -Address "redis://$($script:RedisHost):$($script:RedisPort)/0"
        try {
            foreach ($r in $roles) { Wait-Role $r | Should -Be 'DONE' }
            $d = $m.Dict($name); $l = $m.List("${name}_list")
            @($d.Keys | Sort-Object) | Should -Be @('p1', 'p2', 'p3', 'p4')
            $l.Count | Should -Be 100
            foreach ($i in 1..4) { @($l.ToArray() | Where-Object { $_ -like "$i-*" }).Count | Should -Be 25 }
        } finally { Remove-IpcObject -Backend $script:Backend -Name $name, "${name}_list" }
    }

    It 'a holder SIGSTOPped past its lease loses the lock to another process with a higher token, and its Release reports LeaseLost' {
        $lock = New-IpcLock -Backend $script:Backend -Name (New-TestName) -LeaseTime 2
        try {
            $holder = Start-Role $script:NsA @{ Role = 'holder'; Name = $lock.Name }
            $line = Read-RoleLine $holder
            $line | Should -Match '^HELD \d+$'
            $first = [long]($line -split ' ')[1]
            & kill -STOP $holder.Process.Id
            try {
                $sw = [Diagnostics.Stopwatch]::StartNew()
                Enter-IpcLock $lock -Timeout 20 -ErrorAction Stop -WarningVariable abandoned -WarningAction SilentlyContinue
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
                $lock.Token | Should -BeGreaterThan $first
                "$abandoned" | Should -Match 'abandon'
            } finally { & kill -CONT $holder.Process.Id }
            $holder.Process.StandardInput.WriteLine('release'); $holder.Process.StandardInput.Flush()
            $out = Wait-Role $holder
            $out | Should -Contain 'ERR LeaseLost,IpcPs.Commands.ExitIpcLockCommand'
            $out | Should -Contain 'LOST True'
            $lock.IsHeld | Should -BeTrue   # the new holder is untouched by the old one's late release
            Exit-IpcLock $lock
        } finally { Remove-IpcObject $lock }
    }

    It 'reports a wrong password and a silent host as typed errors within the connect timeout' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $id = Get-ErrorId { New-IpcQueue -Backend "redis://:wrong-password@$($script:RedisHost):$($script:RedisPort)/0" }
        $id | Should -BeLike 'BackendAuthenticationFailed*'
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 8
        $sw.Restart()
        $id = Get-ErrorId { Get-IpcObject -Backend "redis://$($script:SilentHost):$($script:RedisPort)/0" }
        $id | Should -BeLike 'BackendUnavailable*'
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 8   # the default connect timeout is 5 s
    }
}

Describe 'Redis objects with the cmdlets, across Start-IpcProcess children' {
    BeforeEach {
        if ($script:NetnsSkip) { Set-ItResult -Skipped -Because $script:NetnsSkip }
    }

    It '3 processes x 300 increments of a Redis Value under a Redis Lock stay exact, with strictly increasing fencing tokens' {
        $lock = New-IpcLock -Backend $script:Backend -Name (New-TestName)
        $v = New-IpcValue -Backend $script:Backend -Name (New-TestName) -Type q -Value 0
        try {
            $jobs = foreach ($i in 1..3) {
                Start-IpcProcess -ArgumentList $lock, $v {
                    param($lock, $v)
                    foreach ($n in 1..300) { Use-IpcLock $lock { $v.Value = $v.Value + 1; "$($lock.Token):$($v.Value)" } }
                }
            }
            $pairs = $jobs | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $v.Value | Should -Be 900
            $pairs.Count | Should -Be 900
            $sorted = $pairs | ForEach-Object { $t, $val = $_ -split ':'; [pscustomobject]@{ Token = [long]$t; Value = [long]$val } } | Sort-Object Token
            ($sorted.Token | Sort-Object -Unique).Count | Should -Be 900
            # In token order, each holder saw the value one more than the previous holder: tokens grew with every acquisition.
            for ($k = 1; $k -lt 900; $k++) { $sorted[$k].Value | Should -Be ($sorted[$k - 1].Value + 1) }
        } finally { Remove-IpcObject -Backend $script:Backend -Name $lock.Name, $v.Name, "$($v.Name).lock" -ErrorAction SilentlyContinue }
    }

    It 'a Redis Semaphore(2) never admits a third holder' {
        $sem = New-IpcSemaphore -Backend $script:Backend -Name (New-TestName) -InitialCount 2
        $count = New-IpcValue -Backend $script:Backend -Name (New-TestName) -Type q
        $go = New-IpcEvent -Backend $script:Backend -Name (New-TestName)
        try {
            $jobs = foreach ($i in 1..3) {
                Start-IpcProcess -ArgumentList $sem, $count, $go {
                    param($sem, $count, $go)
                    foreach ($n in 1..15) {
                        Use-IpcLock $sem {
                            $count.Add(1)                         # how many hold a permit now, this one included
                            Wait-IpcEvent $go -Timeout 60         # the first holders stay inside until the test has seen them
                            $null = $count.Add(-1)
                        }
                    }
                }
            }
            Wait-Until -Because 'two processes to hold a permit at once' { $count.Value -eq 2 }
            $sem.CurrentValue | Should -Be 0                  # the third process waits for a permit
            Set-IpcEvent $go
            $seen = $jobs | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $seen.Count | Should -Be 45
            ($seen | Measure-Object -Maximum).Maximum | Should -Be 2   # two at once, never three
            $count.Value | Should -Be 0
        } finally { Remove-IpcObject -Backend $script:Backend -Name $sem.Name, $count.Name, $go.Name }
    }

    It 'ends a Get, a Wait-IpcEvent and an Acquire waiting on Redis objects on Ctrl+C, taking nothing' {
        $q = New-IpcQueue -Backend $script:Backend -Name (New-TestName)
        $e = New-IpcEvent -Backend $script:Backend -Name (New-TestName)
        $lock = New-IpcLock -Backend $script:Backend -Name (New-TestName)
        Enter-IpcLock $lock
        # Whether anyone listens on a wake-up channel of object NAME (docs/design.md, "Keys": ipcps:DB:{NAME}:WHAT).
        $subscribed = {
            param([string] $Name)
            $env:REDISCLI_AUTH = $script:Password
            try { $out = @(& redis-cli -h $script:RedisHost -p $script:RedisPort PUBSUB CHANNELS "ipcps:0:{$Name}:*") } finally { Remove-Item env:REDISCLI_AUTH }
            @($out | Where-Object { $_ }).Count -ge 1
        }
        $runs = @(
            Start-Stoppable { param($q) $q.Get() } -Arguments $q
            Start-Stoppable { param($e) Wait-IpcEvent $e } -Arguments $e
            Start-Stoppable { param($uri, $name) (Get-IpcObject -Backend $uri -Name $name).Acquire() } -Arguments $script:Uri, $lock.Name
        )
        try {
            Wait-Until -Because 'the three waits to subscribe to their wake-ups' {
                (& $subscribed $q.Name) -and (& $subscribed $e.Name) -and (& $subscribed $lock.Name)
            }
            $w = [Diagnostics.Stopwatch]::StartNew()
            $stops = foreach ($r in $runs) { $r.PowerShell.BeginStop($null, $null) }
            foreach ($s in $stops) { $s.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because 'a stopped wait must end (a hang here fails instead of blocking the run)' }
            $w.Elapsed.TotalSeconds | Should -BeLessThan 2
            foreach ($r in $runs) { $r.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped' }
            $q.Put('after'); $q.Get($true, 5) | Should -Be 'after'   # the stopped Get took nothing
            Exit-IpcLock $lock
            $other = Get-IpcObject -Backend $script:Backend -Name $lock.Name
            $other.Acquire($true, 5) | Should -BeTrue                   # the stopped Acquire holds nothing
            $other.Release()
        } finally {
            # A wait that did not stop would block Dispose too: it is left to the process's end, and the test has failed.
            foreach ($r in $runs) { if ($r.PowerShell.InvocationStateInfo.State -notin 'Running', 'Stopping') { $r.PowerShell.Dispose() } }
            Remove-IpcObject $q, $e, $lock
        }
    }

    It 'takes -Backend from $env:IPCPS_BACKEND, ''local'' overrides it, and refuses parameters of the other side' {
        $saved = $env:IPCPS_BACKEND
        $name = New-TestName
        try {
            $env:IPCPS_BACKEND = $script:Uri
            $remote = New-IpcQueue -Name $name -Joinable -VisibilityTimeout 5
            $remote.Address | Should -Be "redis://$($script:RedisHost):$($script:RedisPort)/0"
            $local = New-IpcQueue -Name $name -Backend local
            $local | Should -BeOfType [IpcPs.IpcQueue]
            'to redis' | Send-IpcMessage -Name $name                        # the default backend's queue
            $remote.QSize() | Should -Be 1
            $local.QSize() | Should -Be 0
            (Get-IpcObject -Name $name).Address | Should -Be $remote.Address
            (Get-ErrorId { New-IpcLock -Recursive }) | Should -BeLike 'IpcInvalidArgument*'
            (Get-ErrorId { New-IpcQueue -Backend local -VisibilityTimeout 3 }) | Should -BeLike 'IpcInvalidArgument*'
            (Get-ErrorId { New-IpcQueue -Name $name }) | Should -BeLike 'IpcObjectExists*'
            (Get-ErrorId { New-IpcQueue -Backend 'http://example' }) | Should -BeLike 'IpcInvalidArgument*'
        } finally {
            $env:IPCPS_BACKEND = $saved
            Remove-IpcObject -Backend $script:Backend -Name $name
            if ($local) { $local.Close() }
        }
    }

    It 'passes Redis handles to Invoke-IpcPool and Start-Job, which re-attach them' {
        $q = New-IpcQueue -Backend $script:Backend -Name (New-TestName)
        $saved = $env:IPCPS_BACKEND
        try {
            1..2 | Invoke-IpcPool -ArgumentList $q { param($q) $q.Put("pool $_") } -ThrottleLimit 1
            # Start-Job gets no password from IpcPs: the job uses the user's own $env:IPCPS_BACKEND for that address.
            $env:IPCPS_BACKEND = $script:Uri
            Start-Job -ArgumentList $q -InitializationScript ([scriptblock]::Create("Import-Module '$env:IPCPS_MODULE_PATH'")) {
                param($q) $q.Put("job $($q.GetType().Name)")
            } | Wait-Job -Timeout 120 | Remove-Job
            @(Receive-IpcMessage $q -All | Sort-Object) | Should -Be @('job RedisQueue', 'pool 1', 'pool 2')
        } finally { $env:IPCPS_BACKEND = $saved; Remove-IpcObject $q }
    }
}

Describe 'Redis killed and restarted mid-run' {
    It 'gives typed errors within the timeouts and loses nothing it acknowledged' {
        if (-not (Get-Command redis-server -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $dir = Join-Path $script:WorkDir 'durable'
        New-Item -ItemType Directory -Force $dir | Out-Null
        $port = Get-TestPort   # below the ephemeral range: no outgoing connection takes it while the server is down
        # appendfsync always: what the server acknowledged is on disk before the answer (Redis's default may lose the last second).
        $start = {
            $psi = [Diagnostics.ProcessStartInfo]::new('redis-server')
            foreach ($a in '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--loglevel', 'warning',
                '--dir', $dir, '--requirepass', $script:Password) { $psi.ArgumentList.Add("$a") }
            $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true
            $p = [Diagnostics.Process]::Start($psi); $script:Started.Add($p)
            Wait-Until -Because 'redis-server to listen' { try { $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); $true } catch { $false } }
            $p
        }
        $server = & $start
        $uri = "redis://:$($script:Password)@127.0.0.1:$port/0"
        $q = New-IpcQueue -Backend $uri -Name (New-TestName)
        $producer = Start-Role $null @{ Role = 'durable'; Name = $q.Name; To = 400 } -Server @{ Host = '127.0.0.1'; Port = $port }
        $lines = [Collections.Generic.List[string]]::new()
        do { $line = Read-RoleLine $producer; $lines.Add($line) } until ($line -eq 'A 100')
        $server.Kill(); $server.WaitForExit()   # SIGKILL mid-run
        do { $line = Read-RoleLine $producer 30; $lines.Add($line) } until ($line -like 'E *')
        $server = & $start                          # the same port and folder: the append-only file comes back
        foreach ($line in Wait-Role $producer 150) { $lines.Add($line) }
        $lines[-1] | Should -Be 'END'
        $errors = @($lines | Where-Object { $_ -like 'E *' })
        $errors.Count | Should -BeGreaterThan 0
        foreach ($e in $errors) {
            $id, $i, $ms = ($e -split ' ')[1..3]
            $id | Should -BeIn @('BackendUnavailable', 'BackendOutcomeUnknown')
            [int]$ms | Should -BeLessThan 8000   # no hang past the operation timeout (5 s; the producer's -ConnectTimeout 10 is not it)
        }
        $acked = @($lines | Where-Object { $_ -like 'A *' } | ForEach-Object { [int]($_ -split ' ')[1] })
        $maybe = @($lines | Where-Object { $_ -like 'M *' } | ForEach-Object { [int]($_ -split ' ')[1] })
        $box = [Collections.Generic.List[object]]::new()
        Wait-Until -Because 'the test process to reconnect' { try { $box.AddRange(@(Receive-IpcMessage $q -All -ErrorAction Stop)); $true } catch { $false } }
        $got = $box.ToArray()
        foreach ($i in $acked) { $got | Should -Contain $i }   # nothing acknowledged was lost
        foreach ($i in $got) { $i | Should -BeIn ($acked + $maybe) }
        ($got | Sort-Object -Unique).Count | Should -Be $got.Count
        Remove-IpcObject $q
        $server.Kill(); $server.WaitForExit()
    }
}
