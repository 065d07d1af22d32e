BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/ManagerWire.ps1

    function Test-ProcessAlive([int] $Id) { [bool](Get-Process -Id $Id -ErrorAction SilentlyContinue) }

    # Child scripts print a failed call as: ERROR <exception type> then its message (unwrapped from PowerShell's wrapper).
    $script:Why = 'function Why($r) { $e = $r.Exception; while ($e.InnerException -and $e -is [Management.Automation.MethodInvocationException]) { $e = $e.InnerException }; "ERROR $($e.GetType().Name)"; $e.Message }'

    function New-NetworkKey { [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)) }

    # A man in the middle: forwards frames between clients and a manager (one thread per direction and connection),
    # and on every connection can flip a bit in the first frame of a direction longer than N bytes, or send the first
    # frame from the client longer than N bytes twice. Handshake frames are shorter than 100 bytes: the tests make the
    # frames they aim at longer, so the rules hit a request or a reply whatever the handshake looks like.
    if (-not ('IpcTest.FrameProxy' -as [type])) {
        Add-Type -TypeDefinition @'
using System; using System.Collections.Generic; using System.Net; using System.Net.Sockets; using System.Threading;
namespace IpcTest {
    public sealed class FrameProxy : IDisposable {
        private readonly TcpListener _listener;
        private readonly IPEndPoint _target;
        private readonly List<Socket> _sockets = new List<Socket>();
        public int FlipFromServerOver = -1, FlipFromClientOver = -1, ReplayFromClientOver = -1;
        public int Altered;
        public FrameProxy(string target) {
            int colon = target.LastIndexOf(':');
            _target = new IPEndPoint(IPAddress.Parse(target.Substring(0, colon)), int.Parse(target.Substring(colon + 1)));
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            new Thread(AcceptLoop) { IsBackground = true }.Start();
        }
        public string Address { get { return "127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port; } }
        private void AcceptLoop() {
            while (true) {
                Socket client;
                try { client = _listener.AcceptSocket(); } catch { return; }
                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try { server.Connect(_target); } catch { client.Dispose(); server.Dispose(); continue; }
                lock (_sockets) { _sockets.Add(client); _sockets.Add(server); }
                Pump(client, server, true);
                Pump(server, client, false);
            }
        }
        private void Pump(Socket from, Socket to, bool fromClient) {
            new Thread(() => {
                try {
                    bool flipped = false, replayed = false;
                    while (true) {
                        var head = Read(from, 4);
                        if (head == null) break;
                        int length = BitConverter.ToInt32(head, 0);
                        var body = Read(from, length);
                        if (body == null) break;
                        int flipOver = fromClient ? FlipFromClientOver : FlipFromServerOver;
                        if (!flipped && flipOver >= 0 && length > flipOver) {
                            body[length - 17] ^= 0x01;   // the last payload byte (the 16 bytes after it are the tag)
                            flipped = true;
                            Interlocked.Increment(ref Altered);
                        }
                        Write(to, head, body);
                        if (fromClient && !replayed && ReplayFromClientOver >= 0 && length > ReplayFromClientOver) {
                            Write(to, head, body);
                            replayed = true;
                            Interlocked.Increment(ref Altered);
                        }
                    }
                } catch (Exception) { }
                try { to.Shutdown(SocketShutdown.Send); } catch (Exception) { }
            }) { IsBackground = true }.Start();
        }
        private static byte[] Read(Socket s, int n) {
            var b = new byte[n];
            for (int got = 0; got < n; ) { int r = s.Receive(b, got, n - got, SocketFlags.None); if (r == 0) return null; got += r; }
            return b;
        }
        private static void Write(Socket s, byte[] head, byte[] body) {
            var all = new byte[head.Length + body.Length];
            Buffer.BlockCopy(head, 0, all, 0, head.Length); Buffer.BlockCopy(body, 0, all, head.Length, body.Length);
            for (int sent = 0; sent < all.Length; ) sent += s.Send(all, sent, all.Length - sent, SocketFlags.None);
        }
        public void Dispose() {
            _listener.Stop();
            lock (_sockets) foreach (var s in _sockets) s.Dispose();
        }
    }
}
'@
    }
}

Describe 'Manager security' {
    BeforeEach { $script:managers = @() }
    AfterEach {
        foreach ($m in @($script:managers)) { if ($m) { try { Stop-IpcManager $m -ErrorAction SilentlyContinue } catch { } } }
        $script:managers = @()
    }

    It 'a proxy descriptor naming a local manager''s folder with another address gets no key: the fake listener never receives a proof made with it' {
        $m = Start-IpcManager; $script:managers += $m
        $realKey = [IO.File]::ReadAllBytes((Join-Path $m.Directory authkey))
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $ps = $null; $peer = $null
        try {
            $fake = "127.0.0.1:$($listener.LocalEndpoint.Port)"
            # The descriptor as another process would send it: the attacker's address, the victim's manager folder.
            $descriptor = [pscustomobject]@{ ManagerAddress = $fake; ManagerObjectId = 1L; ManagerTypeId = 'Dict'; ManagerStateDir = $m.Directory }
            $descriptor.PSObject.TypeNames.Clear(); $descriptor.PSObject.TypeNames.Add('IpcPs.ManagedDict')
            # Decoded as every message's CLIXML part is (PSMessageFallback): deserialized, then rehydrated.
            $proxy = [IpcPs.Hosting.IpcObjectConverter]::Rehydrate([Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($descriptor)))
            $proxy -is [IpcPs.ManagedDict] | Should -BeTrue -Because 'a descriptor decoded from a message becomes a proxy'
            $ps = [powershell]::Create().AddScript("param(`$d)`n$Why`ntry { `$null = `$d.ContainsKey('x'); 'no error' } catch { Why `$_ }").AddArgument($proxy)
            $pending = $ps.BeginInvoke()
            Wait-Until { $pending.IsCompleted -or $listener.Pending() } -Because 'the call fails or reaches the fake listener'
            if ($listener.Pending()) {
                # It connected: play the manager's part and see what it answers.
                $peer = $listener.AcceptTcpClient()
                $peer.ReceiveTimeout = 10000
                $s = $peer.GetStream()
                $challenge = [Security.Cryptography.RandomNumberGenerator]::GetBytes(32)
                Send-Frame $s ([byte[]]((Get-Bytes 'IPCPS-MANAGER-1') + $challenge))
                $answer = try { Receive-Frame $s } catch { $null }
                if ($answer) {
                    $hex = [Convert]::ToHexString($answer)
                    $hex | Should -Not -BeLike "*$([Convert]::ToHexString((Get-Hmac $realKey (Get-Bytes 'client'), $challenge)))*" -Because 'a proof made with the real key went to the attacker'
                    if ($answer.Length -ge 32) {
                        $hex | Should -Not -BeLike "*$([Convert]::ToHexString((Get-Hmac $realKey (Get-Bytes 'client'), $challenge, ([byte[]]$answer[0..31]))))*" -Because 'a proof made with the real key went to the attacker'
                    }
                }
                throw 'The client connected to an address its key file was not made for.'
            }
            $result = $ps.EndInvoke($pending)
            $result[0] | Should -Be 'ERROR ManagerAuthenticationException'
            $result[1] | Should -Match 'key file is used only for the Unix socket in its own folder'
            $listener.Pending() | Should -BeFalse -Because 'nothing was sent to the fake listener'
        } finally {
            if ($peer) { $peer.Dispose() }
            if ($ps) { $ps.Dispose() }
            $listener.Stop()
        }
    }

    Context 'frames after the TCP handshake' {
        BeforeEach {
            $script:key = New-NetworkKey
            $script:m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $m
            $script:proxy = [IpcTest.FrameProxy]::new($m.Address)
        }
        AfterEach { $proxy.Dispose() }

        It 'a bit flipped in a reply on its way to the client: the client gets a clear error, not the altered value' {
            $d = $m.Dict(); $d['k'] = 'v' * 100
            $id = ([IpcPs.IManagedProxy]$d).Reference.Id
            $proxy.FlipFromServerOver = 100    # the reply with the value
            $r = Invoke-Pwsh @"
`$null = Connect-IpcManager -Address '$($proxy.Address)' -AuthKey '$key'
`$d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new('$($proxy.Address)', $id, 'Dict', `$null))
$Why
try { 'VALUE ' + `$d.Get('k', 'none') } catch { Why `$_ }
"@
            $proxy.Altered | Should -BeGreaterThan 0
            $r.Lines[0] | Should -Be 'ERROR ManagerAuthenticationException' -Because ($r.Lines -join "`n")
            $r.Lines[1] | Should -Match 'failed its integrity check'
            $d['k'] | Should -Be ('v' * 100)
        }

        It 'a bit flipped in a request on its way to the manager: the manager does not run it and drops the connection' {
            $d = $m.Dict()
            $id = ([IpcPs.IManagedProxy]$d).Reference.Id
            $proxy.FlipFromClientOver = 100    # the request with the value
            $r = Invoke-Pwsh @"
`$null = Connect-IpcManager -Address '$($proxy.Address)' -AuthKey '$key'
`$d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new('$($proxy.Address)', $id, 'Dict', `$null))
$Why
try { `$d.Add('k2', 'w' * 100); 'DONE' } catch { Why `$_ }
"@
            $proxy.Altered | Should -BeGreaterThan 0
            $r.Lines[0] | Should -Be 'ERROR ConnectionClosedException' -Because ($r.Lines -join "`n")
            $d.ContainsKey('k2') | Should -BeFalse -Because 'the altered request was not run'
            $d['after'] = 1; $d['after'] | Should -Be 1 -Because 'only that connection was dropped'
        }

        It 'a request replayed by the man in the middle is not run twice: the connection is dropped' {
            $l = $m.List()
            $id = ([IpcPs.IManagedProxy]$l).Reference.Id
            $proxy.ReplayFromClientOver = 100  # the request with the value arrives twice
            $r = Invoke-Pwsh @"
`$null = Connect-IpcManager -Address '$($proxy.Address)' -AuthKey '$key'
`$l = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new('$($proxy.Address)', $id, 'List', `$null))
$Why
try { 'ADDED ' + `$l.Add('o' * 100) } catch { Why `$_ }
try { 'ITEMS ' + (`$l.ToArray() -join ',') } catch { Why `$_ }
"@
            $proxy.Altered | Should -BeGreaterThan 0
            $r.Lines[0] | Should -Be 'ADDED 0' -Because ($r.Lines -join "`n")
            $r.Lines[1] | Should -Be 'ERROR ConnectionClosedException' -Because 'the replay ended the connection the client was using'
            $l.ToArray() | Should -Be @('o' * 100) -Because 'the replayed request was not run a second time'
        }
    }

    It 'a TCP manager and Connect-IpcManager refuse a one-character key; the error says how to make a good one' {
        $e = try { Start-IpcManager -Address 127.0.0.1:0 -AuthKey 'k' } catch { $_ }
        if ($e -is [IpcPs.IpcManager]) { $script:managers += $e }
        $e.FullyQualifiedErrorId | Should -Match '^IpcInvalidArgument'
        $e.Exception.Message | Should -Match 'at least 16 bytes'
        $e.Exception.Message | Should -Match ([regex]::Escape('[Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))'))
        $key = New-NetworkKey
        $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $m
        $c = try { Connect-IpcManager -Address $m.Address -AuthKey 'k' } catch { $_ }
        $c.FullyQualifiedErrorId | Should -Match '^IpcInvalidArgument'
        $c.Exception.Message | Should -Match 'at least 16 bytes'
        (Connect-IpcManager -Address $m.Address -AuthKey $key).Pid | Should -Be $m.Pid
        $u = Start-IpcManager -AuthKey 'k'; $script:managers += $u     # a Unix socket: only this user can reach it
        $u.Dict().Count | Should -Be 0
    }

    It 'failed handshakes are throttled per address, and a client from another address is not held up' {
        $key = [Text.Encoding]::UTF8.GetBytes((New-NetworkKey))
        $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $m
        $hostName, $port = $m.Address -split ':'
        $wrong = [Security.Cryptography.RandomNumberGenerator]::GetBytes(32)
        function Connect-From([string] $From) {
            $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
            $s.Bind([Net.IPEndPoint]::new([Net.IPAddress]::Parse($From), 0))
            $s.Connect($hostName, [int]$port)
            [Net.Sockets.NetworkStream]::new($s, $true)
        }
        for ($i = 0; $i -lt 7; $i++) {            # seven guesses of the key from 127.0.0.1
            $s = Connect-From 127.0.0.1
            try { (Invoke-RawHandshake $s $wrong).Ok | Should -BeFalse } finally { $s.Dispose() }
        }
        # The next connection from 127.0.0.1 waits for its hello (4 s after 7 failures); one from 127.0.0.2 does not.
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $throttled = Connect-From 127.0.0.1
        $other = Connect-From 127.0.0.2
        try {
            Receive-Frame $other | Should -Not -BeNullOrEmpty
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 1.0 -Because 'another address is not held up by the failures of 127.0.0.1'
            Receive-Frame $throttled | Should -Not -BeNullOrEmpty
            $sw.Elapsed.TotalSeconds | Should -BeGreaterThan 2.5 -Because 'after seven failures, 127.0.0.1 waits 4 s for its next handshake'
        } finally { $throttled.Dispose(); $other.Dispose() }
        $c = Connect-RawAuthenticated $m.Address $key -From 127.0.0.2    # the key works from the other address
        $c.Stream.Dispose()
        $d = $m.Dict(); $d['k'] = 1; $d['k'] | Should -Be 1
    }

    It 'a second manager on a taken port fails with ManagerAddressInUse; the first keeps all its clients' {
        $key = New-NetworkKey
        $first = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $first
        $d = $first.Dict(); $d['k'] = 'first'
        $port = ($first.Address -split ':')[-1]
        foreach ($address in $first.Address, "0.0.0.0:$port") {
            $e = try { Start-IpcManager -Address $address -AuthKey (New-NetworkKey) } catch { $_ }
            if ($e -is [IpcPs.IpcManager]) { $script:managers += $e }
            $e.FullyQualifiedErrorId | Should -Match '^ManagerAddressInUse' -Because "the port of $address is taken"
            $e.Exception.Message | Should -Match ([regex]::Escape("'$address'"))
            $e.CategoryInfo.Category | Should -Be 'ResourceBusy'
        }
        $d['k'] | Should -Be 'first' -Because 'the existing client still reaches the first manager'
        for ($i = 0; $i -lt 20; $i++) {
            (Connect-IpcManager -Address $first.Address -AuthKey $key).Pid | Should -Be $first.Pid -Because 'every new connection reaches the first manager'
        }
        $r = Invoke-Pwsh "`$m = Connect-IpcManager -Address '$($first.Address)' -AuthKey '$key'; `$m.Pid; `$d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new('$($first.Address)', $(([IpcPs.IManagedProxy]$d).Reference.Id), 'Dict', `$null)); `$d['k']"
        $r.Lines | Should -Be @("$($first.Pid)", 'first') -Because ($r.Lines -join "`n")
    }

    It 'squatted manager folders (another user''s, mode 0777 or 0700, or a symlink) do not deny service and are never used' {
        $me = [int](& id -u)
        $base = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-squat')
        $null = New-Item -ItemType Directory $base
        $childEnv = @{ TMPDIR = $base }
        $pids = @()
        try {
            $squatted = Join-Path $base "ipcps-managers-$me"
            $elsewhere = Join-Path $base 'elsewhere'
            foreach ($case in 'open', 'private', 'symlink') {
                Remove-Item -Recurse -Force $squatted, $elsewhere -ErrorAction SilentlyContinue
                Get-ChildItem $base -Filter "ipcps-managers-$me-*" | Remove-Item -Recurse -Force
                $null = New-Item -ItemType Directory $elsewhere
                if ($case -eq 'symlink') {
                    chmod 700 $elsewhere                        # a private folder of ours, but reached through another user's symlink
                    $null = New-Item -ItemType SymbolicLink -Path $squatted -Target $elsewhere
                    chown -h 65534:65534 $squatted
                } else {
                    # Another user's folder, with a planted manager folder and key for the name.
                    $null = New-Item -ItemType Directory (Join-Path $squatted 'X')
                    [IO.File]::WriteAllBytes((Join-Path $squatted 'X/authkey'), [byte[]](1..32))
                    chown -R 65534:65534 $squatted
                    chmod $(if ($case -eq 'open') { '777' } else { '700' }) $squatted
                }
                # The folder a manager named X used before manager folders had a per-user parent: squatted too.
                $legacy = Join-Path $base 'ipcps-manager-X'
                if (-not (Test-Path $legacy)) { $null = New-Item -ItemType Directory $legacy; chown 65534:65534 $legacy; chmod 777 $legacy }
                $before = @(Get-ChildItem -Force -Recurse $squatted, $elsewhere, $legacy | ForEach-Object { "$($_.FullName) $($_.UnixMode) $($_.User) $($_.Length)" })
                $r = Invoke-Pwsh "`$m = Start-IpcManager -Name X -Detach; `$m.Pid; `$m.Directory; `$d = `$m.Dict(); `$d['k'] = 'v'" $childEnv
                $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
                $managerPid, $dir = $r.Lines[0], $r.Lines[1]
                $pids += $managerPid
                $dir | Should -Not -BeLike "$squatted/*" -Because "the squatted folder is not used ($case)"
                $dir | Should -Not -BeLike "$elsewhere/*"
                $parent = Split-Path $dir
                $parent | Should -BeLike "$squatted-*"
                stat -c '%u %a' $parent | Should -Be "$me 700"
                stat -c '%u %a' $dir | Should -Be "$me 700"
                # Another process of this user finds it by name, and stops it.
                $r = Invoke-Pwsh "`$m = Connect-IpcManager -Name X; `$m.Pid; `$m.Directory; Stop-IpcManager `$m" $childEnv
                $r.Lines | Should -Be @($managerPid, $dir) -Because ($r.Lines -join "`n")
                Wait-Until { -not (Test-ProcessAlive $managerPid) } -Because 'the manager was stopped'
                Test-Path $parent | Should -BeFalse -Because 'an emptied parent of ours is removed'
                @(Get-ChildItem -Force -Recurse $squatted, $elsewhere, $legacy | ForEach-Object { "$($_.FullName) $($_.UnixMode) $($_.User) $($_.Length)" }) |
                    Should -Be $before -Because "nothing was written into the squatted folder ($case)"
            }
        } finally {
            foreach ($p in $pids) { if ($p -and (Test-ProcessAlive $p)) { Stop-Process -Id $p -Force } }
            Remove-Item -Recurse -Force $base
        }
    }

    Context 'a hostile manager process (its stdout and stderr)' {
        BeforeAll {
            # A session (pwsh of its own, so that its allocations are the launcher's alone) starts a manager whose
            # initialization script writes MIB MiB in 1 MiB writes on stdout, a frame's head first if FRAME, then a line
            # end; it prints STARTED or the error id, the bytes allocated meanwhile, and ALIVE when it ends normally.
            function Invoke-HostileStart([int] $MiB, [bool] $Frame, [bool] $Spare, [hashtable] $Environment = @{}) {
                $head = if ($Frame) { '$o.Write([string][char]0x1e + ''IPCPS O '')' } else { '' }
                $warm = if ($Spare) { 'Start-IpcProcess { 1 } | Wait-IpcProcess | Receive-Job | Out-Null' } else { '' }
                Invoke-Pwsh @"
`$init = [scriptblock]::Create('`$o = [Console]::Out; $($head.Replace("'", "''")); `$chunk = [string]::new([char]''A'', 1MB); for (`$i = 0; `$i -lt $MiB; `$i++) { `$o.Write(`$chunk) }; `$o.WriteLine(); `$o.Flush()')
$warm
`$before = [GC]::GetTotalAllocatedBytes(`$true)
try { `$m = Start-IpcManager -NoSpare:`$$(-not $Spare) -InitializationScript `$init; 'STARTED' } catch { `$_.FullyQualifiedErrorId }
'ALLOCATED {0}' -f ([GC]::GetTotalAllocatedBytes(`$true) - `$before)
if (`$m) { Stop-IpcManager `$m }
'ALIVE'
"@ (@{ IPCPS_SPARES = $(if ($Spare) { '1' } else { '0' }) } + $Environment)
            }
        }

        It 'a manager that writes <What> on stdout costs the session that starts it about nothing (<How>)' -ForEach @(
            @{ What = 'a 32 MiB line shaped as a frame'; Frame = $true; How = 'cold'; Spare = $false }
            @{ What = 'a 32 MiB line shaped as a frame'; Frame = $true; How = 'from a warm spare'; Spare = $true }
            @{ What = '32 MiB of text'; Frame = $false; How = 'cold'; Spare = $false }
        ) {
            $r = Invoke-HostileStart 32 $Frame $Spare
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $r.Lines | Should -Contain 'STARTED' -Because ($r.Lines -join "`n")
            $allocated = [long](@($r.Lines -match '^ALLOCATED ')[0] -replace '^ALLOCATED ')
            # It held a frame's line whole (growing its buffer to 64 Mi characters) and made a string of every line or
            # 64 Ki piece. Now it looks at what it reads in place.
            $allocated | Should -BeLessThan 16MB -Because "the launcher only looks for its READY line; the manager wrote 32 MiB ($($r.Lines -join ' '))"
        }

        It 'a session whose GC heap is capped at 256 MB outlives a manager that writes a 60 MiB line shaped as a frame' {
            # Reading it whole ran out of memory on the launcher's reading thread, and an exception unhandled on a thread
            # ended the session (exit code 134).
            $r = Invoke-HostileStart 60 $true $false @{ DOTNET_GCHeapHardLimit = '0x10000000' }
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $r.Lines | Should -Contain 'ALIVE'
            $r.Lines | Should -Contain 'STARTED'
        }
    }
}
