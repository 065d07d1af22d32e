# Redis objects whose keys were changed by hand or by another program (redis-cli), continued from RedisDamage.Tests.ps1:
# a meta key or a data key replaced by a key of another type, a manager store whose meta key was lost, a lease whose
# holder key was replaced, and queue and event counters that are not numbers. Each is IpcObjectCorrupt naming the key
# or the field and the backend, and leaves the object as it was (no half-done change).
BeforeAll {
    . $PSScriptRoot/Common.ps1

    $script:RedisServer = Start-TestRedis
    $script:HasRedis = [bool]$script:RedisServer
    if ($script:HasRedis) {
        $script:Uri = $script:RedisServer.Uri
        $script:Address = "redis://127.0.0.1:$($script:RedisServer.Port)/0"   # as the backend names itself (no password)
        $null = Connect-IpcBackend $script:Uri
    }

    # The exception a .NET method call threw (unwrapped from PowerShell's MethodInvocationException); $null when none.
    function Get-MethodFailure([scriptblock] $Script) {
        try { $null = & $Script; $null } catch { $e = $_.Exception; if ($e -is [System.Management.Automation.MethodInvocationException] -or $e -is [System.Management.Automation.GetValueInvocationException] -or $e -is [System.Management.Automation.SetValueInvocationException]) { $e.InnerException } else { $e } }
    }

    # The advice every backend IpcObjectCorrupt ends with.
    function Get-Advice([string] $Name) { "Remove it with Remove-IpcObject -Name '$Name' -Backend '$($script:Address)' and create it again." }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Redis keys replaced by keys of another type' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    # Decision: New-* of the name is refused with the same error (no takeover), as a local New-* of a name whose segment
    # is damaged is refused (IpcObjectExists; -OpenOrCreate: IpcObjectWrongKind, of which IpcObjectCorrupt is a kind).
    It 'a meta key that is a <type> is IpcObjectCorrupt naming it and the backend on use, open and New-*; Remove-IpcObject frees the name' -ForEach @(
        @{ Type = 'string'; Command = 'SET' }
        @{ Type = 'list'; Command = 'LPUSH' }
    ) {
        $name = New-Name 'mk'
        $q = New-IpcQueue -Name $name -Backend $script:Uri
        try {
            $null = Invoke-Rcli DEL "ipcps:{$name}"
            $null = Invoke-Rcli $Command "ipcps:{$name}" x
            $expected = "The object '$name' at $($script:Address) is damaged: its key 'ipcps:{$name}' in Redis is a $Type, not the hash IpcPs keeps there (replaced by hand or by another program). " + (Get-Advice $name)
            foreach ($use in @(
                    { Send-IpcMessage $q 'a' }
                    { Get-IpcObject -Name $name -Backend $script:Uri -Open }
                    { Send-IpcMessage -Name $name -Backend $script:Uri 'a' }
                    { New-IpcQueue -Name $name -Backend $script:Uri }
                    { New-IpcQueue -Name $name -Backend $script:Uri -OpenOrCreate }
                    { New-IpcLock -Name $name -Backend $script:Uri })) {
                $e = Get-Failure $use
                $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*' -Because "$use"
                $e.Exception.Message | Should -Be $expected -Because "$use"
            }
            $x = Get-MethodFailure { (Connect-IpcManager -Address $script:Address).Dict($name) }   # a manager store of the name
            $x | Should -BeOfType ([IpcPs.IpcObjectCorruptException])
            $x.Message | Should -Be $expected
            Invoke-Rcli TYPE "ipcps:{$name}" | Should -Be $Type   # refused: nothing taken over

            Remove-IpcObject -Name $name -Backend $script:Uri -ErrorAction Stop
            $new = New-IpcQueue -Name $name -Backend $script:Uri -ErrorAction Stop
            Send-IpcMessage $new 'new' -ErrorAction Stop
            Receive-IpcMessage $new -Timeout 5 -ErrorAction Stop | Should -Be 'new'
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri -ErrorAction SilentlyContinue }
    }

    It 'a data key of another type is IpcObjectCorrupt naming the key and the type kept there (queue, priority queue, dict)' {
        $name = New-Name 'dk'
        $q = New-IpcQueue -Name $name -Backend $script:Uri
        $pq = New-IpcQueue -Name "$name-p" -Backend $script:Uri -Order Priority
        $d = (Connect-IpcManager -Address $script:Address).Dict("$name-d")
        try {
            $null = Invoke-Rcli SET "ipcps:{$name}:r" x
            (Get-Failure { Send-IpcMessage $q 'a' }).Exception.Message |
                Should -Be ("The object '$name' at $($script:Address) is damaged: its key 'ipcps:{$name}:r' in Redis is a string, not the list IpcPs keeps there (replaced by hand or by another program). " + (Get-Advice $name))
            $null = Invoke-Rcli RPUSH "ipcps:{$name-p}:r" x   # a list where a priority queue keeps a sorted set
            $e = Get-Failure { Receive-IpcMessage $pq -Timeout 0 }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            $e.Exception.Message | Should -BeLike "*its key 'ipcps:{$name-p}:r' in Redis is a list, not the zset IpcPs keeps there*"
            $null = Invoke-Rcli SET "ipcps:{$name-d}:dict" x
            $x = Get-MethodFailure { $d['k'] = 1 }
            $x | Should -BeOfType ([IpcPs.IpcObjectCorruptException])
            $x.Message | Should -BeLike "*'$name-d'*its key 'ipcps:{$name-d}:dict' in Redis is a string, not the hash IpcPs keeps there*"
        }
        finally { Remove-IpcObject -Name $name, "$name-p", "$name-d" -Backend $script:Uri -ErrorAction SilentlyContinue }
    }
}

