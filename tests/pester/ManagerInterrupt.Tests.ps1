BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Ctrl+C ([powershell]::Stop) must end a connection to a manager that never answers at once, in the connect and in
    # the handshake, for Connect-IpcManager and for a proxy's own connection inside a method call (docs/design.md,
    # "Managers", "Handshake"). Each test waits until the client is really blocked (seen from the listener's side or in
    # the kernel's socket table), stops it and gives the stop 15 s: the handshake's own deadline is 30 s, the system's
    # TCP connect timeout about 2 minutes.
    # METHODCALL: the stopped command is a method call, which PowerShell ends either as stopped or, when the script
    # completes before the stop marks it, with the call's OperationCanceledException as its one error (PowerShell's
    # race, not IpcPs's: a stopped $q.Get() does the same; what counts is that the stop ends it at once).
    function Stop-Blocked($ps, $pending, [switch] $MethodCall) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $stop = $ps.BeginStop($null, $null)
        $stopped = $stop.AsyncWaitHandle.WaitOne(15000)
        $ps.EndStop($stop)
        $stopped | Should -BeTrue -Because "Stop() must end a blocked connect at once (it took $([int]$clock.Elapsed.TotalSeconds) s)"
        $e = $null
        try { $null = $ps.EndInvoke($pending) } catch { $e = $_.Exception }
        while ($e -is [Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
        if ($MethodCall -and -not $e) {
            @($ps.Streams.Error).Count | Should -Be 1
            $ps.Streams.Error[0].Exception.InnerException | Should -BeOfType ([OperationCanceledException])
            return
        }
        $e | Should -BeOfType ([Management.Automation.PipelineStoppedException]) -Because "a stopped connect ends the command as stopped (its errors: $($ps.Streams.Error -join ' | '))"
        $ps.Streams.Error | Should -BeNullOrEmpty -Because 'a stopped connect is no failure of its own'
    }

    # True once the peer of PEER (a socket the test accepted) has closed its end: the client left no socket behind.
    function Test-PeerClosed([Net.Sockets.Socket] $Peer) {
        if (-not $Peer.Poll(15000000, [Net.Sockets.SelectMode]::SelectRead)) { return $false }
        try { return $Peer.Receive([byte[]]::new(16)) -eq 0 } catch [Net.Sockets.SocketException] { return $true }   # reset: closed too
    }

    # The loopback connections to PORT in state SYN_SENT (Linux: /proc/net/tcp; state 02, remote address 0100007F:PORT).
    function Get-SynSent([int] $Port) {
        $remote = '0100007F:{0:X4}' -f $Port
        @(Get-Content /proc/net/tcp | Select-Object -Skip 1 | Where-Object { $f = -split $_; $f[2] -eq $remote -and $f[3] -eq '02' }).Count
    }
}

