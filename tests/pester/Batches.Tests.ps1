BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'Batches: order across processes' {
    It 'PutMany in a child, GetMany here: FIFO order, mixed with single puts, and GetMany takes at most MAX' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        try {
            Invoke-Child { param($q) $q.Put('first'); $q.PutMany(@(1..500)); $q.Put('middle'); $q.PutMany([Collections.Generic.List[object]]@('x', 'y')) } $q
            $q.QSize() | Should -Be 504
            $a = $q.GetMany(300)
            $a.GetType() | Should -Be ([object[]])
            $a.Count | Should -Be 300
            $b = $q.GetMany(1000)
            @($a) + @($b) | Should -Be (@('first') + @(1..500) + @('middle', 'x', 'y'))
            $q.GetMany(10, 0.05).Count | Should -Be 0   # nothing in time: an empty array
        } finally { $q.Close() }
    }

    It 'LIFO: a batch comes out as after single puts, last first' {
        $q = New-IpcQueue (New-TestName) -Order Lifo
        try {
            Invoke-Child { param($q) $q.Put('a'); $q.PutMany(@('b', 'c', 'd')) } $q
            $q.GetMany(10) | Should -Be @('d', 'c', 'b', 'a')
        } finally { $q.Close() }
    }

    It 'priority: a batch joins its priority in order, lowest priority first, ties in arrival order' {
        $q = New-IpcQueue (New-TestName) -Order Priority
        try {
            Invoke-Child {
                param($q)
                $q.PutWithPriority('p5', 5); $q.PutManyWithPriority(@('b1', 'b2', 'b3'), 2); $q.PutWithPriority('p2', 2); $q.PutManyWithPriority(@('z1', 'z2'), -1)
            } $q
            $q.GetMany(100) | Should -Be @('z1', 'z2', 'b1', 'b2', 'b3', 'p2', 'p5')
            Get-ThrownException { (New-IpcQueue (New-TestName)).PutManyWithPriority(@(1), 1) } | Should -BeOfType ([InvalidOperationException])
        } finally { $q.Close() }
    }

    It 'a string or a hashtable given as the whole batch is one item; objects arrive as single puts deliver them' {
        $q = New-IpcQueue (New-TestName)
        try {
            $q.PutMany('abc'); $q.PutMany(@{ k = 1 }); $q.PutMany(@(@(1, 2), [pscustomobject]@{ A = 1; B = 'b' }, $null, [byte[]](1, 2)))
            $got = $q.GetMany(10)
            $got.Count | Should -Be 6
            $got[0] | Should -Be 'abc'
            $got[1].k | Should -Be 1
            $got[2] | Should -Be @(1, 2)
            $got[3].B | Should -Be 'b'
            $got[3].PSObject.TypeNames[0] | Should -Be 'Deserialized.System.Management.Automation.PSCustomObject'
            $got[4] | Should -BeNullOrEmpty
            $got[5].GetType() | Should -Be ([byte[]])
        } finally { $q.Close() }
    }

    It 'a joinable queue counts a batch as that many tasks; TaskDone(n) marks n at once' {
        $q = New-IpcQueue (New-TestName) -Joinable
        try {
            $q.PutMany(@(1..5))
            $q.UnfinishedTasks | Should -Be 5
            $null = $q.GetMany(5)
            Get-ThrownException { $q.TaskDone(6) } | Should -BeOfType ([IpcPs.TaskDoneException])
            $q.UnfinishedTasks | Should -Be 5
            $q.TaskDone(5)
            $q.Join(1) | Should -BeTrue
        } finally { $q.Close() }
    }
}