Describe 'Redis manager stores whose meta key was lost' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    It 'a dict, list or namespace created where a deleted meta key left data starts empty, and an open one keeps its data' {
        $name = New-Name 'st'
        $m = Connect-IpcManager -Address $script:Address
        try {
            $d = $m.Dict("$name-d"); $d['old'] = 1
            $l = $m.List("$name-l"); $null = $l.Add('old')
            $ns = $m.Namespace("$name-n"); $ns.old = 1
            $m.Dict("$name-d").Count | Should -Be 1   # opening an existing store clears nothing
            $null = Invoke-Rcli DEL "ipcps:{$name-d}" "ipcps:{$name-l}" "ipcps:{$name-n}"

            $d2 = $m.Dict("$name-d")
            $d2.Count | Should -Be 0
            $d2['old'] | Should -BeNullOrEmpty
            $m.List("$name-l").Count | Should -Be 0
            $m.Namespace("$name-n").Items().Count | Should -Be 0
            # Where a deleted queue left its messages, a store of the name does not keep them either.
            $q = New-IpcQueue -Name "$name-q" -Backend $script:Uri
            Send-IpcMessage $q 'old'
            $null = Invoke-Rcli DEL "ipcps:{$name-q}"
            $null = $m.List("$name-q")
            Invoke-Rcli EXISTS "ipcps:{$name-q}:r" | Should -Be '0'
        }
        finally { Remove-IpcObject -Name "$name-d", "$name-l", "$name-n", "$name-q" -Backend $script:Uri -ErrorAction SilentlyContinue }
    }
}

Describe 'Redis leases whose keys were damaged' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    It 'a held lock whose holder key is replaced loses its lease at the next renewal, for that reason, not as a server out of reach' {
        $name = New-Name 'ld'
        $lock = New-IpcLock -Name $name -Backend $script:Uri -LeaseTime 1.5
        try {
            Enter-IpcLock $lock
            $null = Invoke-Rcli DEL "ipcps:{$name}:h"
            $null = Invoke-Rcli HSET "ipcps:{$name}:h" a b
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not $lock.LeaseLost.IsCancellationRequested -and [DateTime]::UtcNow -lt $deadline) { $null = $lock.LeaseLost.WaitHandle.WaitOne(100) }
            $lock.LeaseLost.IsCancellationRequested | Should -BeTrue
            $lock.IsHeld | Should -BeFalse
            $null = Invoke-Rcli DEL "ipcps:{$name}:h"   # mended: the release finds no holder, and reports why the lease went
            $x = Get-MethodFailure { $lock.Release() }
            $x | Should -BeOfType ([IpcPs.LeaseLostException])
            $x.Message | Should -BeLike "*its renewal found the object damaged*its key 'ipcps:{$name}:h' in Redis is a hash, not the string IpcPs keeps there*"
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }
}

