BeforeAll {
    . $PSScriptRoot/Common.ps1

    function Test-ProcessAlive([int] $Id) { [bool](Get-Process -Id $Id -ErrorAction SilentlyContinue) }

    . $PSScriptRoot/ManagerWire.ps1     # the handshake and sealed frames done by hand
}

Describe 'Managers' {
    AfterEach {
        foreach ($m in @($script:managers)) { if ($m) { try { Stop-IpcManager $m -ErrorAction SilentlyContinue } catch { } } }
        $script:managers = @()
        Get-Job | Where-Object { $_ -is [IpcPs.Hosting.IpcProcessJob] } | Remove-Job -Force
    }
    BeforeEach { $script:managers = @() }

    Context 'proxies' {
        BeforeAll { $script:shared = Start-IpcManager }
        AfterAll { Stop-IpcManager $script:shared }

        It 'a managed dict feels like a hashtable: indexer, Keys, Values, Count, ContainsKey, Remove, enumeration, display' -Tag 'Windows' {
            $d = $shared.Dict(@{ a = 1 })
            $d['b'] = 'two'
            $d[3] = @(1, 2)
            $d['A'] | Should -Be 1 -Because 'string keys ignore case, as in @{}'
            $d['missing'] | Should -BeNullOrEmpty
            $d.Count | Should -Be 3
            $d.Keys | Should -Be @('a', 'b', 3)
            $d.Values[1] | Should -Be 'two'
            $d.ContainsKey('b') | Should -BeTrue
            $d.Remove('b') | Should -BeTrue
            $d.Remove('b') | Should -BeFalse
            @($d.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value -join '+')" }) | Should -Be @('a=1', '3=1+2')
            $d.SetDefault('c', 5) | Should -Be 5
            $d.SetDefault('c', 6) | Should -Be 5
            $d.Pop('c') | Should -Be 5
            $d.Get('c', 'none') | Should -Be 'none'
            ($d | Out-String) | Should -Match '(?m)^Name\s+Value'
            $d.ToString() | Should -Be "{'a': 1, 3: [1, 2]}"
            $d.Update(@{ z = $true }); $d['z'] | Should -BeTrue
            { $d.Add('a', 9) } | Should -Throw '*already in the dict*'
            $d.dotted = 'set by member'
            $d['dotted'] | Should -Be 'set by member'
            $d.a | Should -Be 1
            1..4 | ForEach-Object -Parallel { ($using:d)["par$_"] = $_ } -ThrottleLimit 4
            @($d.Keys -like 'par*').Count | Should -Be 4 -Because 'threads of this process share its connection'
        }

        It 'a managed list: indexer (negative from the end), Add, Insert, Remove, Reverse, Count, enumeration' -Tag 'Windows' {
            $l = $shared.List(@(1, 2, 3))
            $l.Add(4) | Should -Be 3
            $l.Insert(0, 0)
            $l[-1] | Should -Be 4
            $l[1] = 'one'
            $l.Remove(2) | Should -BeTrue
            $l.Count | Should -Be 4
            @($l) | Should -Be @(0, 'one', 3, 4)
            $l.Reverse()
            $l.ToArray() | Should -Be @(4, 3, 'one', 0)
            $l.Pop() | Should -Be 0
            $l.Contains('one') | Should -BeTrue
            $l.IndexOf(3) | Should -Be 1
            $e = Get-ThrownException { $l.RemoveAt(10) }
            $e | Should -BeOfType ([IpcPs.ManagerRemoteException])
            $e.Message | Should -Match 'outside the list of 3 items'
            $e.RemoteType | Should -Be 'System.ArgumentOutOfRangeException'
        }

        It 'a managed namespace has dynamic properties; an unknown one is an error' {
            $ns = $shared.Namespace()
            $ns.x = 1
            $ns.Name = 'n'
            $ns.x | Should -Be 1
            $ns.ToString() | Should -Be "Namespace(x=1, Name='n')"
            (Get-ThrownException { $ns.nothere }).Message | Should -Match "no attribute 'nothere'"
        }

        It 'queue, joinable queue, locks, event, semaphores, condition, barrier, value and array are shared objects the manager owns' {
            $q = $shared.Queue(); $q | Should -BeOfType ([IpcPs.IpcQueue])
            $q.Put('x'); $q.Get() | Should -Be 'x'
            $jq = $shared.JoinableQueue(); $jq.Put(1); $null = $jq.Get(); $jq.TaskDone(); $jq.Join()
            $shared.Lock().Acquire() | Should -BeTrue
            $r = $shared.RLock(); $r.Acquire() | Should -BeTrue; $r.Acquire() | Should -BeTrue
            $ev = $shared.Event(); $ev.Set(); $ev.IsSet() | Should -BeTrue
            $shared.Semaphore(2).Acquire() | Should -BeTrue
            $shared.BoundedSemaphore(1) | Should -BeOfType ([IpcPs.IpcSemaphore])
            $shared.Condition() | Should -BeOfType ([IpcPs.IpcCondition])
            $shared.Barrier(1).Wait() | Should -Be 0
            $v = $shared.Value('d', 1.5); $v.Value | Should -Be 1.5
            $a = $shared.Array('i', @(1, 2, 3)); $a.ToArray() | Should -Be @(1, 2, 3)
            $shared.Array('i', 4).Length | Should -Be 4
            Start-IpcProcess -ArgumentList $q, $v { param($q, $v) $q.Put("from $PID"); $v.Value = 2.5 } | Wait-IpcProcess -PassThru | Remove-Job
            $q.Get() | Should -Match '^from \d+'
            $v.Value | Should -Be 2.5
        }

        It 'a proxy stored in a dict or a list stays a proxy, also in a child process' {
            $d = $shared.Dict()
            $inner = $shared.List(@('a'))
            $d['list'] = $inner
            $outer = $shared.List()
            $null = $outer.Add($shared.Dict(@{ k = 'v' }))
            $d['list'] -is [IpcPs.ManagedList] | Should -BeTrue
            $d['list'].Add('b') | Should -Be 1
            $inner.ToArray() | Should -Be @('a', 'b')
            $outer[0]['k'] | Should -Be 'v'
            Start-IpcProcess -ArgumentList $d, $outer { param($d, $outer) $null = $d['list'].Add('c'); $outer[0]['k'] = 'child' } | Wait-IpcProcess -PassThru | Remove-Job
            $inner.ToArray() | Should -Be @('a', 'b', 'c')
            $outer[0]['k'] | Should -Be 'child'
        }

        It 'a manager passed to a child process reconnects there and creates objects' -Tag 'Windows' {
            $d = $shared.Dict()
            $job = Start-IpcProcess -ArgumentList $shared, $d { param($m, $d) $l = $m.List(@(7)); $d['made'] = $l; $m.Pid }
            $out = $job | Wait-IpcProcess -PassThru | Receive-Job
            $job | Remove-Job
            $out | Should -Be $shared.Pid
            $d['made'].ToArray() | Should -Be @(7)
        }

        It 'a message of proxies that cannot be delivered leaves this process''s one connection to their manager as it was; the same proxies delivered work on it' {
            # This process's sockets (its connection to the manager among them), by inode: a proxy holds none of its
            # own, so a failed decode has nothing to close, and must not close the shared one.
            function Get-SocketInode { @(Get-ChildItem /proc/$PID/fd | ForEach-Object { "$($_.LinkTarget)" } | Where-Object { $_ -like 'socket:*' } | Sort-Object) }
            $d = $shared.Dict(@{ a = 1 })
            $l = $shared.List(@(1, 2))
            $managerPid = $shared.Pid
            $q = New-IpcQueue (New-TestName)
            $gone = New-IpcEvent (New-TestName)
            try {
                $q.Put(@($d, $l, $shared, $gone))
                Remove-IpcObject -InputObject $gone -Confirm:$false
                $sockets = Get-SocketInode
                $e = Get-ThrownException { $q.Get() }
                $e | Should -BeOfType ([IpcPs.MessageFormatException])
                $e.InnerException | Should -BeOfType ([IpcPs.IpcObjectNotFoundException])
                Get-SocketInode | Should -Be $sockets -Because 'the decode made no connection for its proxies and closed none'
                $d['a'] = 2                      # on the connection it had before
                Get-SocketInode | Should -Be $sockets
                $q.Put(@($d, $l, $shared))
                $r = $q.Get()
                $r[0] | Should -BeOfType ([IpcPs.ManagedDict])
                $r[0]['a'] | Should -Be 2
                $r[1].ToArray() | Should -Be @(1, 2)
                $r[2].Pid | Should -Be $managerPid
                Get-SocketInode | Should -Be $sockets -Because 'the proxies received call through this process''s one connection'
            } finally { $q.Close(); $gone.Close() }
        }
    }

    Context 'custom types' {
        It 'a PowerShell class from -InitializationScript and a .NET type; only exposed members can be called' {
            $init = {
                class Counter {
                    [int] $N
                    [int] Add([int] $by) { $this.N += $by; return $this.N }
                    [string] Fail() { throw 'boom in the manager' }
                    hidden [void] Secret() { }
                }
            }
            $m = Start-IpcManager -InitializationScript $init -Register @{
                Counter = 'Counter'
                Builder = @{ Type = [System.Text.StringBuilder]; Exposed = 'Append', 'ToString' }
            }
            $script:managers += $m
            $m.TypeIds | Sort-Object | Should -Be @('Builder', 'Counter')
            $c = $m.Counter()
            $c.Add(2) | Should -Be 2
            Start-IpcProcess -ArgumentList $c { param($c) $c.Add(3) } | Wait-IpcProcess -PassThru | Remove-Job
            $c.Add(0) | Should -Be 5
            $e = Get-ThrownException { $c.Fail() }
            $e | Should -BeOfType ([IpcPs.ManagerRemoteException])
            $e.Message | Should -Match 'boom in the manager'
            (Get-ThrownException { $c.Secret() }).Message | Should -Match "does not expose 'Secret'"
            (Get-ThrownException { $c.GetType().Name; $c.Nope() }).Message | Should -Match "does not expose 'Nope'"
            $b = $m.Builder('x')
            $null = $b.Append('y')
            $b.Invoke('ToString') | Should -Be 'xy'
            (Get-ThrownException { $b.Clear() }).Message | Should -Match "does not expose 'Clear'"
        }

        It 'a manager whose initialization fails, or that registers an unknown type, fails to start with the reason' {
            $id = Get-ErrorId { Start-IpcManager -InitializationScript { throw 'init broke' } }
            $id | Should -Match '^ManagerStartFailed'
            try { Start-IpcManager -Register @{ X = 'No.Such.Type' } } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Match '^ManagerStartFailed'
            $err.Exception.Message | Should -Match 'No.Such.Type'
            Get-ErrorId { Start-IpcManager -Register @{ 'bad id' = 'int' } } | Should -Match '^IpcInvalidArgument'
        }
    }

    Context 'concurrency' {
        It '4 child processes each add 1,000 entries to one dict and append 1,000 items to one list: nothing is lost' -Tag 'Windows' {
            $m = Start-IpcManager; $script:managers += $m
            $d = $m.Dict(); $l = $m.List()
            $jobs = 0..3 | ForEach-Object {
                Start-IpcProcess -ArgumentList $d, $l, $_ {
                    param($d, $l, [int] $w)
                    for ($i = 0; $i -lt 1000; $i++) { $d["$w-$i"] = $i; $null = $l.Add("$w-$i") }
                }
            }
            $jobs | Wait-IpcProcess -PassThru | ForEach-Object { $_.ExitCode | Should -Be 0 }
            $jobs | Remove-Job
            $d.Count | Should -Be 4000
            $l.Count | Should -Be 4000
            $items = $l.ToArray()
            @($items | Sort-Object -Unique).Count | Should -Be 4000
            foreach ($w in 0..3) {
                $d["$w-999"] | Should -Be 999
                @($items -like "$w-*") | Should -Be @(0..999 | ForEach-Object { "$w-$_" }) -Because 'each worker''s appends keep their order'
            }
        }
    }

    Context 'network and security' {
        It 'a second pwsh connects over TCP 127.0.0.1 with the key and uses a dict; a wrong key is refused' {
            $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey 'tcp-test-key-0123456789'; $script:managers += $m
            $m.Address | Should -Match '^127\.0\.0\.1:\d+$'
            $d = $m.Dict(); $d['from-parent'] = 1
            $id = ([IpcPs.IManagedProxy]$d).Reference.Id
            $r = Invoke-Pwsh "`$m = Connect-IpcManager -Address '$($m.Address)' -AuthKey 'tcp-test-key-0123456789'; `$n = `$m.Namespace(); `$m.Pid"
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $r.Lines[-1] | Should -Be "$($m.Pid)"
            $script = {
                param($address, $id)
                $m = Connect-IpcManager -Address $address -AuthKey 'tcp-test-key-0123456789'
                $ref = [IpcPs.ManagerReference]::new($address, $id, 'Dict', $null)   # the reference a proxy carries
                $d = [IpcPs.IpcManager]::FromReference($ref)
                $d['from-child'] = $d['from-parent'] + 1
                $d.Count
            }
            $r = Invoke-Pwsh "& { $script } '$($m.Address)' $id"
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $r.Lines[-1] | Should -Be '2'
            $d['from-child'] | Should -Be 2
            $r = Invoke-Pwsh "try { Connect-IpcManager -Address '$($m.Address)' -AuthKey 'wrong-key-0123456789' } catch { `$_.FullyQualifiedErrorId; `$_.Exception.GetType().FullName }"
            $r.Lines[0] | Should -Match '^ManagerAuthenticationFailed'
            $r.Lines[1] | Should -Be 'IpcPs.ManagerAuthenticationException'
            $d.Count | Should -Be 2 -Because 'the refused peer changed nothing'
        }

        It 'a proxy of a manager known by address and key only works in a child process and in pool workers, which inherit the key' {
            $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey 'inherited-key-0123456789'; $script:managers += $m
            $id = ([IpcPs.IManagedProxy]$m.Dict()).Reference.Id
            $null = Connect-IpcManager -Address $m.Address -AuthKey 'inherited-key-0123456789'
            # A proxy as it arrives from another machine: an address and an id, no directory with a key file.
            $d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new($m.Address, $id, 'Dict', $null))
            Start-IpcProcess -ArgumentList $d { param($d) $d['child'] = 'set' } | Wait-Job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
            $d['child'] | Should -Be 'set'
            # The workers' initialization script runs before any item: it has the keys too.
            $init = [scriptblock]::Create("`$d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new('$($m.Address)', $id, 'Dict', `$null)); `$d[""init`$PID""] = 1")
            $out = 1..4 | Invoke-IpcPool -ThrottleLimit 2 -InitializationScript $init -ArgumentList $d { param($d) $d["item$_"] = $_; $_ } -ErrorAction Stop
            ($out | Sort-Object) -join ',' | Should -Be '1,2,3,4'
            @($d.Keys | Where-Object { $_ -like 'init*' }).Count | Should -Be 2
            $d.Count | Should -Be 7
        }

        It 'random bytes from raw sockets (300 tries), garbage and truncated frames after authentication, and a client dying mid-call leave the server serving' {
            $key = [byte[]](1..32)
            $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $m
            $d = $m.Dict(); $d['alive'] = 0
            $hostName, $port = $m.Address -split ':'
            $rng = [Random]::new(6)
            for ($try = 0; $try -lt 300; $try++) {
                $client = [Net.Sockets.TcpClient]::new($hostName, [int]$port)
                try {
                    $bytes = [byte[]]::new($rng.Next(1, 2048)); $rng.NextBytes($bytes)
                    if ($try % 3 -eq 0) { [BitConverter]::GetBytes([int]$rng.Next(0, 64)).CopyTo($bytes, 0) }   # a plausible length, then junk
                    try { $client.GetStream().Write($bytes, 0, $bytes.Length) } catch [System.IO.IOException] { }
                } finally { $client.Dispose() }
                if ($try % 50 -eq 0) { $d['alive'] = $try }
            }
            $d['alive'] | Should -Be 250
            # authenticated, then frames that are not requests (with valid tags) or that have no valid tag: each drops
            # only its own connection
            foreach ($payload in @([byte[]](0xFF, 1, 2), [byte[]](0x0A), [byte[]]::new(0))) {
                $c = Connect-RawAuthenticated $m.Address $key
                Send-SealedFrame $c $payload
                Receive-Frame $c.Stream | Should -BeNullOrEmpty -Because 'the server drops a peer that sends garbage'
                $c.Stream.Dispose()
                $c = Connect-RawAuthenticated $m.Address $key
                Send-Frame $c.Stream ([byte[]]($payload + [byte[]]::new(16)))
                Receive-Frame $c.Stream | Should -BeNullOrEmpty -Because 'the server drops a frame whose tag is wrong'
                $c.Stream.Dispose()
            }
            $c = Connect-RawAuthenticated $m.Address $key        # a frame that claims more than the limit
            $c.Stream.Write([BitConverter]::GetBytes([int]::MaxValue), 0, 4)
            Receive-Frame $c.Stream | Should -BeNullOrEmpty
            $c.Stream.Dispose()
            $c = Connect-RawAuthenticated $m.Address $key        # a truncated frame, then the client goes away
            $c.Stream.Write([BitConverter]::GetBytes([int]100), 0, 4); $c.Stream.Write([byte[]](1, 2, 3), 0, 3)
            $c.Stream.Dispose()
            # a client process killed while it calls in a loop
            $job = Start-IpcProcess -ArgumentList $d { param($d) $d['looping'] = $true; while ($true) { $d['spin'] = $d['spin'] + 1 } }
            Wait-Until { $d['looping'] } -Because 'the child calls the manager'
            Stop-IpcProcess $job -Force; $job | Wait-IpcProcess -PassThru | Remove-Job
            $d['alive'] = 'still'
            $d['alive'] | Should -Be 'still'
            (Connect-IpcManager -Address $m.Address -AuthKey $key).Pid | Should -Be $m.Pid
        }

        It 'a flood of silent connections fills the 128 handshake slots and the 16 reserve ones, yet a client with the key gets in at once' {
            $key = [byte[]](1..32)
            $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key; $script:managers += $m
            $d = $m.Dict(); $d['k'] = 1                      # this process's connection is made before the flood
            $hostName, $port = $m.Address -split ':'
            $silent = [Collections.Generic.List[Net.Sockets.Socket]]::new()
            try {
                $flood = [Diagnostics.Stopwatch]::StartNew()
                for ($i = 0; $i -lt 200; $i++) {             # 128 main slots, 16 reserve slots, 56 more
                    $s = [Net.Sockets.Socket]::new([Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
                    $silent.Add($s); $s.Connect($hostName, [int]$port)
                }
                # Each connection gets its hello (read and noted here); one the server dropped then reads as closed.
                $state = @{}
                $update = {
                    foreach ($s in $silent) {
                        if ($s.Available -gt 0) { $null = $s.Receive([byte[]]::new($s.Available)); if (-not $state.Contains($s)) { $state[$s] = 'greeted' } }
                        if ($s.Poll(0, [Net.Sockets.SelectMode]::SelectRead) -and $s.Available -eq 0) { $state[$s] = 'closed' }
                    }
                }
                Wait-Until { & $update; $state.Count -ge 200 } -Because 'every connection gets its hello or is closed'
                $flood.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'every connection was accepted at once: a full gate does not stop the accept loop'
                $sw = [Diagnostics.Stopwatch]::StartNew()
                (Connect-IpcManager -Address $m.Address -AuthKey $key).Pid | Should -Be $m.Pid
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 2 -Because 'a client with the key takes a reserve slot from the oldest silent one in the reserve'
                $d['k'] = 2                                  # an authenticated connection is not affected
                $d['k'] | Should -Be 2
                & $update
                @($state.Values -eq 'closed').Count | Should -BeGreaterOrEqual 56 -Because 'past 144 in the handshake, the oldest reserve holder is dropped for each newcomer'
                @($silent[0..127] | Where-Object { $state[$_] -eq 'closed' }).Count | Should -Be 0 -Because 'the main slots keep their holders until their 10 s deadline'
            } finally { foreach ($s in $silent) { $s.Dispose() } }
            Wait-Until { try { (Connect-IpcManager -Address $m.Address -AuthKey $key).Pid -eq $m.Pid } catch { $false } } -Because 'the slots are free once the silent peers have gone'
        }

        It 'a result too big for one frame is an error for that call, not a dropped connection' {
            $m = Start-IpcManager; $script:managers += $m
            $l = $m.List()
            $big = 'x' * 34MB                   # each fits in a frame; the two together (as UTF-8) do not
            $null = $l.Add($big); $null = $l.Add($big); $big = $null
            $e = Get-ThrownException { $null = $l.ToArray() }
            $e | Should -BeOfType ([IpcPs.ManagerRemoteException])
            $e.Message | Should -Match 'cannot be sent back'
            $l.Count | Should -Be 2
            $null = $l.Pop()
            $l.ToArray().Count | Should -Be 1
        }

        It 'a proxy whose manager hangs in the handshake does not hold up proxies of another manager in the same process' {
            $m = Start-IpcManager; $script:managers += $m
            $d = $m.Dict(); $d['k'] = 'v'
            $silent = New-SilentManager   # a proxy to it blocks in the handshake
            $ps = $null; $peer = $null
            try {
                $ps = [powershell]::Create().AddScript({ param($f) try { $f.Pid } catch { 'failed' } }).AddArgument($silent.Manager)
                $pending = $ps.BeginInvoke()
                $accept = $silent.Listener.AcceptAsync()
                if (-not $accept.Wait(30000)) { throw "The proxy never connected: $($ps.EndInvoke($pending))" }
                $peer = $accept.Result           # the other thread is now in the handshake with the silent peer
                $m.Dispose()                     # this process's connection to the real manager: the next call makes a new one
                $d['k'] | Should -Be 'v'
                $pending.IsCompleted | Should -BeFalse -Because 'the silent peer still holds the first call'
            } finally {
                if ($peer) { $peer.Dispose() }
                if ($ps) { $null = $ps.EndInvoke($pending); $ps.Dispose() }
                Remove-SilentManager $silent
            }
        }

        It 'an unauthenticated peer that trickles its handshake a byte at a time is dropped at the handshake deadline' {
            $m = Start-IpcManager -Address 127.0.0.1:0; $script:managers += $m
            $hostName, $port = $m.Address -split ':'
            $client = [Net.Sockets.TcpClient]::new($hostName, [int]$port)
            try {
                $s = $client.GetStream()
                $null = Receive-Frame $s                                   # the hello
                $s.Write([BitConverter]::GetBytes([int]1000), 0, 4)        # a 1,000-byte answer, sent a byte per poll
                $closed = $false
                for ($i = 0; $i -lt 60 -and -not $closed; $i++) {
                    try { $s.Write([byte[]]@(0), 0, 1) } catch { $closed = $true; break }
                    $closed = $client.Client.Poll(500000, [Net.Sockets.SelectMode]::SelectRead)   # readable with nothing sent to us: closed
                }
                $closed | Should -BeTrue -Because 'the 10 s handshake limit is for the whole handshake, not for each byte'
                $d = $m.Dict(); $d['k'] = 1; $d['k'] | Should -Be 1
            } finally { $client.Dispose() }
        }

        It 'an unauthenticated peer can call nothing: a request sent instead of the handshake changes nothing' {
            $m = Start-IpcManager -Address 127.0.0.1:0; $script:managers += $m
            $d = $m.Dict(); $d['k'] = 'v'
            $hostName, $port = $m.Address -split ':'
            $client = [Net.Sockets.TcpClient]::new($hostName, [int]$port)
            $s = $client.GetStream()
            $null = Receive-Frame $s
            Send-Frame $s ([byte[]]::new(64))                   # a challenge and a wrong proof
            [Text.Encoding]::ASCII.GetString((Receive-Frame $s)) | Should -Be 'FAIL'
            Receive-Frame $s | Should -BeNullOrEmpty
            $client.Dispose()
            $d['k'] | Should -Be 'v'
        }

        It 'Connect-IpcManager -Name finds a named manager of this user and reads its key file' {
            $name = New-TestName 'mgr'
            $m = Start-IpcManager -Name $name; $script:managers += $m
            $parent = [IO.Path]::Combine([IO.Path]::GetTempPath(), "ipcps-managers-$(& id -u)")
            $m.Address | Should -Be "unix:$([IO.Path]::Combine($parent, $name, 'socket'))"
            (Get-Item $parent).UnixMode | Should -Be 'drwx------'
            (Get-Item $m.Directory).UnixMode | Should -Be 'drwx------'
            (Get-Item (Join-Path $m.Directory authkey)).UnixMode | Should -Be '-rw-------'
            $r = Invoke-Pwsh "(Connect-IpcManager -Name '$name').Pid; (Connect-IpcManager '$name').Pid"
            $r.Lines[-2] | Should -Be "$($m.Pid)"
            $r.Lines[-1] | Should -Be "$($m.Pid)" -Because 'an argument without a colon is a name, not an address'
            Get-ErrorId { Start-IpcManager -Name $name } | Should -Match '^IpcObjectExists'
            Get-ErrorId { Connect-IpcManager -Address 127.0.0.1:1 -AuthKey 'long-enough-key-0123' } | Should -Match '^ConnectionClosed'
        }

        It 'Connect-IpcManager -Name uses the key file of the manager running now, not a key remembered from an earlier manager of that name' {
            $name = New-TestName 'mgr'
            $first = Start-IpcManager -Name $name
            Stop-IpcManager $first          # this session still remembers the first manager's key for the address
            $r = Invoke-Pwsh "`$d = Start-IpcManager -Name '$name' -Detach; `$d.Pid"
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $otherPid = [int]$r.Lines[-1]
            try {
                $m = Connect-IpcManager -Name $name -ErrorAction Stop
                $m.Pid | Should -Be $otherPid
                $d = $m.Dict(); $d['k'] = 'v'; $d['k'] | Should -Be 'v'
                Stop-IpcManager $m
                Wait-Until { -not (Test-ProcessAlive $otherPid) } -Because 'the detached manager was shut down'
            } finally {
                if (Test-ProcessAlive $otherPid) { Stop-Process -Id $otherPid -Force }
                Remove-Item -Recurse -Force ([IO.Path]::Combine([IO.Path]::GetTempPath(), "ipcps-managers-$(& id -u)", $name)) -ErrorAction SilentlyContinue
            }
        }
    }

    Context 'lifetime and clean-up' {
        It 'Stop-IpcManager leaves no process, nothing in /dev/shm and no socket directory' {
            $m = Start-IpcManager
            $serverPid = $m.Pid
            $names = @($m.Queue().Name, $m.Lock().Name, $m.Event().Name, $m.Value('i', 1).Name, $m.Array('d', 3).Name)
            $null = $m.Dict(); $null = $m.List()
            $dir = $m.Directory
            Test-Path (Join-Path $dir socket) | Should -BeTrue
            Stop-IpcManager $m -WhatIf
            Test-ProcessAlive $serverPid | Should -BeTrue
            Stop-IpcManager $m
            Test-ProcessAlive $serverPid | Should -BeFalse
            Test-Path $dir | Should -BeFalse
            Stop-IpcManager $m -ErrorAction Stop    # a second stop of a manager this session stopped: nothing to do
            foreach ($n in $names) { Test-Path "/dev/shm/$n" | Should -BeFalse; Get-IpcObject -Name $n -ErrorAction SilentlyContinue | Should -BeNullOrEmpty }
            @(Get-ChildItem /dev/shm -Filter "$($names[3]).lock*" -ErrorAction SilentlyContinue).Count | Should -Be 0
            Get-ErrorId { $null = $m.Dict() } | Should -Match '^ConnectionClosed|ConnectionClosedException'
        }

        It 'a manager sent SIGTERM shuts down as Stop-IpcManager would: its objects and its directory go with it' {
            $m = Start-IpcManager
            $serverPid = $m.Pid
            $names = @($m.Queue().Name, $m.Value('i', 1).Name)
            $d = $m.Dict(); $d['k'] = 1
            $dir = $m.Directory
            kill -TERM $serverPid
            Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'SIGTERM ends the manager'
            Test-Path $dir | Should -BeFalse
            foreach ($n in $names) { Test-Path "/dev/shm/$n" | Should -BeFalse }
            @(Get-ChildItem /dev/shm -Filter "$($names[1]).lock*" -ErrorAction SilentlyContinue).Count | Should -Be 0
            # A method, not the indexer: outside strict mode PowerShell turns an indexer's exception into $null.
            Get-ErrorId { $d.ContainsKey('k') } | Should -Match '^ConnectionClosed|ConnectionClosedException'
            Stop-IpcManager $m -ErrorAction Stop    # a manager that has gone: nothing left to do
        }

        It 'Use-IpcManager streams the block''s output while the manager runs, and its errors into -ErrorVariable' {
            $alive = [Collections.Generic.List[bool]]::new()
            $ErrorActionPreference = 'Continue'   # Pester makes errors in a test terminating
            Use-IpcManager { param($m) $m.Pid; Write-Error 'soft' } -ErrorVariable ev -ErrorAction SilentlyContinue |
                ForEach-Object { $alive.Add((Test-ProcessAlive $_)); $script:managerPid = $_ }
            $alive | Should -Be @($true)
            $ev.Count | Should -Be 1
            Test-ProcessAlive $script:managerPid | Should -BeFalse
        }

        It 'Use-IpcManager shuts down after the block, after an error in it, and when it is stopped' {
            $info = Use-IpcManager { param($m) $null = $m.Queue(); [pscustomobject]@{ Pid = $m.Pid; Dir = $m.Directory; Q = $m.Queue().Name } }
            Test-ProcessAlive $info.Pid | Should -BeFalse
            Test-Path $info.Dir | Should -BeFalse
            Test-Path "/dev/shm/$($info.Q)" | Should -BeFalse

            $seen = @{}
            { Use-IpcManager -ArgumentList $seen { param($m, $seen) $seen.Pid = $m.Pid; $seen.Dir = $m.Directory; throw 'inside' } } | Should -Throw '*inside*'
            Test-ProcessAlive $seen.Pid | Should -BeFalse
            Test-Path $seen.Dir | Should -BeFalse

            $ready = New-IpcEvent
            $stoppable = Start-Stoppable { param($ready, $seen) Use-IpcManager -ArgumentList $ready, $seen { param($m, $ready, $seen) $seen.Pid = $m.Pid; $seen.Dir = $m.Directory; $ready.Set(); while ($true) { Start-Sleep -Milliseconds 50 } } } @($ready, $seen)
            try {
                $ready.Wait(60) | Should -BeTrue
                $stoppable.PowerShell.Stop()
            } finally { $stoppable.PowerShell.Dispose(); $ready.Close() }
            Test-ProcessAlive $seen.Pid | Should -BeFalse
            Test-Path $seen.Dir | Should -BeFalse
        }

        It 'a manager stops when the session that started it ends; a detached one does not' {
            $r = Invoke-Pwsh "`$m = Start-IpcManager; `$m.Pid; `$m.Directory; `$d = Start-IpcManager -Detach -AuthKey 'detached'; `$d.Address; `$d.Pid; `$d.Directory"
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $serverPid, $dir, $detachedAddress, $detachedPid, $detachedDir = $r.Lines[-5..-1]
            Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the manager sees its session end'
            Test-Path $dir | Should -BeFalse
            try {
                Test-ProcessAlive $detachedPid | Should -BeTrue
                $d = Connect-IpcManager -Address $detachedAddress -AuthKey 'detached'
                Stop-IpcManager $d
                Wait-Until { -not (Test-ProcessAlive $detachedPid) } -Because 'the detached manager was shut down'
                Wait-Until { -not (Test-Path $detachedDir) } -Because 'the manager removes its directory'
            } finally {
                if (Test-ProcessAlive $detachedPid) { Stop-Process -Id $detachedPid -Force; Remove-Item -Recurse -Force $detachedDir -ErrorAction SilentlyContinue }
            }
        }

        It 'a manager whose pipeline thread is stuck in a custom method still ends when its session ends' {
            $script = @"
Import-Module '$env:IPCPS_MODULE_PATH'
`$m = Start-IpcManager -InitializationScript { class Blocker { [void] Block() { [Threading.Thread]::Sleep(-1) } } } -Register @{ Blocker = 'Blocker' }
`$b = `$m.Blocker()
[Console]::Out.WriteLine("`$(`$m.Pid) `$(`$m.Directory)"); [Console]::Out.Flush()
`$b.Block()
"@
            $si = New-PwshStartInfo '-NoProfile', '-NonInteractive', '-EncodedCommand', ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
            $si.RedirectStandardOutput = $true
            $session = [Diagnostics.Process]::Start($si)
            $serverPid = 0
            try {
                $line = $session.StandardOutput.ReadLine()
                $line | Should -Match '^\d+ '
                $serverPid, $dir = $line -split ' ', 2
                $session.Kill(); $session.WaitForExit()       # the session ends while the manager runs Block() for it
                Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the manager exits once its session has gone, busy pipeline or not'
                Test-Path $dir | Should -BeFalse
            } finally {
                if (-not $session.HasExited) { $session.Kill(); $session.WaitForExit() }
                $session.Dispose()
                if ($serverPid -and (Test-ProcessAlive $serverPid)) { Stop-Process -Id $serverPid -Force }
            }
        }
    }
}

Describe 'Manager key files' {
    It 'takes no key from a manager folder others may enter, and finds no manager there' {
        $name = New-TestName 'pose'
        $parent = Join-Path ([IO.Path]::GetTempPath()) "ipcps-managers-$(& id -u)"
        $madeParent = -not (Test-Path $parent)
        if ($madeParent) { $null = New-Item -ItemType Directory $parent; chmod 700 $parent }
        $dir = Join-Path $parent $name
        $null = New-Item -ItemType Directory $dir
        try {
            [IO.File]::WriteAllBytes((Join-Path $dir 'authkey'), [byte[]](1..32))
            chmod 755 $dir
            Get-ErrorId { Connect-IpcManager -Name $name } | Should -Match '^IpcObjectNotFound' -Because 'a 0755 folder is not a manager folder of ours'
            $d = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new("unix:$dir/socket", 1, 'Dict', $dir))
            (Get-ThrownException { $d.ContainsKey('k') }).Message | Should -Match 'not a private folder of this user'
            chmod 700 $dir
            Get-ErrorId { Connect-IpcManager -Name $name } | Should -Match '^ConnectionClosed' -Because 'a private folder gives its key (there is no socket to reach here)'
        } finally {
            Remove-Item -Recurse -Force $dir
            if ($madeParent) { Remove-Item $parent -ErrorAction SilentlyContinue }
        }
    }
}
