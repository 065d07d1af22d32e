# A Redis manager's list is used as a local manager's list is (about_IpcPs, "Managers"): the same Append, and + and +=
# refused with the same advice, since they would put a local copy where the shared list was (and, since PowerShell
# does not say which operand it enumerates, a shared list on the right too, with the advice to copy it first). Before:
# a Redis list had no Append (the advice named a method it lacked), and $l += 5 quietly turned $l into a local array.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:RedisServer = Start-TestRedis
}

AfterAll { Stop-TestRedis $script:RedisServer }

Describe 'a Redis list and a manager list, used alike' {
    BeforeEach {
        if (-not $script:RedisServer) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $script:b = Connect-IpcBackend $script:RedisServer.Uri
        $script:redis = Connect-IpcManager -Address $script:b.Address
        $script:local = Start-IpcManager
        $n = New-TestName 'lp'
        $script:lists = @{ Redis = $script:redis.List("${n}l"); Manager = $script:local.List() }
    }
    AfterEach {
        if ($script:lists) { $script:lists.Redis.Unlink() }
        if ($script:local) { Stop-IpcManager $script:local -ErrorAction SilentlyContinue }
    }

    It 'a <which> list appends with Append and Extend' -ForEach @(@{ Which = 'Redis' }, @{ Which = 'Manager' }) {
        $l = $script:lists[$Which]
        $l.Append(1)
        $l.Append('two')
        $l.Extend(@(3, 4))
        @($l.ToArray()) | Should -Be @(1, 'two', 3, 4)
        $l.GetCount() | Should -Be 4
    }

    It 'a <which> list refuses + and += with the advice, and stays shared' -ForEach @(@{ Which = 'Redis' }, @{ Which = 'Manager' }) {
        $l = $script:lists[$Which]
        $l.Append(1)
        $kept = $l
        $e = $null
        try { $l += 5 } catch { $e = $_ }
        $e | Should -Not -BeNullOrEmpty -Because '+= would put a local copy where the shared list was'
        $e.Exception.Message | Should -BeLike '*$list.Append(item)*'
        [object]::ReferenceEquals($l, $kept) | Should -BeTrue -Because 'the variable still holds the shared list'
        { $null = $l + 5 } | Should -Throw '*would put a local copy of it in its place*'
        $local = @(0)
        $e = $null
        try { $local += $l } catch { $e = $_ }
        $e.Exception.Message | Should -BeLike '*$array += @($list)*' -Because 'PowerShell does not tell which operand it enumerates: the message says what to write'
        $local += @($l)
        $local | Should -Be @(0, 1)
        @($l.ToArray()) | Should -Be @(1) -Because 'nothing was added by the refused operators'
        (@($l) + 5) | Should -Be @(1, 5) -Because 'a local array is made with @($list) + ...'
    }
}