Describe 'Batches: bounds' {
    It 'a batch that does not fit a full bounded queue fails whole, and waits for room for all of it' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName) -MaxSize 10
        try {
            $q.PutMany(@(1..8))
            Get-ThrownException { $q.PutMany(@('a', 'b', 'c'), $false, 0) } | Should -BeOfType ([IpcPs.QueueFullException])
            Get-ThrownException { $q.PutMany(@('a', 'b', 'c'), $true, 0.1) } | Should -BeOfType ([IpcPs.QueueFullException])
            $q.QSize() | Should -Be 8   # never half-put
            # A child takes one message once the parent's batch sleeps: room for 3, and the whole batch goes in.
            $job = Start-IpcProcess -ArgumentList $q { param($q) while ($q.PutWaiterCount -eq 0) { [void][Threading.Thread]::Yield() }; [void]$q.Get() }
            try {
                $q.PutMany(@('a', 'b', 'c'), $true, 60)
                $job | Wait-Job -Timeout 60 | Out-Null
                $job.State | Should -Be 'Completed'
            } finally { $job | Remove-Job -Force }
            $q.GetMany(100) | Should -Be @(2..8 + 'a', 'b', 'c')
        } finally { $q.Close() }
    }

    It 'refuses at once a batch larger than MaxSize or than the storage, putting none of it' {
        $q = New-IpcQueue (New-TestName) -MaxSize 5 -Capacity 4096
        try {
            $q.Put('keep')
            $e = Get-ThrownException { $q.PutMany(@(1..6)) }
            $e | Should -BeOfType ([IpcPs.MessageTooLargeException])
            $e.Message | Should -Match 'holds at most 5'
            Get-ThrownException { $q.PutMany(@(('x' * 1000), ('y' * 1000), ('z' * 1000), ('w' * 1000))) } | Should -BeOfType ([IpcPs.MessageTooLargeException])
            $q.GetMany(10) | Should -Be @('keep')
            $q.UsedBytes | Should -Be 0
        } finally { $q.Close() }
    }

    It 'a batch with an item that cannot be sent is refused whole' {
        $q = New-IpcQueue (New-TestName)
        try {
            $bad = [object[]]::new(20000); for ($i = 0; $i -lt $bad.Length; $i++) { $bad[$i] = @{} }   # its receiver would refuse it (memory to decode)
            Get-ThrownException { $q.PutMany(@(1, $bad, 3)) } | Should -BeOfType ([ArgumentException])
            $q.QSize() | Should -Be 0
        } finally { $q.Close() }
    }

    It 'a producer SIGKILLed in the middle of batch puts leaves whole batches only, each delivered once' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        try {
            foreach ($round in 1..2) {
                $job = Start-IpcProcess -ArgumentList $q {
                    param($q)
                    $pad = 'p' * 300   # several blocks a message: more of the time is spent inside PutMany
                    for ($b = 0; ; $b++) { $q.PutMany([object[]](0..49 | ForEach-Object { "$b $_ $pad" })) }
                }
                Wait-Until { $q.QSize() -ge 2000 } -Because 'the producer to be busy putting batches'
                Stop-IpcProcess $job -Force   # SIGKILL on Linux, TerminateProcess on Windows
                Wait-Until { -not $job.IsAlive } -Because 'the producer to die'
                $job | Remove-Job -Force
                $count = $q.QSize()
                $count % 50 | Should -Be 0 -Because 'only whole batches are visible'
                $expected = 0
                while ($q.QSize() -gt 0) {
                    foreach ($m in $q.GetMany(37, 0)) {
                        $batch, $item = ($m -split ' ')[0, 1]
                        [int]$batch | Should -Be ([math]::Floor($expected / 50))
                        [int]$item | Should -Be ($expected % 50)
                        $expected++
                    }
                }
                $expected | Should -Be $count
                $q.UsedBytes | Should -Be 0
                $q.PutMany(@("after round $round")); $q.GetMany(5, 5) | Should -Be "after round $round"
            }
        } finally { $q.Close() }
    }
}

Describe 'Batches: pipes' {
    It 'SendMany in a child, RecvMany here: order, raw bytes, a frame larger than the ring, and the end of the stream' -Tag 'Windows' {
        $a, $b = New-IpcPipe (New-TestName) -Duplex:$false -BufferSize 4096
        try {
            $job = Start-IpcProcess -ArgumentList $b {
                param($b)
                $b.SendMany(@(1..300))                                  # more than the ring holds at once: sent as room comes
                $b.SendMany(@('s', [byte[]](7, 8, 9), ('L' * 20000), 'after'))   # a raw frame, a streamed one
            }
            $b.Close()   # as in CPython: the end of the stream comes once every holder of the other end closed it
            try {
                $got = [Collections.Generic.List[object]]::new()
                while ($got.Count -le 304) {
                    try { $got.AddRange($a.RecvMany(64, 30)) } catch [IpcPs.ConnectionClosedException] { break }
                }
                $job | Wait-Job -Timeout 60 | Out-Null
                $job.State | Should -Be 'Completed'
            } finally { $job | Remove-Job -Force }
            $got.Count | Should -Be 304
            $got[0..299] | Should -Be (1..300)
            $got[300] | Should -Be 's'
            $got[301].GetType() | Should -Be ([byte[]])
            $got[301] | Should -Be @(7, 8, 9)
            $got[302] | Should -Be ('L' * 20000)
            $got[303] | Should -Be 'after'
        } finally { $a.Close(); $b.Close() }
    }

    It 'RecvMany takes only what is there: at most MAX, and an empty array after its timeout' {
        $a, $b = New-IpcPipe (New-TestName)
        try {
            $b.SendMany(@(1..5))
            $a.RecvMany(3) | Should -Be @(1, 2, 3)
            $a.RecvMany(100) | Should -Be @(4, 5)
            $a.RecvMany(100, 0.05).Count | Should -Be 0
            $b.Send('one'); $a.RecvMany(100) | Should -Be 'one'
        } finally { $a.Close(); $b.Close() }
    }
}