Describe 'Ctrl+C while connecting to a manager' {
    It 'stops Connect-IpcManager in the handshake with a peer that accepts and never speaks' -Tag 'Windows' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $ps = $null; $peer = $null
        try {
            $address = "127.0.0.1:$($listener.LocalEndpoint.Port)"
            $ps = [powershell]::Create().AddScript("Import-Module '$env:IPCPS_MODULE_PATH'; Connect-IpcManager -Address $address -AuthKey ('k' * 32)")
            $pending = $ps.BeginInvoke()
            $accept = $listener.AcceptSocketAsync()
            if (-not $accept.Wait(30000)) { throw 'Connect-IpcManager never connected' }
            $peer = $accept.Result   # the client now waits for the hello that never comes
            Stop-Blocked $ps $pending
            Test-PeerClosed $peer | Should -BeTrue -Because 'the stopped connect closes its socket'
        } finally {
            if ($peer) { $peer.Dispose() }
            if ($ps) { $ps.Dispose() }
            $listener.Stop()
        }
    }

    It 'stops Connect-IpcManager in the TCP connect to a listener whose backlog is full' -Skip:(-not $IsLinux) {
        $listener = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
        $fillers = [Collections.Generic.List[Net.Sockets.Socket]]::new()
        $ps = $null
        try {
            $listener.Bind([Net.IPEndPoint]::new([Net.IPAddress]::Loopback, 0))
            $listener.Listen(1)   # never accepted: after backlog + 1 connections the kernel drops every SYN
            $port = $listener.LocalEndPoint.Port
            while ((Get-SynSent $port) -eq 0) {
                if ($fillers.Count -ge 16) { throw 'The listen backlog never filled' }
                $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
                $fillers.Add($s)
                $null = $s.ConnectAsync([Net.IPEndPoint]::new([Net.IPAddress]::Loopback, $port))
                Wait-Until { $s.Connected -or (Get-SynSent $port) -gt 0 } -Because 'the filler connected or hung'
            }
            $ps = [powershell]::Create().AddScript("Import-Module '$env:IPCPS_MODULE_PATH'; Connect-IpcManager -Address 127.0.0.1:$port -AuthKey ('k' * 32)")
            $pending = $ps.BeginInvoke()
            Wait-Until { (Get-SynSent $port) -ge 2 } -Because 'Connect-IpcManager sent its SYN'
            Stop-Blocked $ps $pending
            Wait-Until { (Get-SynSent $port) -le 1 } -Because 'the stopped connect closed its socket'
        } finally {
            if ($ps) { $ps.Dispose() }
            foreach ($s in $fillers) { $s.Dispose() }
            $listener.Dispose()
        }
    }

    It 'stops a proxy method call whose own connection is in the handshake with a silent peer' -Skip:(-not $IsLinux) {
        $silent = New-SilentManager
        $ps = $null; $peer = $null
        try {
            $ps = [powershell]::Create().AddScript('param($f) $f.Dict()').AddArgument($silent.Manager)
            $pending = $ps.BeginInvoke()
            $accept = $silent.Listener.AcceptAsync()
            if (-not $accept.Wait(30000)) { throw 'The proxy never connected' }
            $peer = $accept.Result
            Stop-Blocked $ps $pending -MethodCall
            Test-PeerClosed $peer | Should -BeTrue -Because 'the stopped call closes its connection'
        } finally {
            if ($peer) { $peer.Dispose() }
            if ($ps) { $ps.Dispose() }
            Remove-SilentManager $silent
        }
    }

    It 'stops Connect-IpcManager while the host name is looked up (a DNS server that never answers)' -Skip:(-not $IsLinux) {
        # A network namespace of the test's own whose resolv.conf names 127.0.0.1 with a 30 s timeout (ip netns exec
        # mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf), and a pwsh in it that listens on UDP port 53 itself,
        # never answering: the lookup of a name is then seen to be under way (its query came) and would last 30 s.
        $ns = New-TestName 'ipcps-dns'
        $etc = "/etc/netns/$ns"
        $madeParent = -not (Test-Path -LiteralPath /etc/netns)
        & ip netns add $ns
        try {
            $null = New-Item -ItemType Directory -Force $etc
            Set-Content -LiteralPath "$etc/resolv.conf" -Value "nameserver 127.0.0.1`noptions timeout:30 attempts:1"
            & ip -n $ns link set lo up
            $child = {
                $dns = [Net.Sockets.UdpClient]::new([Net.IPEndPoint]::new([Net.IPAddress]::Loopback, 53))
                $ps = [powershell]::Create().AddScript("Import-Module '$env:IPCPS_MODULE_PATH'; Connect-IpcManager -Address ipcps-no-such-host.invalid:5000 -AuthKey ('k' * 32)")
                $pending = $ps.BeginInvoke()
                $query = $dns.ReceiveAsync()
                if (-not $query.Wait(30000)) { 'result no query came'; exit }
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $stop = $ps.BeginStop($null, $null)
                $stopped = $stop.AsyncWaitHandle.WaitOne(15000)
                "result stopped=$stopped seconds=$([int]$clock.Elapsed.TotalSeconds)"
                try { $null = $ps.EndInvoke($pending); 'error none' } catch {
                    $e = $_.Exception
                    while ($e -is [Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
                    "error $($e.GetType().Name)"
                }
                if ($stopped) { $ps.EndStop($stop) }
                [Environment]::Exit(0)   # a lookup still under way (the old code) must not keep the process
            }
            $psi = [Diagnostics.ProcessStartInfo]::new('ip')
            foreach ($a in @('netns', 'exec', $ns) + (Get-PwshCommand) + @('-NoProfile', '-NonInteractive', '-Command', $child.ToString())) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardOutput = $true
            $p = [Diagnostics.Process]::Start($psi)
            try {
                $out = $p.StandardOutput.ReadToEndAsync()
                if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'the child did not end within 120 s' }
                $lines = $out.Result -split "`r?`n"
            } finally { $p.Dispose() }
            $lines | Should -Contain 'error PipelineStoppedException' -Because "a stopped lookup ends the command as stopped (output: $($lines -join ' | '))"
            $lines | Where-Object { $_ -like 'result *' } | Should -Match 'stopped=True' -Because 'Stop() must end a connect waiting for its host name at once'
        } finally {
            & ip netns del $ns 2>$null
            Remove-Item -Recurse -Force -LiteralPath $etc -ErrorAction Ignore
            if ($madeParent) { Remove-Item -LiteralPath /etc/netns -ErrorAction Ignore }   # only when empty (not -Recurse)
        }
    }
}
