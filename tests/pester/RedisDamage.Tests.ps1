# The Redis backend's errors where the local backend has typed ones (a barrier's timeout, a release not held), and its
# objects when their keys were changed by hand or by another program (redis-cli): every such case is a typed IpcPs error
# of the object concerned, never a .NET exception from a reply read without checks, nor a failure of other objects.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    $script:RedisServer = Start-TestRedis
    $script:HasRedis = [bool]$script:RedisServer
    if ($script:HasRedis) {
        $script:Uri = $script:RedisServer.Uri
        $script:Address = "redis://127.0.0.1:$($script:RedisServer.Port)/0"   # as the backend names itself (no password)
        $null = Connect-IpcBackend $script:Uri
    }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Redis errors typed as the local ones' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    It 'a Wait-IpcBarrier that times out writes the non-terminating IpcTimeout and leaves the barrier broken, as a local barrier' {
        foreach ($backend in 'local', $script:Uri) {
            $name = New-Name 'bt'
            $bar = New-IpcBarrier -Name $name -Backend $backend -Parties 2
            try {
                $late = $null
                Wait-IpcBarrier $bar -Timeout 0.3 -ErrorAction SilentlyContinue -ErrorVariable late   # terminating: the test fails here
                $late[0].FullyQualifiedErrorId | Should -BeLike 'IpcTimeout,*' -Because $backend
                $bar.Broken | Should -BeTrue -Because "the party whose time ran out breaks the barrier ($backend)"
            }
            finally { Remove-IpcObject -Name $name -Backend $backend }
        }
    }

    It 'Exit-IpcLock of a Redis lock not held, or a semaphore released once too often, writes the non-terminating IpcInvalidSyncState' {
        $name = New-Name 'xl'
        $lock = New-IpcLock -Name $name -Backend $script:Uri
        $sem = New-IpcSemaphore -Name "$name-s" -Backend $script:Uri -InitialCount 1
        try {
            Exit-IpcLock $lock -ErrorAction SilentlyContinue -ErrorVariable ev   # terminating: the test fails here
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'IpcInvalidSyncState,*'
            $ev[0].Exception | Should -BeOfType ([IpcPs.IpcSyncStateException])
            $ev[0].Exception.Message | Should -BeLike "Cannot release the Lock '$name' at $($script:Address): this handle holds no lease*"

            Enter-IpcLock $sem
            Exit-IpcLock $sem
            Exit-IpcLock $sem -ErrorAction SilentlyContinue -ErrorVariable ev2
            $ev2[0].FullyQualifiedErrorId | Should -BeLike 'IpcInvalidSyncState,*'
            $e = try { $lock.Release() } catch { $_.Exception.InnerException }
            $e | Should -BeOfType ([IpcPs.IpcSyncStateException])
        }
        finally { Remove-IpcObject -Name $name, "$name-s" -Backend $script:Uri }
    }
}