Describe 'Redis queue and event counters that are not numbers' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    It 'a queue whose <field> is <value> is IpcObjectCorrupt naming it, and a Put stores nothing' -ForEach @(
        @{ Field = 'unfinished'; Value = 'x'; Options = @{ Joinable = $true } }
        @{ Field = 'seq'; Value = 'x'; Options = @{ Order = 'Priority' } }
        @{ Field = 'seq'; Value = '1.5'; Options = @{ Joinable = $true } }
        @{ Field = 'max'; Value = 'x'; Options = @{} }
        @{ Field = 'order'; Value = 'x'; Options = @{} }
    ) {
        $name = New-Name 'qf'
        $q = New-IpcQueue -Name $name -Backend $script:Uri @Options
        try {
            $null = Invoke-Rcli HSET "ipcps:{$name}" $Field $Value
            $e = Get-Failure { Send-IpcMessage $q 'a' }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            $e.Exception.Message | Should -Be ("The object '$name' at $($script:Address) is damaged: its field '$Field' in Redis is missing or not a number. " + (Get-Advice $name))
            Invoke-Rcli EXISTS "ipcps:{$name}:r" "ipcps:{$name}:b" | Should -Be '0'
            $x = Get-MethodFailure { $q.QSize() }
            if ($Field -in 'max', 'order', 'unfinished') { $x | Should -BeOfType ([IpcPs.IpcObjectCorruptException]) } else { $x | Should -BeNullOrEmpty }
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }

    It 'a delivery count that is not a number is IpcObjectCorrupt naming it, and the message stays to be got' {
        $name = New-Name 'qd'
        $q = New-IpcQueue -Name $name -Backend $script:Uri -Joinable
        try {
            Send-IpcMessage $q 'kept'
            $id = Invoke-Rcli LINDEX "ipcps:{$name}:r" 0
            $null = Invoke-Rcli HSET "ipcps:{$name}:d" $id x
            $e = Get-Failure { Receive-IpcMessage $q -Timeout 0 }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            $e.Exception.Message | Should -BeLike "*is damaged: its field '$id' of ipcps:{$name}:d in Redis is missing or not a number.*"
            Invoke-Rcli LINDEX "ipcps:{$name}:r" 0 | Should -Be $id

            $null = Invoke-Rcli DEL "ipcps:{$name}:d"
            $null = Invoke-Rcli SET "ipcps:{$name}:d" x   # the counts' hash replaced by a string
            (Get-Failure { Receive-IpcMessage $q -Timeout 0 }).Exception.Message |
                Should -BeLike "*is damaged: its key 'ipcps:{$name}:d' in Redis is a string, not the hash IpcPs keeps there*"
            Invoke-Rcli LINDEX "ipcps:{$name}:r" 0 | Should -Be $id

            $null = Invoke-Rcli DEL "ipcps:{$name}:d"
            Receive-IpcMessage $q -Timeout 5 -ErrorAction Stop | Should -Be 'kept'
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }

    It 'an event generation or a lock fence that is not an integer is IpcObjectCorrupt naming it, and nothing changes' {
        $name = New-Name 'eg'
        $ev = New-IpcEvent -Name $name -Backend $script:Uri
        $lock = New-IpcLock -Name "$name-l" -Backend $script:Uri
        try {
            $null = Invoke-Rcli HSET "ipcps:{$name}" gen x
            (Get-Failure { Set-IpcEvent $ev }).Exception.Message | Should -BeLike "*its field 'gen' in Redis is missing or not a number*"
            Invoke-Rcli HGET "ipcps:{$name}" set | Should -Be '0'
            (Get-Failure { Wait-IpcEvent $ev -Timeout 0 }).FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'

            $null = Invoke-Rcli HSET "ipcps:{$name-l}" fence 1.5
            (Get-Failure { Enter-IpcLock $lock -Timeout 0.5 }).Exception.Message | Should -BeLike "*its field 'fence' in Redis is missing or not a number*"
            Invoke-Rcli EXISTS "ipcps:{$name-l}:h" | Should -Be '0'
        }
        finally { Remove-IpcObject -Name $name, "$name-l" -Backend $script:Uri }
    }
}