Describe 'Batches: Send-IpcMessage and Receive-IpcMessage' {
    It 'a streamed pipeline arrives whole and in order, through a queue and a pipe, across processes' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        $a, $b = New-IpcPipe (New-TestName) -Duplex:$false
        try {
            Invoke-Child { param($q, $b) 1..20000 | Send-IpcMessage $q; 1..20000 | ForEach-Object { "m$_" } | Send-IpcMessage $b } $q, $b
            $b.Close()   # the pipe's stream ends when every holder of the sending end closed it (-All reads to there)
            $got = Receive-IpcMessage $q -Count 20000
            $got.Count | Should -Be 20000
            ($got -join ',') | Should -Be ((1..20000) -join ',')
            $piped = Receive-IpcMessage $a -All
            $piped.Count | Should -Be 20000
            $piped[0] | Should -Be 'm1'
            $piped[-1] | Should -Be 'm20000'
            ($piped -join ',') | Should -Be ((1..20000 | ForEach-Object { "m$_" }) -join ',')
        } finally { $q.Close(); $a.Close(); $b.Close() }
    }

    It 'delivers each streamed item as a single send would (wrapped primitives, objects with notes, custom objects)' {
        # Send-IpcMessage's batcher unwraps the PSObject around a piped primitive itself; what arrives must be what a
        # single send of the same item delivers.
        $q = New-IpcQueue (New-TestName)
        try {
            $items = { 7; 'text'; [long]8; 2.5; $true; (9 | Add-Member -NotePropertyName Extra -NotePropertyValue 1 -PassThru -Force)
                [pscustomobject]@{ Id = 3; Name = 'x' }; @{ k = 'v' }; ([string]'s' | Add-Member -NotePropertyName N -NotePropertyValue 2 -PassThru -Force) }
            & $items | ForEach-Object { Send-IpcMessage $q $_ }   # one by one: each a single send
            $single = Receive-IpcMessage $q -Count 9
            & $items | Send-IpcMessage $q                        # streamed: batched
            $batched = Receive-IpcMessage $q -Count 9
            $batched.Count | Should -Be 9
            for ($i = 0; $i -lt 9; $i++) {
                $batched[$i].GetType() | Should -Be $single[$i].GetType() -Because "item $i"
                ($batched[$i] | ConvertTo-Json -Compress) | Should -Be ($single[$i] | ConvertTo-Json -Compress) -Because "item $i"
            }
            $batched[0] | Should -BeOfType [int]
            $batched[5] | Should -BeOfType [int]
        } finally { $q.Close() }
    }

    It 'sends each item as it was when it was handed over, though the command before changes the same object for its next item' {
        # A producer that fills one hashtable, one custom object, one list again for each item (it used to send what
        # they held when the batch went: thousands of messages wrong). Through a queue and a pipe (all of it fits the
        # pipe's ring: it is received after the pipeline ends).
        $q = New-IpcQueue (New-TestName)
        $pipe = New-IpcPipe
        try {
            foreach ($channel in $q, $pipe[0]) {
                $receiver = if ($channel -is [IpcPs.IpcConnection]) { $pipe[1] } else { $q }
                $h = @{}; $o = [pscustomobject]@{ N = 0 }; $l = [Collections.Generic.List[int]]::new()
                & { foreach ($i in 1..2000) { $h.N = $i; $h; $o.N = $i; $o; if ($l.Count -eq 5) { $l.Clear() }; $l.Add($i); , $l } } | Send-IpcMessage $channel
                $got = Receive-IpcMessage $receiver -Count 6000
                $wrong = for ($i = 0; $i -lt 2000; $i++) {
                    if ($got[3 * $i].N -ne $i + 1 -or $got[3 * $i + 1].N -ne $i + 1 -or $got[3 * $i + 2][-1] -ne $i + 1) { $i + 1 }
                }
                @($wrong).Count | Should -Be 0 -Because "every item as it was handed over (first wrong: $(@($wrong)[0]))"
            }
        } finally { $q.Close(); $pipe | ForEach-Object { $_.Close() } }
    }

    It 'reads each piped object once: a script property runs once per message, alone, slowly piped or streamed' {
        # The batcher encodes an item that may be held before it takes its gate; a lone item goes through the single
        # send, which must not read the object a second time (it did: twice per lone or slow item).
        $q = New-IpcQueue (New-TestName)
        try {
            $global:IpcPsGetterRuns = 0
            $o = [pscustomobject]@{ A = 1 } | Add-Member -PassThru ScriptProperty P { $global:IpcPsGetterRuns++; $global:IpcPsGetterRuns }
            $o | Send-IpcMessage $q
            $global:IpcPsGetterRuns | Should -Be 1 -Because 'a lone item'
            (Receive-IpcMessage $q -Timeout 10).P | Should -Be 1
            $global:IpcPsGetterRuns = 0
            1..30 | ForEach-Object { [Threading.Thread]::Sleep(1); $o } | Send-IpcMessage $q   # items 1 ms apart: each goes alone
            $global:IpcPsGetterRuns | Should -Be 30 -Because 'items that come slowly'
            $global:IpcPsGetterRuns = 0
            & { foreach ($i in 1..30) { $o } } | Send-IpcMessage $q
            $global:IpcPsGetterRuns | Should -Be 30 -Because 'streamed items'
            @(Receive-IpcMessage $q -Count 60).Count | Should -Be 60
        } finally { $q.Close(); Remove-Variable -Scope Global IpcPsGetterRuns -ErrorAction Ignore }
    }

    It 'sends each item once while a consumer takes them concurrently (a flush never runs inside another)' {
        # The producer's batches contend for the queue's lock with the consumer; a wait for the lock is a wait on
        # IpcPs, which runs the flush registered before waits: it must not send again what is being sent.
        # A bounded queue makes the producer's batches wait for room: a wait inside the send itself.
        $q = New-IpcQueue (New-TestName) -MaxSize 10
        try {
            foreach ($round in 1..3) {
                $job = Start-IpcProcess -ArgumentList $q { param($q) 0..29999 | Send-IpcMessage $q }
                try {
                    $got = Receive-IpcMessage $q -Count 30000 -Timeout 120
                    $job | Wait-Job -Timeout 60 | Out-Null
                    $job.State | Should -Be 'Completed'
                } finally { $job | Remove-Job -Force }
                $q.QSize() | Should -Be 0 -Because 'every item is sent once'
                $got.Count | Should -Be 30000
                ($got -join ',') | Should -Be ((0..29999) -join ',')
            }
        } finally { $q.Close() }
    }

    It 'takes each piped item''s own priority: a batch never mixes priorities' {
        $q = New-IpcQueue (New-TestName) -Order Priority
        try {
            $n = 0
            @(3, 3, 1, 1, 2) | ForEach-Object { [pscustomobject]@{ Priority = $_; N = $n++ } } | Send-IpcMessage $q
            (Receive-IpcMessage $q -All).N | Should -Be @(2, 3, 4, 0, 1)
        } finally { $q.Close() }
    }

    It 'takes a piped item''s Priority property as PowerShell''s parameter binder does' {
        # Converted (a string, a double rounded), any case, a note property on a number too; a value that does not
        # convert, or none, is no priority (0); -Priority given on the command line wins; an -InputObject argument
        # is not piped, so its property is not read. (Observed with a compiled cmdlet whose -Priority has
        # ValueFromPipelineByPropertyName, which Send-IpcMessage emulates: the binder's own lookup cost ~1 us an item.)
        $q = New-IpcQueue (New-TestName) -Order Priority
        try {
            $five = 5 | Add-Member -NotePropertyName Priority -NotePropertyValue 1 -PassThru -Force   # PowerShell caches boxed small ints: removed below
            @([pscustomobject]@{ Priority = '4'; N = 'a' }, $five, [pscustomobject]@{ priority = 2.6; N = 'c' },
              [pscustomobject]@{ Priority = 'abc'; N = 'd' }, 7, @{ Priority = 8; N = 'h' }) | Send-IpcMessage $q
            $got = Receive-IpcMessage $q -All
            $got | ForEach-Object { if ($_ -is [int]) { $_ } elseif ($_ -is [hashtable]) { $_['N'] } else { $_.N } } |
                Should -Be @('d', 7, 'h', 5, 'c', 'a')
            [pscustomobject]@{ Priority = 1; N = 'x' } | Send-IpcMessage $q -Priority 9
            Send-IpcMessage $q -InputObject ([pscustomobject]@{ Priority = 5; N = 'y' })
            [pscustomobject]@{ Priority = 3; N = 'z' } | Send-IpcMessage $q
            (Receive-IpcMessage $q -All).N | Should -Be @('y', 'z', 'x')
        } finally { $q.Close(); if ($five) { $five.PSObject.Properties.Remove('Priority') } }
    }

    It 'reads no Priority property on a FIFO queue or a pipe: objects that have one are sent whole, without an error' {
        $q = New-IpcQueue (New-TestName)
        $pipe = New-IpcPipe
        try {
            $items = @([pscustomobject]@{ Priority = 3; N = 'a' }, @{ Priority = 1; N = 'b' }, (5 | Add-Member -NotePropertyName Priority -NotePropertyValue 2 -PassThru -Force))   # PowerShell caches boxed small ints: removed below
            $items | Send-IpcMessage $q -ErrorVariable errs
            $errs.Count | Should -Be 0
            $got = Receive-IpcMessage $q -All
            $got[0].N, $got[0].Priority, $got[1]['N'], $got[2] | Should -Be @('a', 3, 'b', 5)
            $items | Send-IpcMessage $pipe[0] -ErrorVariable errs
            $errs.Count | Should -Be 0
            (Receive-IpcMessage $pipe[1] -Count 3)[0].N | Should -Be 'a'
            Get-ErrorId { [pscustomobject]@{ N = 'c' } | Send-IpcMessage $q -Priority 1 -ErrorAction Stop } | Should -Match '^IpcInvalidOperation' -Because 'an explicit -Priority is still refused'
        } finally { $q.Close(); $pipe[0].Close(); $pipe[1].Close(); if ($items) { $items[2].PSObject.Properties.Remove('Priority') } }
    }

    It 'keeps single-send errors per item: -NoWait on a bounded queue puts what fits, one QueueFull per item left' {
        $q = New-IpcQueue (New-TestName) -MaxSize 5
        try {
            1..12 | Send-IpcMessage $q -NoWait -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs.Count | Should -Be 7
            $errs.TargetObject | Should -Be (6..12)
            $errs[0].FullyQualifiedErrorId | Should -Match '^QueueFull'
            Receive-IpcMessage $q -All | Should -Be (1..5)
            # An item that cannot be sent fails alone, the others of its batch go.
            $bad = [object[]]::new(20000); for ($i = 0; $i -lt $bad.Length; $i++) { $bad[$i] = @{} }
            @(1, 2, $bad, 4) | Send-IpcMessage $q -ErrorVariable errs2 -ErrorAction SilentlyContinue
            $errs2.Count | Should -Be 1
            Receive-IpcMessage $q -All | Should -Be @(1, 2, 4)
        } finally { $q.Close() }
    }

    It 'never holds back a message the other side waits for: a ping-pong of pairs through a streaming pipeline' {
        $ping = New-IpcQueue (New-TestName)
        $pong = New-IpcQueue (New-TestName)
        try {
            # The echo streams: Receive-IpcMessage takes the two messages of a round at once and outputs them back to
            # back, so Send-IpcMessage holds the second for a batch; this side sends the next pair only after both
            # echoes, so a held message would never be answered: it must go out when the echo's Receive-IpcMessage
            # waits for the next pair.
            $echo = Start-IpcProcess -ArgumentList $ping, $pong { param($ping, $pong) Receive-IpcMessage $ping -Count 1000 | Send-IpcMessage $pong }
            try {
                $rounds = [Collections.Generic.List[double]]::new()
                for ($i = 0; $i -lt 1000; $i += 2) {
                    $w = [Diagnostics.Stopwatch]::GetTimestamp()
                    $ping.PutMany(@($i, ($i + 1)))
                    $back = Receive-IpcMessage $pong -Count 2 -Timeout 30
                    $rounds.Add(([Diagnostics.Stopwatch]::GetTimestamp() - $w) / [Diagnostics.Stopwatch]::Frequency * 1e6)
                    $back | Should -Be @($i, ($i + 1))
                }
                $echo | Wait-Job -Timeout 60 | Out-Null
                $echo.State | Should -Be 'Completed'
                $sorted = $rounds | Sort-Object
                Write-Host ("    ping-pong of pairs through cmdlets: median {0:N0} µs, 90th percentile {1:N0} µs (recorded, not asserted)" -f $sorted[250], $sorted[450])
            } finally { $echo | Remove-Job -Force }
        } finally { $ping.Close(); $pong.Close() }
    }

    It 'sends what a stalled producer already gave without waiting for the end of its input' {
        $q = New-IpcQueue (New-TestName)
        $done = New-IpcEvent (New-TestName)
        try {
            # Three items back to back, then the producer waits on something that is not IpcPs (a .NET wait handle):
            # they must arrive while it waits, not at its end.
            $job = Start-IpcProcess -ArgumentList $q, $done {
                param($q, $done)
                $gate = [Threading.ManualResetEventSlim]::new()
                & { 1; 2; 3; while (-not $done.IsSet()) { [void]$gate.Wait(20) }; 4 } | Send-IpcMessage $q
            }
            try {
                $first = Receive-IpcMessage $q -Count 3 -Timeout 30
                $first | Should -Be @(1, 2, 3)
                $job.IsAlive | Should -BeTrue   # still stalled: the three came before its end
                Set-IpcEvent $done
                Receive-IpcMessage $q -Timeout 30 | Should -Be 4
                $job | Wait-Job -Timeout 60 | Out-Null
            } finally { $job | Remove-Job -Force }
        } finally { $q.Close(); $done.Close() }
    }

    It 'Receive-IpcMessage -Count in batches stops taking when a later command stops the pipeline' {
        $q = New-IpcQueue (New-TestName)
        try {
            $q.PutMany(@(1..100))
            Receive-IpcMessage $q -Count 100 | Select-Object -First 1 | Should -Be 1
            $q.QSize() | Should -Be 99   # the first batch is one message: nothing taken that was not output
            Receive-IpcMessage $q -Count 10 | Select-Object -First 5 | Should -Be (2..6)
            $q.QSize() | Should -BeGreaterOrEqual 89   # at most as many taken as output (1 + 2 + 4 taken by then)
        } finally { $q.Close() }
    }
}