Describe 'Redis objects with damaged keys' {
    BeforeEach {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    It 'a barrier field that is not a number is IpcObjectCorrupt naming the field and the backend, and the arrival is not counted' {
        $name = New-Name 'bd'
        $bar = New-IpcBarrier -Name $name -Backend $script:Uri -Parties 2
        try {
            $null = Invoke-Rcli HSET "ipcps:{$name}" gen x
            $e = Get-Failure { Wait-IpcBarrier $bar -Timeout 0.5 }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            $e.Exception | Should -BeOfType ([IpcPs.IpcObjectCorruptException])
            $e.Exception.Message | Should -Be ("The object '$name' at $($script:Address) is damaged: its field 'gen' in Redis is missing or not a number. " +
                "Remove it with Remove-IpcObject -Name '$name' -Backend '$($script:Address)' and create it again.")
            Invoke-Rcli HGET "ipcps:{$name}" arrived | Should -Be '0'

            $null = Invoke-Rcli HSET "ipcps:{$name}" gen 0
            $null = Invoke-Rcli HDEL "ipcps:{$name}" arrived
            (Get-Failure { Wait-IpcBarrier $bar -Timeout 0.5 }).FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }

    It 'a semaphore or lock counter that is not a number is IpcObjectCorrupt, and nothing is taken' {
        $name = New-Name 'sd'
        $sem = New-IpcSemaphore -Name $name -Backend $script:Uri -InitialCount 2
        $lock = New-IpcLock -Name "$name-l" -Backend $script:Uri
        try {
            $null = Invoke-Rcli HSET "ipcps:{$name}" permits many
            (Get-Failure { Enter-IpcLock $sem -Timeout 0.5 }).FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            Invoke-Rcli EXISTS "ipcps:{$name}:s" | Should -Be '0'

            $null = Invoke-Rcli HSET "ipcps:{$name-l}" fence x
            (Get-Failure { Enter-IpcLock $lock -Timeout 0.5 }).Exception.Message | Should -BeLike "*its field 'fence' in Redis is missing or not a number*"
            Invoke-Rcli EXISTS "ipcps:{$name-l}:h" | Should -Be '0'
        }
        finally { Remove-IpcObject -Name $name, "$name-l" -Backend $script:Uri }
    }

    It 'a setting that cannot be read names the backend in its advice' {
        $name = New-Name 'md'
        $null = New-IpcLock -Name $name -Backend $script:Uri
        try {
            $null = Invoke-Rcli HSET "ipcps:{$name}" lease x
            $e = Get-Failure { Get-IpcObject -Name $name -Backend $script:Uri -Open }
            $e.FullyQualifiedErrorId | Should -BeLike 'IpcObjectCorrupt,*'
            $e.Exception.Message | Should -BeLike "The object '$name' at $($script:Address) is damaged: its setting 'lease' in Redis is missing or out of range*-Backend '$($script:Address)'*"
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }

    It 'a key under ipcps:{…} that is not a hash is skipped by Get-IpcObject -Backend, which lists the others' {
        $name = New-Name 'ls'
        $q = New-IpcQueue -Name $name -Backend $script:Uri
        $stray = New-Name 'stray'
        try {
            $null = Invoke-Rcli SET "ipcps:{$stray}" x
            $listed = @(Get-IpcObject -Backend $script:Uri -ErrorAction Stop)
            $listed.Name | Should -Contain $name
            $listed.Name | Should -Not -Contain $stray
            Invoke-Rcli GET "ipcps:{$stray}" | Should -Be 'x'   # not ours: listed as nothing, left as it is
        }
        finally { $null = Invoke-Rcli DEL "ipcps:{$stray}"; Remove-IpcObject -Name $name -Backend $script:Uri }
    }

    It 'Remove-IpcObject of a name whose meta key was deleted removes the data keys left behind' {
        $name = New-Name 'rm'
        $q = New-IpcQueue -Name $name -Backend $script:Uri
        Send-IpcMessage $q 'old-1', 'old-2'
        $null = Invoke-Rcli DEL "ipcps:{$name}"
        Remove-IpcObject -Name $name -Backend $script:Uri -ErrorAction Stop
        Invoke-Rcli EXISTS "ipcps:{$name}:r" | Should -Be '0'
        # Nothing left at all: not found, as before.
        (Get-Failure { Remove-IpcObject -Name $name -Backend $script:Uri }).FullyQualifiedErrorId | Should -BeLike 'IpcObjectNotFound,*'
    }

    It 'a queue created where a deleted meta key left data starts empty, whatever the old queue''s order' {
        $name = New-Name 'cr'
        $old = New-IpcQueue -Name $name -Backend $script:Uri -Order Priority
        Send-IpcMessage $old 'old' -Priority 1
        $null = Invoke-Rcli DEL "ipcps:{$name}"
        try {
            $new = New-IpcQueue -Name $name -Backend $script:Uri
            Send-IpcMessage $new 'new' -ErrorAction Stop
            Receive-IpcMessage $new -Timeout 1 -ErrorAction Stop | Should -Be 'new'
            @(Receive-IpcMessage $new -Timeout 0 -ErrorAction SilentlyContinue) | Should -HaveCount 0
        }
        finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }
}
