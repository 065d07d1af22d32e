BeforeAll {
    . $PSScriptRoot/Common.ps1
}

# A manager stopped and started again at the same address (the same -Name, or the same TCP port and key): proxies of
# the first manager must fail with a typed error, never reach an object of the second one that happens to carry the
# same id (docs/design.md, "Managers", "Objects").
Describe 'Manager restarted at the same address' {
    AfterEach { foreach ($m in @($script:managers)) { if ($m) { try { Stop-IpcManager $m -ErrorAction SilentlyContinue } catch { } } } }
    BeforeEach { $script:managers = @() }

    It 'a proxy of the manager that was stopped fails with ManagerRemoteException, never reads the new manager''s object' {
        $name = New-TestName 'mrestart'
        $first = Start-IpcManager -Name $name; $script:managers += $first
        $stale = $first.Dict(@{ owner = 'first' })
        $staleList = $first.List(@('first'))
        Stop-IpcManager $first
        $second = Start-IpcManager -Name $name; $script:managers += $second
        $second.Address | Should -Be $first.Address -Because 'the same name is the same socket'
        $fresh = $second.Dict(@{ owner = 'second' })
        $freshList = $second.List(@('second'))
        foreach ($proxy in $stale, $staleList) {
            $script:count = $null
            $e = Get-ThrownException { $script:count = $proxy.GetCount() }   # a method: a property that failed reads as $null
            $e | Should -Not -BeNullOrEmpty -Because "the stale $($proxy.GetType().Name) answered a count of $($script:count): it reached an object of the new manager"
            $e = $e.GetBaseException()
            $e | Should -BeOfType ([IpcPs.ManagerRemoteException]) -Because "the stale $($proxy.GetType().Name) must not reach an object of the new manager"
            $e.RemoteType | Should -Be 'System.Collections.Generic.KeyNotFoundException'
            $e.Message | Should -Match 'shut down and restarted'
        }
        $fresh['owner'] | Should -Be 'second'
        $freshList.GetCount() | Should -Be 1 -Because 'the stale proxies changed nothing'
    }
}
