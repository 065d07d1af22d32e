# The Redis backend's pub/sub subscriptions: a channel is subscribed while a wait of the process can sleep on it and
# unsubscribed when none can (design.md, Redis backend, "Blocking waits"). The server's PUBSUB counts are the witness:
# only this process connects to the test's server.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    $script:RedisServer = Start-TestRedis
    $script:HasRedis = [bool]$script:RedisServer

    # What the server answers to redis-cli ARGS (the password in the environment, never on a command line).
    function Invoke-RedisCli([string[]] $Arguments) {
        $env:REDISCLI_AUTH = $script:RedisServer.Password
        try { @(& redis-cli -p $script:RedisServer.Port @Arguments) } finally { Remove-Item env:REDISCLI_AUTH }
    }

    # The IpcPs channels the server has subscribers for.
    function Get-IpcChannel { @(Invoke-RedisCli PUBSUB, CHANNELS, 'ipcps:*' | Where-Object { $_ }) }

    # How many clients are subscribed to CHANNEL.
    function Get-Subscribers([string] $Channel) { [int](Invoke-RedisCli PUBSUB, NUMSUB, $Channel)[1] }

    # How many SUBSCRIBE commands the server has run.
    function Get-SubscribeCalls { [int]((Invoke-RedisCli INFO, commandstats | Where-Object { $_ -match '^cmdstat_subscribe:calls=(\d+)' } | ForEach-Object { $Matches[1] }) ?? 0) }

    # The subscription counts (sub=) of the server's clients other than redis-cli itself.
    function Get-ClientSubscriptions {
        @(Invoke-RedisCli CLIENT, LIST | Where-Object { $_ -notmatch 'cmd=client' } | ForEach-Object { [int]($_ -replace '^.* sub=(\d+) .*$', '$1') })
    }

    if ($script:HasRedis) { $script:Backend = Connect-IpcBackend $script:RedisServer.Uri }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Redis pub/sub subscriptions' {
    It 'unsubscribes the channels of waits that ended, whatever the kind, with the objects closed or removed' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        (Get-IpcChannel).Count | Should -Be 0
        $clientsBefore = Get-ClientSubscriptions   # the client's own channel (__Booksleeve_MasterChanged) and nothing else
        $callsBefore = Get-SubscribeCalls
        # Each wait times out: nothing wakes it, so it sleeps on its channel.
        $t = 0.02
        foreach ($i in 1..40) {
            $q = New-IpcQueue -Backend $script:Backend -MaxSize 1 -Joinable
            Receive-IpcMessage $q -Timeout $t -ErrorAction SilentlyContinue | Should -BeNullOrEmpty   # the get channel (empty)
            Send-IpcMessage $q $i
            { $q.Put($i, $true, $t) } | Should -Throw '*full*'                                 # the put channel (full)
            $q.Join($t) | Should -BeFalse                                                      # the join channel (unfinished)
            $e = New-IpcEvent -Backend $script:Backend
            $e.Wait($t) | Should -BeFalse                                                      # the event's channel
            $l = New-IpcLock -Backend $script:Backend
            $other = Get-IpcObject -Backend $script:Backend -Name $l.Name
            $other.Acquire($true, 5) | Should -BeTrue
            $l.Acquire($true, $t) | Should -BeFalse                                            # the release channel (held)
            $other.Release()
            $s = New-IpcSemaphore -Backend $script:Backend -InitialCount 1
            $s.Acquire($true, 5) | Should -BeTrue
            $s.Acquire($true, $t) | Should -BeFalse                                            # a semaphore's release channel (taken)
            $s.Release()
            $b = New-IpcBarrier -Backend $script:Backend -Parties 2
            { Wait-IpcBarrier $b -Timeout $t -ErrorAction Stop } | Should -Throw               # the barrier's channel (broken)
            # Half the objects are removed, half only closed (they stay in Redis).
            $all = $q, $e, $l, $other, $s, $b
            if ($i % 2) { Remove-IpcObject $q, $e, $l, $s, $b } else { $all | ForEach-Object { $_.Dispose() } }
        }
        (Get-SubscribeCalls) - $callsBefore | Should -BeGreaterOrEqual 280 -Because 'each of the 7 × 40 waits subscribed its channel'
        # A channel no wait watches is unsubscribed once it has lingered (1 s, for a loop's next wait), its UNSUBSCRIBE
        # not waited for: give it the time.
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (($left = Get-IpcChannel).Count -and $clock.Elapsed.TotalSeconds -lt 10) { Start-Sleep -Milliseconds 50 }
        $left.Count | Should -Be 0 -Because "no wait is under way, yet the server still has $($left.Count) channels subscribed ($(($left | Select-Object -First 3) -join ', '), …)"
        Get-ClientSubscriptions | Should -Be $clientsBefore
    }

    It 'keeps a waiter''s channel while another handle of its object waits, times out and closes, and wakes it at once' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $name = New-TestName 'sub'
        $a = New-IpcQueue -Backend $script:Backend -Name $name
        $channel = "ipcps:0:{$name}:get"   # what a Get sleeps on (a Put publishes there)
        # B waits in a thread of this process (its own runspace), on a handle of its own.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                param($ModulePath, $Uri, $Name)
                Import-Module $ModulePath
                $b = Get-IpcObject -Backend (Connect-IpcBackend $Uri) -Name $Name
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $got = Receive-IpcMessage $b -Timeout 30
                [pscustomobject]@{ Got = $got; Seconds = $watch.Elapsed.TotalSeconds }
                $b.Dispose()
            }).AddArgument($env:IPCPS_MODULE_PATH).AddArgument($script:RedisServer.Uri).AddArgument($name)
            $waiting = $ps.BeginInvoke()
            Wait-Until -Because 'B to subscribe the get channel' { (Get-Subscribers $channel) -eq 1 }
            # A waits on the same channel too, times out, and is closed: B still waits, so the channel stays subscribed.
            Receive-IpcMessage $a -Timeout 0.05 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $a.Dispose()
            Get-Subscribers $channel | Should -Be 1 -Because 'B still waits on it'
            $c = Get-IpcObject -Backend $script:Backend -Name $name
            Send-IpcMessage $c 'hello'
            $waiting.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) | Should -BeTrue
            $r = $ps.EndInvoke($waiting)
            $ps.Streams.Error | Should -BeNullOrEmpty
            $r.Got | Should -Be 'hello'
            $r.Seconds | Should -BeLessThan 15 -Because 'the message wakes B (its timeout is 30 s)'
            # Unsubscribed once nothing waits on it (after its linger; its UNSUBSCRIBE is not waited for).
            Wait-Until -TimeoutSeconds 10 -Because 'the get channel to be unsubscribed' { (Get-Subscribers $channel) -eq 0 }
            Remove-IpcObject $c
        }
        finally { $ps.Dispose() }
    }
}
