# The suite's own redis-server (Common.ps1, Start-TestRedis): it starts even when the port it picked is taken before
# it binds it, which a pick inside the kernel's ephemeral range (any outgoing connection's local port) made possible.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:HasRedis = [bool](Get-Command redis-server -ErrorAction SilentlyContinue)
}

Describe "The tests' redis-server" {
    It 'picks its ports below the ephemeral range that outgoing connections take theirs from' {
        $low = [int]((Get-Content -Raw /proc/sys/net/ipv4/ip_local_port_range).Trim() -split '\s+')[0]
        foreach ($i in 1..50) { Get-TestPort | Should -BeLessThan $low }
    }

    It 'starts on another port when the one it picked was taken before it bound it' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $taken = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $taken.Start()
        try {
            $redis = Start-TestRedis -FirstPort $taken.LocalEndpoint.Port
            try {
                $redis.Port | Should -Not -Be $taken.LocalEndpoint.Port
                $q = New-IpcQueue -Backend $redis.Uri
                try { $q.Put(7); $q.Get($true, 5) | Should -Be 7 } finally { Remove-IpcObject $q }
            } finally { Stop-TestRedis $redis }
        } finally { $taken.Stop() }
    }
}