Describe 'Batches: what Send-IpcMessage holds when its input ends early or the queue is full' {
    BeforeAll {
        # RUN (Start-Stoppable) waits in a send on Q: BeginStop must end it within 2 s, Stopped, no sender left waiting, Q
        # still usable (its first message, 1, comes out).
        function Assert-StopEndsSend($Run, $Q, [string] $Because) {
            $w = [Diagnostics.Stopwatch]::StartNew()
            $null = $Run.PowerShell.BeginStop($null, $null)
            $Run.Async.AsyncWaitHandle.WaitOne(10000) | Should -BeTrue -Because "Stop ends the wait ($Because)"
            $w.Elapsed.TotalSeconds | Should -BeLessThan 2
            $Run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            $Q.PutWaiterCount | Should -Be 0
            $Q.Get() | Should -Be 1   # the queue still works
        }

        # A wait Stop could not end: room is made so that the test ends (and fails) instead of hanging; then RUN is disposed.
        function Complete-StoppedSend($Run, $Q) {
            if ($Run -and -not $Run.Async.IsCompleted) { while (-not $Run.Async.AsyncWaitHandle.WaitOne(100)) { $null = $Q.GetMany(1000, 0) } }
            if ($Run) { $Run.PowerShell.Dispose() }
        }
    }

    It 'sends every item it was given when the command before it throws or breaks, across processes' -Tag 'Windows' {
        # Without EndProcessing (a terminating error or break upstream) the batcher was disposed with its items; they
        # are sent at its disposal now. 1,500 is a full batch and a held rest, 100 fewer than a batch; each round is
        # followed by a single put, so a held item sent late would also come out of order.
        $q = New-IpcQueue (New-TestName)
        try {
            Invoke-Child {
                param($q)
                foreach ($round in 1..2) {
                    foreach ($n in 1500, 100) {
                        try { & { foreach ($i in 1..$n) { $i }; throw 'the producer failed' } | Send-IpcMessage $q } catch { }
                        $q.Put("throw $n")
                        foreach ($once in 1) { & { foreach ($i in 1..$n) { $i }; break } | Send-IpcMessage $q }
                        $q.Put("break $n")
                    }
                }
            } $q
            $expected = foreach ($round in 1..2) { foreach ($n in 1500, 100) { 1..$n; "throw $n"; 1..$n; "break $n" } }
            $q.QSize() | Should -Be $expected.Count
            ($q.GetMany(10000) -join ',') | Should -Be ($expected -join ',')
        } finally { $q.Close() }
    }

    It 'waits for room for what it holds when the command before it throws, while another process takes from a bounded queue' {
        $q = New-IpcQueue (New-TestName) -MaxSize 100
        try {
            $job = Start-IpcProcess -ArgumentList $q {
                param($q)
                foreach ($n in 1500, 50) {
                    try { & { foreach ($i in 1..$n) { "$n/$i" }; throw 'the producer failed' } | Send-IpcMessage $q } catch { }
                }
                $q.Put('done')
            }
            try {
                $got = Receive-IpcMessage $q -Count 1551 -Timeout 30
                $job | Wait-Job -Timeout 60 | Out-Null
                $job.State | Should -Be 'Completed'
            } finally { $job | Remove-Job -Force }
            ($got -join ',') | Should -Be (((1..1500 | ForEach-Object { "1500/$_" }) + (1..50 | ForEach-Object { "50/$_" }) + 'done') -join ',')
        } finally { $q.Close() }
    }

    It 'with -Timeout, sends what it holds when the command before it throws as single sends would, and drops what finds no room' {
        # Room for 5: the first item goes at once, the rest is held; at the disposal each held item waits at most
        # -Timeout, as its single send would have, and one that found no room is dropped (nothing can be written then).
        # In a runspace of its own: under Pester's runner the items come too slowly to be held.
        $q = New-IpcQueue (New-TestName) -MaxSize 1000
        $run = Start-Stoppable {
            param($q)
            foreach ($round in 1..3) {
                $q.PutMany(@(1..995))
                $w = [Diagnostics.Stopwatch]::StartNew()
                $thrown = try { & { foreach ($i in 1..20) { "m$i" }; throw 'the producer failed' } | Send-IpcMessage $q -Timeout 0.05 -ErrorAction SilentlyContinue } catch { $_.Exception.Message }
                $got = $q.GetMany(1000)
                [pscustomobject]@{ Thrown = $thrown; Seconds = $w.Elapsed.TotalSeconds; Count = $got.Count; Tail = $got[995..($got.Count - 1)] -join ',' }
            }
        } -Arguments $q
        try {
            $run.Async.AsyncWaitHandle.WaitOne(60000) | Should -BeTrue
            $rounds = $run.PowerShell.EndInvoke($run.Async)
            $rounds.Count | Should -Be 3
            foreach ($r in $rounds) {
                $r.Thrown | Should -Be 'the producer failed'
                $r.Seconds | Should -BeLessThan 10
                $r.Count | Should -Be 1000
                $r.Tail | Should -Be 'm1,m2,m3,m4,m5'
            }
        } finally { $run.PowerShell.Dispose(); $q.Close() }
    }

    It 'ends promptly on Stop while it waits for room for what it held when the command before it threw, and drops it' -Tag 'Windows' {
        # PowerShell calls no StopProcessing once it disposes the commands: the wait must end all the same.
        foreach ($timeout in $null, 60) {
            $q = New-IpcQueue (New-TestName) -MaxSize 1000
            $run = $null
            try {
                $q.PutMany(@(1..995))   # room for the first item and a few more, never for the held batch
                $run = Start-Stoppable {
                    param($q, $timeout)
                    $limit = if ($timeout) { @{ Timeout = $timeout } } else { @{} }
                    & { foreach ($i in 1..20) { "m$i" }; throw 'the producer failed' } | Send-IpcMessage $q @limit
                } -Arguments $q, $timeout
                Wait-Until { $q.PutWaiterCount -gt 0 } -TimeoutSeconds 10 -Because 'a send to wait for room'
                Assert-StopEndsSend $run $q "timeout: $timeout"
            } finally {
                Complete-StoppedSend $run $q
                $q.Close()
            }
        }
    }

    It 'ends promptly on Stop when the command before it threw while the linger timer waited for room for what it held' {
        # Without -Timeout the linger timer waits for room for the held batch, holding the batcher meanwhile; a throw
        # then disposes the command, and the dispose must not wait for that flush, which waits for room, not for a
        # StopProcessing that never comes (the throw is the pipeline's first error). CI run 36 met it by chance. The
        # producer throws only once every item is handed over and something waits for room: the timer's flush, the
        # only other sender. An attempt where the timer fired before the last item was handed over (the producer then
        # waits in the send, where Stop ends it as any wait) does not reach that point: it is stopped and tried again.
        $reached = $false
        for ($attempt = 1; -not $reached -and $attempt -le 10; $attempt++) {
            $q = New-IpcQueue (New-TestName) -MaxSize 1000
            $run = $null
            $throwing = [Threading.ManualResetEventSlim]::new($false)
            try {
                $q.PutMany(@(1..995))   # room for the first item and a few more, never for the held batch
                $run = Start-Stoppable {
                    param($q, $throwing)
                    $items = 1..20 | ForEach-Object { "m$_" }
                    $warm = New-IpcQueue; & { $items } | Send-IpcMessage $warm; $warm.Close()   # the batcher's code compiled
                    & {
                        $items   # written one by one in a loop of PowerShell's: back to back, held
                        # A read of the count is no wait of IpcPs (no flush of what is held before it), Start-Sleep neither.
                        while ($q.PutWaiterCount -eq 0) { Start-Sleep -Milliseconds 1 }
                        $throwing.Set()
                        throw 'the producer failed'
                    } | Send-IpcMessage $q
                } -Arguments $q, $throwing
                Wait-Until { $q.PutWaiterCount -gt 0 } -TimeoutSeconds 10 -Because 'a send to wait for room'
                $reached = $throwing.Wait(500)   # it polls every millisecond: stuck in its send if not by then
                Assert-StopEndsSend $run $q "attempt $attempt, the producer threw: $reached"
            } finally {
                Complete-StoppedSend $run $q
                $throwing.Dispose()
                $q.Close()
            }
        }
        $reached | Should -BeTrue -Because 'an attempt handed over every item before the timer waited for room'
    }

    It 'sends held items as soon as there is room while the producer waits on something else, with -Timeout' {
        # The producer's items are held (no room for them as a batch), then it waits on an event that this side sets
        # only once it has received the last of them: they must go when room comes, not at the end of the producer's
        # wait. With a finite -Timeout the flush from the wait hook or the timer only tries the room there is now.
        $q = New-IpcQueue (New-TestName) -MaxSize 20
        $ready = New-IpcEvent (New-TestName)
        $answer = New-IpcEvent (New-TestName)
        try {
            $q.PutMany(@(1..15))   # room for 5 of the 10
            $job = Start-IpcProcess -ArgumentList $q, $ready, $answer {
                param($q, $ready, $answer)
                $warm = New-IpcQueue; 1..10 | Send-IpcMessage $warm; $warm.Close()   # compiled: the ten below come back to back
                & { foreach ($i in 1..10) { "m$i" }; $ready.Set(); $null = Wait-IpcEvent $answer -Timeout 60 } | Send-IpcMessage $q -Timeout 60
            }
            try {
                Wait-Until { $ready.IsSet() -or $q.PutWaiterCount -gt 0 } -Because 'the producer to hold its items, or to wait for room for one'
                Receive-IpcMessage $q -Count 15 | Should -Be (1..15)
                $got = Receive-IpcMessage $q -Count 10 -Timeout 10 -ErrorAction SilentlyContinue
                $answer.Set()
                $job | Wait-Job -Timeout 60 | Out-Null
                $job.State | Should -Be 'Completed'
            } finally { $answer.Set(); $job | Remove-Job -Force }
            $got | Should -Be (1..10 | ForEach-Object { "m$_" })
            $q.QSize() | Should -Be 0
        } finally { $q.Close(); $ready.Close(); $answer.Close() }
    }

    It 'keeps -NoWait''s errors per item, from the pipeline thread, for items held while the timer tries again' {
        # The queue stays full: the timer's retries send nothing, and each held item is one QueueFull at the end. The
        # producer's wait is no synchronisation: any length gives the same errors.
        $q = New-IpcQueue (New-TestName) -MaxSize 5
        $never = New-IpcEvent (New-TestName)
        try {
            $q.PutMany(@(1..5))
            $errs = Invoke-Child {
                param($q, $never)
                $warm = New-IpcQueue; 1..10 | Send-IpcMessage $warm; $warm.Close()   # compiled: the ten below come back to back
                & { foreach ($i in 1..10) { "m$i" }; $null = Wait-IpcEvent $never -Timeout 0.2 -ErrorAction SilentlyContinue } | Send-IpcMessage $q -NoWait -ErrorVariable errs -ErrorAction SilentlyContinue
                $errs | ForEach-Object { [pscustomobject]@{ Id = $_.FullyQualifiedErrorId; Target = $_.TargetObject } }
            } $q, $never
            $errs.Count | Should -Be 10
            $errs.Target | Should -Be (1..10 | ForEach-Object { "m$_" })
            $errs | ForEach-Object { $_.Id | Should -Match '^QueueFull' }
            $q.GetMany(10) | Should -Be (1..5)
        } finally { $q.Close(); $never.Close() }
    }
}
