BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Ctrl+C ([powershell]::Stop) must end a connection to a manager that never answers at once, in the connect and in
    # the handshake, for Connect-IpcManager and for a proxy's own connection inside a method call (docs/design.md,
    # "Managers", "Handshake"). Each test waits until the client is really blocked (seen from the listener's side or in
    # the kernel's socket table), stops it and gives the stop 15 s: the handshake's own deadline is 30 s, the system's
    # TCP connect timeout about 2 minutes.
    function Stop-Blocked($ps, $pending) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $stop = $ps.BeginStop($null, $null)
        $stopped = $stop.AsyncWaitHandle.WaitOne(15000)
        $ps.EndStop($stop)
        $stopped | Should -BeTrue -Because "Stop() must end a blocked connect at once (it took $([int]$clock.Elapsed.TotalSeconds) s)"
        $e = $null
        try { $null = $ps.EndInvoke($pending) } catch { $e = $_.Exception }
        while ($e -is [Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
        $e | Should -BeOfType ([Management.Automation.PipelineStoppedException])
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
        # A "manager" folder of this user (socket and key file), whose socket accepts and never says hello.
        $dir = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-silent')
        $null = New-Item -ItemType Directory $dir
        chmod 700 $dir
        $listener = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Unspecified)
        $ps = $null; $peer = $null
        try {
            [IO.File]::WriteAllBytes((Join-Path $dir authkey), [byte[]]::new(32))
            $listener.Bind([Net.Sockets.UnixDomainSocketEndPoint]::new((Join-Path $dir socket)))
            $listener.Listen(1)
            $fake = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new("unix:$(Join-Path $dir socket)", 0, 'Manager', $dir))
            $ps = [powershell]::Create().AddScript('param($f) $f.Dict()').AddArgument($fake)
            $pending = $ps.BeginInvoke()
            $accept = $listener.AcceptAsync()
            if (-not $accept.Wait(30000)) { throw 'The proxy never connected' }
            $peer = $accept.Result
            Stop-Blocked $ps $pending
            Test-PeerClosed $peer | Should -BeTrue -Because 'the stopped call closes its connection'
        } finally {
            if ($peer) { $peer.Dispose() }
            if ($ps) { $ps.Dispose() }
            $listener.Dispose()
            Remove-Item -Recurse -Force $dir
        }
    }
}
