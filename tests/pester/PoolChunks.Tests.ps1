BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Chunked pool calls' {
    BeforeAll { $script:pool = New-IpcPool -Size 2 }
    AfterAll { Remove-IpcPool $pool }

    It 'keeps -Ordered, and delivers every item once, with chunks of <ChunkSize>' -Tag 'Windows' -ForEach @(
        @{ ChunkSize = 1 }, @{ ChunkSize = 7 }, @{ ChunkSize = 0 }
    ) {
        $ordered = 1..500 | Invoke-IpcPool -Pool $pool { $_ * 2 } -Ordered -ChunkSize $ChunkSize
        ($ordered -join ',') | Should -Be ((1..500 | ForEach-Object { $_ * 2 }) -join ',')
        $unordered = 1..500 | Invoke-IpcPool -Pool $pool { $_ * 2 } -ChunkSize $ChunkSize
        (($unordered | Sort-Object) -join ',') | Should -Be ((1..500 | ForEach-Object { $_ * 2 }) -join ',')
    }

    It 'names the item in each error of a chunk, runs the items after a failing one, and ends only the item on exit' -Tag 'Windows' {
        $out = 1..20 | Invoke-IpcPool -Pool $pool -ChunkSize 5 -Ordered {
            if ($_ % 5 -eq 3) { throw "bad $_" }
            if ($_ -eq 9) { Write-Error "soft $_" }
            if ($_ -eq 14) { exit 4 }
            Write-Warning "w$_"
            $_
        } -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
        $out | Should -Be @(1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 17, 19, 20)
        @($warned.Message) | Should -Be @($out | ForEach-Object { "w$_" })
        $failed | Should -HaveCount 5
        $thrown = @($failed | Where-Object { $_.Exception.Message -like 'bad *' })
        @($thrown.TargetObject) | Should -Be @(3, 8, 13, 18)
        foreach ($e in $thrown) { $e.ErrorDetails.Message | Should -BeLike "``[item $($e.TargetObject - 1) '$($e.TargetObject)'``] bad $($e.TargetObject)*" }
        $soft = @($failed | Where-Object { $_.Exception.Message -eq 'soft 9' })
        $soft | Should -HaveCount 1
        $soft[0].ErrorDetails.Message | Should -BeLike "``[item 8 '9'``] soft 9*"
    }

    It 'reports the item a worker was killed in, mid-chunk; the finished items are kept and the others retried' -Tag 'Windows' {
        $q = New-IpcQueue
        $never = New-IpcEvent
        $one = New-IpcPool -Size 1
        try {
            # Item 15, the 5th of its chunk, says where it runs; the input kills that worker before giving item 40.
            $out = & { foreach ($i in 1..60) { if ($i -eq 40) { Stop-Process -Id ([int]$q.Get($true, 60)) -Force }; $i } } |
                Invoke-IpcPool -Pool $one -ChunkSize 10 -Ordered -ArgumentList $q, $never {
                    param($q, $never)
                    if ($_ -eq 15) { $q.Put($PID); $null = $never.Wait(60) }
                    $_
                } -ErrorVariable died -ErrorAction SilentlyContinue
            ($out -join ',') | Should -Be ((1..60 | Where-Object { $_ -ne 15 }) -join ',')
            $died | Should -HaveCount 1
            $died[0].FullyQualifiedErrorId | Should -Match '^PoolWorkerDied'
            $died[0].TargetObject | Should -Be 15
            # Stop-Process -Force: SIGKILL on Linux, TerminateProcess (exit code -1) on Windows.
            $how = if ($IsWindows) { '(exit code -1)' } else { '(ended by signal 9, SIGKILL)' }
            $died[0].ErrorDetails.Message | Should -BeLike "``[item 14 '15'``] The pool worker process * died $how*"
            $one.Replaced | Should -Be 1
        } finally { Remove-IpcPool $one; $q.Close(); $never.Close() }
    }

    It 'blames no item on a worker that dies before it begins the chunks in its pipe: they run on its replacement, once each, in order' {
        $one = New-IpcPool -Size 1
        try {
            # The first call leaves the worker's progress word at its last item (index 2).
            (1..3 | Invoke-IpcPool -Pool $one { $_ } -Ordered) | Should -Be @(1, 2, 3)
            $worker = $one.Pids[0]
            # Frozen while it waits for the next call: that call's script and its first chunks (items 0 and 1, as many
            # as a busy worker holds: a third would wait for it) go into its pipe, and the input kills it before it
            # could read them.
            & kill -STOP $worker
            $out = & {
                'a'; 'b'
                Stop-Process -Id $worker -Force
                Wait-Until { -not (Get-Process -Id $worker -ErrorAction SilentlyContinue) } -Because 'the frozen worker to die'
                'c'; 'd'
            } | Invoke-IpcPool -Pool $one -ChunkSize 1 -Ordered { "$_ by $PID" } -ErrorVariable died -ErrorAction SilentlyContinue
            $died | Should -BeNullOrEmpty -Because 'the worker ran none of this call''s items'
            $out | Should -Be @('a', 'b', 'c', 'd' | ForEach-Object { "$_ by $($one.Pids[0])" })
            $one.Replaced | Should -Be 1
        } finally { Remove-IpcPool $one }
    }

    It 'blames no item on a worker killed between chunks: the items it had not begun run on its replacement, once each, in order' {
        $q = New-IpcQueue
        $one = New-IpcPool -Size 1
        try {
            # Item 1 says where it runs, then ends. The input then freezes that worker (done with item 1, or at the
            # very end of it), gives item 2 (chunks of one: it goes into its pipe; a third item in flight would wait
            # for the worker), kills it, and gives items 3 to 5.
            $out = & {
                1
                $worker = [int]$q.Get($true, 60)
                & kill -STOP $worker
                2
                Stop-Process -Id $worker -Force
                Wait-Until { -not (Get-Process -Id $worker -ErrorAction SilentlyContinue) } -Because 'the frozen worker to die'
                3; 4; 5
            } | Invoke-IpcPool -Pool $one -ChunkSize 1 -Ordered -ArgumentList $q { param($q) if ($_ -eq 1) { $q.Put($PID) }; $_ } -ErrorVariable died -ErrorAction SilentlyContinue
            # Item 1 is reported only if the worker was frozen inside it; the items after it are never.
            @($died.TargetObject) | Should -Not -Contain 2
            $died | Should -HaveCount ($out -contains 1 ? 0 : 1)
            if ($died) { $died[0].TargetObject | Should -Be 1 }
            @($out | Where-Object { $_ -ne 1 }) | Should -Be @(2, 3, 4, 5)
            $one.Replaced | Should -Be 1
        } finally { Remove-IpcPool $one; $q.Close() }
    }

    It 'fails an item its worker cannot receive (a handle whose object is gone) alone, with why, and keeps the worker' {
        $one = New-IpcPool -Size 1
        $gone = New-IpcEvent
        try {
            # A handle of an object already destroyed: the worker cannot re-attach it. It used to die reading it, twice,
            # and the item was reported as the workers' death.
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $out = & { 1; $gone; 3 } | Invoke-IpcPool -Pool $one -ChunkSize 1 -Ordered { "$_" } -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -Be @('1', '3')
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Match '^IpcObjectNotFound'
            $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failed[0].TargetObject | Should -Be $gone
            $failed[0].ErrorDetails.Message | Should -BeLike "``[item 1 '*``] The worker could not receive this item: *$($gone.Name)*"
            $one.Replaced | Should -Be 0
        } finally { Remove-IpcPool $one; $gone.Close() }
    }

    It 'closes what an item it cannot receive had attached before the handle that failed' {
        $one = New-IpcPool -Size 1
        $live = New-IpcEvent
        $gone = New-IpcEvent
        try {
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $worker = $one.Pids[0]
            $liveName = $live.Name   # a name, not the handle: a handle among the call's values is held for the call
            # One item: an array of a live handle, then a gone one. The worker attaches the first, then fails on the
            # second; the first must not stay held by the worker (nothing of the item is left to close it).
            $out = & { , @($live, $gone); 'next' } | Invoke-IpcPool -Pool $one -ChunkSize 1 -Ordered { "$($_.Count)"; (Get-IpcObject $using:liveName).HolderPids -contains $PID } -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Match '^IpcObjectNotFound'
            $out | Should -Be @('1', $false) -Because 'the next item finds the worker holding nothing of the failed one'
            (Get-IpcObject $live.Name).HolderPids | Should -Not -Contain $worker
            $one.Replaced | Should -Be 0
        } finally { Remove-IpcPool $one; $live.Close(); $gone.Close() }
    }

    It 'runs a plain script as one pipeline per worker and call: its items share one scope, as ForEach-Object''s; a new call starts fresh' -Tag 'Windows' {
        $one = New-IpcPool -Size 1
        try {
            # One worker: every item of a call runs in the same scope, as in `1..5 | ForEach-Object { $n++; $n }`.
            (1..5 | Invoke-IpcPool -Pool $one { $n++; $n } -Ordered -ChunkSize 2) | Should -Be @(1, 2, 3, 4, 5)
            (1..2 | Invoke-IpcPool -Pool $one { $n++; $n } -Ordered) | Should -Be @(1, 2) -Because 'each call starts with a fresh scope'
            # return ends the item only; a terminating error ends its item, and the items after it start a fresh scope.
            (1..3 | Invoke-IpcPool -Pool $one { if ($_ -eq 2) { return }; $_ } -Ordered) | Should -Be @(1, 3)
            $out = 1..4 | Invoke-IpcPool -Pool $one { $n++; if ($_ -eq 2) { throw 'two' }; $n } -Ordered -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -Be @(1, 1, 2)
            @($failed.TargetObject) | Should -Be @(2)
            # -ArgumentList binds once per worker and call, $_ is each item; $args without a param() block.
            (1..3 | Invoke-IpcPool -Pool $one -ArgumentList 10 { param($add) $_ + $add } -Ordered) | Should -Be @(11, 12, 13)
            (1..2 | Invoke-IpcPool -Pool $one -ArgumentList 5, 6 { $_ + $args[1] } -Ordered) | Should -Be @(7, 8)
        } finally { Remove-IpcPool $one }
    }

    It 'runs a script with named blocks or an advanced param() block once per item, in a scope of its own' {
        $one = New-IpcPool -Size 1
        try {
            (1..3 | Invoke-IpcPool -Pool $one { [CmdletBinding()] param() $n++; "$_ $n" } -Ordered) | Should -Be @('1 1', '2 1', '3 1')
            (1..3 | Invoke-IpcPool -Pool $one -ArgumentList 7 { param([Parameter()] $k) $n++; "$_ $k $n" } -Ordered) | Should -Be @('1 7 1', '2 7 1', '3 7 1')
            (1..3 | Invoke-IpcPool -Pool $one { end { $n++; "$_ $n" } } -Ordered) | Should -Be @('1 1', '2 1', '3 1')
        } finally { Remove-IpcPool $one }
    }

    It 'goes on after a statement-terminating error, as a script does, in a plain script and in scripts run per item' {
        $one = New-IpcPool -Size 1
        try {
            foreach ($script in { [int]::Parse('x'); "after $_" },
                { [CmdletBinding()] param() [int]::Parse('x'); "after $_" },
                { process { [int]::Parse('x'); "after $_" } }) {
                $out = 1..3 | Invoke-IpcPool -Pool $one $script -Ordered -ErrorVariable failed -ErrorAction SilentlyContinue
                $out | Should -Be @('after 1', 'after 2', 'after 3') -Because "of $script"
                $failed | Should -HaveCount 3
                @($failed.TargetObject) | Should -Be @(1, 2, 3)
            }
        } finally { Remove-IpcPool $one }
    }

    It 'gives a script with a process block each item as its pipeline input: $_, and its pipeline parameter' {
        $one = New-IpcPool -Size 1
        try {
            (1..3 | Invoke-IpcPool -Pool $one { begin { $m = 10 } process { $_ * $m } } -Ordered) | Should -Be @(10, 20, 30)
            (1..3 | Invoke-IpcPool -Pool $one { process { "[$_]" } } -Ordered) | Should -Be @('[1]', '[2]', '[3]')
            (1..2 | Invoke-IpcPool -Pool $one { process { "p$_" } end { 'end' } } -Ordered) | Should -Be @('p1', 'end', 'p2', 'end')
            (1..3 | Invoke-IpcPool -Pool $one { param([Parameter(ValueFromPipeline)] $x) process { $x + 1 } } -Ordered) | Should -Be @(2, 3, 4)
            (1..3 | Invoke-IpcPool -Pool $one -ArgumentList 5 { param($k, [Parameter(ValueFromPipeline)] $x) process { $x * $k } } -Ordered) | Should -Be @(5, 10, 15)
        } finally { Remove-IpcPool $one }
    }

    It 'fails only the item whose records cannot be sent back; its worker goes on' {
        $one = New-IpcPool -Size 1
        try {
            $worker = $one.Pids[0]
            # Item 2 writes an information record whose data is too many objects for one message (the codec refuses it).
            $out = 1..4 | Invoke-IpcPool -Pool $one -ChunkSize 4 -Ordered {
                if ($_ -eq 2) { Write-Information -MessageData @(1..20000 | ForEach-Object { @{} }) }
                "$_ by $PID"
            } -ErrorVariable failed -ErrorAction SilentlyContinue -InformationAction SilentlyContinue
            $out | Should -Be @("1 by $worker", "3 by $worker", "4 by $worker")
            $failed | Should -HaveCount 1
            $failed[0].TargetObject | Should -Be 2
            $failed[0].FullyQualifiedErrorId | Should -Not -Match 'PoolWorkerDied'
            $one.Replaced | Should -Be 0
            $one.Pids[0] | Should -Be $worker
        } finally { Remove-IpcPool $one }
    }

    It 'gives each item to its worker as it was when it was piped in, though the command before changes the same object for its next item' {
        # One hashtable and one custom object filled again for each item (items wait in this session until a chunk
        # goes: they used to be sent as they were then, 250 of 300 wrong); byte arrays and plain values beside them.
        $r = & { $h = @{}; $o = [pscustomobject]@{ N = 0 }; foreach ($i in 1..300) { $h.N = $i; $h; $o.N = $i; $o; , [byte[]]@(($i % 256), 7); "s$i" } } |
            Invoke-IpcPool -Pool $pool -Ordered { if ($_ -is [byte[]]) { "bytes $($_ -join ',')" } elseif ($_ -is [string]) { $_ } else { $_.N } }
        $expected = foreach ($i in 1..300) { $i; $i; "bytes $($i % 256),7"; "s$i" }
        $r.Count | Should -Be 1200
        $wrong = for ($k = 0; $k -lt 1200; $k++) { if ($r[$k] -ne $expected[$k]) { $k } }
        @($wrong).Count | Should -Be 0 -Because "each item as it was piped in (first wrong: $(@($wrong)[0]))"
    }

    It 'gives every worker, and one that replaces a dead worker, the arguments and $using: values as they were when the call started' {
        # The command before changes the hashtable and the object for each item; the call's values are read when it
        # starts (docs: Invoke-IpcPool). They used to be encoded at each worker's first chunk: the first worker saw
        # item 1's values, the one that replaced it after item 30 killed it saw item 31's.
        $one = New-IpcPool -Size 1
        try {
            $h = @{ N = 0 }; $o = [pscustomobject]@{ N = 0 }
            $r = & { foreach ($i in 1..60) { $h.N = $i; $o.N = $i; $i } } |
                Invoke-IpcPool -Pool $one -Ordered -ArgumentList $o {
                    param($o)
                    if ($_ -eq 30) { Stop-Process -Id $PID -Force }
                    "$($using:h.N) $($o.N) $([object]::ReferenceEquals($o, $using:o))"
                } -ErrorVariable died -ErrorAction SilentlyContinue
            $died | Should -HaveCount 1
            $died[0].TargetObject | Should -Be 30
            $one.Replaced | Should -Be 1
            $r | Should -HaveCount 59
            @($r | Sort-Object -Unique) | Should -Be @('0 0 True') -Because 'every item saw the values of the call''s start; an object among both the arguments and $using: is one object'
        } finally { Remove-IpcPool $one }
    }

    It 'fails the call at its start when an argument or a $using: value cannot be sent, before any input, and the pool serves the next call' {
        # Its receiver would refuse it (memory to decode). Without input nothing was ever sent: such a call used to
        # end without an error.
        $bad = [object[]]::new(20000); for ($i = 0; $i -lt $bad.Length; $i++) { $bad[$i] = @{} }
        Get-ErrorId { @() | Invoke-IpcPool -Pool $pool -ArgumentList (, $bad) { $_ } } | Should -Match '^IpcInvalidArgument'
        $e = Get-ThrownException { @() | Invoke-IpcPool -Pool $pool { $using:bad.Count } }
        $e | Should -BeOfType ([ArgumentException])
        $e.Message | Should -Match 'argument or \$using: value of the call cannot be sent.*memory to decode'
        1..3 | Invoke-IpcPool -Pool $pool -Ordered { $_ * 2 } | Should -Be @(2, 4, 6)
    }

    It 'fails a call whose argument cannot be sent before it makes a pool for it: no spare is taken' {
        # A spare ready now, so that a pool made for the call would take it.
        [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue
        $spares = [IpcPs.Hosting.SpareChildren]::Pids
        $spares | Should -Not -BeNullOrEmpty
        $bad = [object[]]::new(20000); for ($i = 0; $i -lt $bad.Length; $i++) { $bad[$i] = @{} }
        Get-ErrorId { 1..3 | Invoke-IpcPool -ThrottleLimit 1 -ArgumentList (, $bad) { $_ } } | Should -Match '^IpcInvalidArgument'
        Get-ErrorId { 1..3 | Invoke-IpcPool -ThrottleLimit 1 { $using:bad.Count } } | Should -Match '^IpcInvalidArgument'
        [IpcPs.Hosting.SpareChildren]::Pids | Should -Be $spares -Because 'the values were refused before a worker was started'
    }

    It 'sends each result as its item left it: an object a later item changes, a script property read on the worker''s runspace thread' {
        $one = New-IpcPool -Size 1
        try {
            # One hashtable, filled again by each item of the chunk (the results used to go at the chunk's end: 1, 4, 4, 4).
            $n = 1..4 | Invoke-IpcPool -Pool $one -ChunkSize 4 -Ordered { if ($_ -eq 1) { $h = @{} }; $h.N = $_; $h }
            @($n.N) | Should -Be @(1, 2, 3, 4)
            # Script properties of $this: one reads a box the next item changes, one says whether it runs on the thread
            # that ran the item (the runspace's). Each item lasts 20 ms (its duration, not a wait for anything), so the chunk's 2 ms heartbeat,
            # a timer thread, meets each result while the next item runs: it used to encode them there.
            $r = 1..5 | Invoke-IpcPool -Pool $one -ChunkSize 5 -Ordered {
                if ($_ -eq 1) { $box = @{} }
                $box.N = $_
                [pscustomobject]@{ A = $_; Box = $box; Thread = [Threading.Thread]::CurrentThread.ManagedThreadId } |
                    Add-Member -PassThru ScriptProperty B { $this.Box.N } |
                    Add-Member -PassThru ScriptProperty OnItemThread { [Threading.Thread]::CurrentThread.ManagedThreadId -eq $this.Thread }
                $until = [DateTime]::UtcNow.AddMilliseconds(20)
                while ([DateTime]::UtcNow -lt $until) { }
            }
            @($r.A) | Should -Be @(1, 2, 3, 4, 5)
            @($r.B) | Should -Be @(1, 2, 3, 4, 5)
            @($r.OnItemThread) | Should -Be @($true, $true, $true, $true, $true)
            @($r.Box.N) | Should -Be @(1, 2, 3, 4, 5)
            # An item's output, then its records, item by item, beside results encoded early (Write-Host's data is an object).
            $mixed = 1..3 | Invoke-IpcPool -Pool $one -ChunkSize 3 -Ordered { Write-Host "h$_"; [pscustomobject]@{ I = $_ } } 6>&1
            @($mixed | ForEach-Object { if ($_ -is [Management.Automation.InformationRecord]) { "$_" } else { $_.I } }) | Should -Be @(1, 'h1', 2, 'h2', 3, 'h3')
            $one.Replaced | Should -Be 0
        } finally { Remove-IpcPool $one }
    }

    It 'hands the next chunk to a free worker before a busy one (chunks of <ChunkSize>)' -ForEach @(@{ ChunkSize = 1 }, @{ ChunkSize = 0 }) {
        # Two items that can only finish together: each waits for the other at a barrier of two.
        $b = New-IpcBarrier -Parties 2
        try {
            $out = 1..2 | Invoke-IpcPool -Pool $pool -ChunkSize $ChunkSize -ArgumentList $b { param($b) $null = $b.Wait(15); $PID } -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed | Should -BeNullOrEmpty
            @($out | Sort-Object -Unique) | Should -HaveCount 2
        } finally { $b.Close() }
    }

    It 'gives a chunk bigger than a busy worker''s pipe to the first worker free for it, not to the busy one' {
        $release = New-IpcEvent
        $never = New-IpcEvent
        try {
            # Item 0 holds a worker until item 2 runs; item 1 holds the other for 3 s. Item 2 is 1.5 MB, more than a
            # worker pipe's 1 MiB ring, and comes while both are busy: a send to the least busy (the first, on a tie)
            # waited for it to read, which it does only after item 0, and the other one, free once item 1 ended, got
            # nothing. It must go to the worker that is free first, the second. (The input waits meanwhile: an item
            # given is in a worker's hands before the input goes on.)
            $big = 'x' * 1.5MB
            $out = & { 'hold'; 'brief'; "big$big" } |
                Invoke-IpcPool -Pool $pool -ChunkSize 1 -Ordered -ArgumentList $release, $never {
                    param($release, $never)
                    if ($_ -eq 'hold') { "hold $PID $($release.Wait(30))" }
                    elseif ($_ -eq 'brief') { "brief $PID $($never.Wait(3))" }
                    else { $release.Set(); "big $PID" }
                }
            $out | Should -HaveCount 3
            $hold, $brief, $bigRun = $out | ForEach-Object { , ($_ -split ' ') }
            $hold[0] | Should -Be 'hold'
            $brief[0] | Should -Be 'brief'
            $bigRun[0] | Should -Be 'big'
            $hold[1] | Should -Not -Be $brief[1] -Because 'the two items that wait ran in both workers'
            $bigRun[1] | Should -Be $brief[1] -Because 'the big item goes to the worker free first'
            $hold[2] | Should -Be 'True' -Because 'the big item ran while the first worker still held its item'
        } finally { $release.Close(); $never.Close() }
    }

    It 'stops at once while chunks bigger than a busy worker''s pipe wait for it, and replaces that worker' {
        $one = New-IpcPool -Size 1
        $never = New-IpcEvent
        $started = New-IpcQueue
        try {
            $worker = $one.Pids[0]
            # Item 0 waits for ever; items 1.. are 1.5 MB each (more than the worker pipe's 1 MiB ring): none is sent
            # to the busy worker, and the call waits for it until too many are queued. Stop must end that wait.
            $run = Start-Stoppable { param($p, $never, $started)
                $big = 'x' * 1.5MB
                0..3 | ForEach-Object { "$_" + $big } | Invoke-IpcPool -Pool $p -ChunkSize 1 -ArgumentList $never, $started {
                    param($n, $s)
                    if ($_.StartsWith('0')) { $s.Put($PID); $null = $n.Wait(600) }
                    $_.Length
                } } -Arguments $one, $never, $started
            $started.Get($true, 60) | Should -Be $worker
            $stop = $run.PowerShell.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne(30000) | Should -BeTrue -Because 'Stop ends the wait for the busy worker'
            $run.PowerShell.Dispose()
            Wait-Until { -not (Get-Process -Id $worker -ErrorAction SilentlyContinue) } -Because 'the stopped call replaces its busy worker'
            # The replacement serves the next call.
            (1..3 | Invoke-IpcPool -Pool $one { $_ * 2 } -Ordered) | Should -Be @(2, 4, 6)
        } finally { Remove-IpcPool $one; $never.Close(); $started.Close() }
    }

    It 'returns every result of a long call with automatic chunks' {
        $sum = (1..20000 | Invoke-IpcPool -Pool $pool { $_ } | Measure-Object -Sum).Sum
        $sum | Should -Be (20000 * 20001 / 2)
    }
}

Describe 'Pool deaths between items' {
    It 'fails only the item its worker cannot receive, not a good one sent in the same chunk before it' {
        $one = New-IpcPool -Size 1
        $gone = New-IpcEvent
        try {
            # A handle of an object already destroyed: the worker cannot re-attach it. Item 0 goes alone (the worker is
            # idle); items 1 and 2 ('2' and $gone) fill the next chunk: '2' runs, as '4' does.
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $out = & { 1; 2; $gone; 4 } | Invoke-IpcPool -Pool $one -ChunkSize 2 -Ordered { "$_" } -ErrorVariable failed -ErrorAction SilentlyContinue
            @($failed.TargetObject) | Should -Be @($gone) -Because 'only the item the worker cannot read is reported'
            $out | Should -Be @('1', '2', '4')
            $one.Replaced | Should -Be 0
        } finally { Remove-IpcPool $one; $gone.Close() }
    }

    It 'ends the call once, with why, when its workers cannot receive an argument or a $using: value, and keeps the workers' -ForEach @(
        @{ How = 'argument' }, @{ How = 'using' }
    ) {
        $one = New-IpcPool -Size 1
        $gone = New-IpcEvent
        try {
            # The call's values are sent to every worker: a handle whose object is gone cannot be re-attached by any.
            # It used to end each worker that read the call, one death per item (each item blamed after two).
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $caught = $null
            try {
                if ($How -eq 'argument') { $null = 1..50 | Invoke-IpcPool -Pool $one -ArgumentList $gone { param($e) $_ } -ChunkSize 5 }
                else { $null = 1..50 | Invoke-IpcPool -Pool $one { $null = $using:gone; $_ } -ChunkSize 5 }
            } catch { $caught = $_ }
            $caught | Should -Not -BeNullOrEmpty -Because 'the call fails'
            $caught.FullyQualifiedErrorId | Should -Match '^IpcObjectNotFound'
            $caught.ErrorDetails.Message | Should -BeLike "*The worker could not receive the call's arguments or `$using: values: *$($gone.Name)*"
            $one.Replaced | Should -Be 0
            1..3 | Invoke-IpcPool -Pool $one -Ordered { $_ * 2 } | Should -Be @(2, 4, 6) -Because 'the pool serves the next call'
            $one.Replaced | Should -Be 0
        } finally { Remove-IpcPool $one; $gone.Close() }
    }

    It 'keeps every worker that was sent the call''s values when none can receive them: each says so, none is replaced' {
        $two = New-IpcPool -Size 2
        $gone = New-IpcEvent
        try {
            Remove-IpcObject -InputObject $gone -Confirm:$false
            $pids = $two.Pids
            # One item a chunk: the first goes to one worker with the call's values, the second to the other (the one
            # with fewer in flight) before the first worker's answer can be back. Both then hold items of the call
            # when the first callerror comes; the second used to be replaced as busy (Replaced 1).
            $caught = $null
            try { $null = 1..50 | Invoke-IpcPool -Pool $two -ArgumentList $gone { param($e) $_ } -ChunkSize 1 } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Match '^IpcObjectNotFound'
            $two.Replaced | Should -Be 0 -Because 'the other worker said the same, and holds nothing of the call'
            $two.Pids | Should -Be $pids
            (1..4 | Invoke-IpcPool -Pool $two -Ordered { $_ * 2 }) | Should -Be @(2, 4, 6, 8) -Because 'both workers serve the next call'
            $two.Replaced | Should -Be 0
        } finally { Remove-IpcPool $two; $gone.Close() }
    }

    It 'reports an item whose result ends its worker as it goes (after the item finished), rather than running it on new workers for ever' {
        $one = New-IpcPool -Size 1
        try {
            # Item 2's output has a property whose getter kills the worker: the item finishes (its progress word says
            # so), and the worker dies encoding its result. Every new worker would run it again and die the same way.
            $run = Start-Stoppable { param($p)
                $out = 1..3 | Invoke-IpcPool -Pool $p -ChunkSize 1 -Ordered {
                    if ($_ -eq 2) {
                        Add-Type -TypeDefinition 'public class IpcPsReviewBoom { public int Value { get { System.Diagnostics.Process.GetCurrentProcess().Kill(); return 0; } } }'
                        [IpcPsReviewBoom]::new()
                    } else { $_ }
                } -ErrorVariable died -ErrorAction SilentlyContinue
                [pscustomobject]@{ Out = $out; Died = $died }
            } -Arguments $one
            $ended = $run.Async.AsyncWaitHandle.WaitOne(60000)
            if (-not $ended) { $run.PowerShell.Stop() }
            $ended | Should -BeTrue -Because "the call ends (workers replaced so far: $($one.Replaced))"
            $r = $run.PowerShell.EndInvoke($run.Async)[0]
            $r.Out | Should -Be @(1, 3)
            $r.Died | Should -HaveCount 1
            $r.Died[0].FullyQualifiedErrorId | Should -Match '^PoolWorkerDied'
            $r.Died[0].TargetObject | Should -Be 2
            $one.Replaced | Should -Be 2
        } finally { if ($run) { $run.PowerShell.Dispose() }; Remove-IpcPool $one }
    }
}

Describe 'Pool items held while the input pauses' {
    # One worker, chunks of one (no item waits for a chunk to fill). 'hold' keeps the worker busy until the input lets
    # it go or 3 s pass. The input gives more, then lets 'hold' go and waits for the last item to run. A call that
    # returned to the input with that item still queued in the session would send it only when the input goes on, so the
    # wait would fail; the call must keep the input until the worker took it (here: until 'hold' ended by itself).
    BeforeEach {
        $script:one = New-IpcPool -Size 1
        $script:release = New-IpcEvent
        $script:ran = New-IpcEvent
    }
    AfterEach { Remove-IpcPool $script:one; $script:release.Close(); $script:ran.Close() }

    It 'sends an item beyond a busy worker''s chunks in flight before the input goes on' {
        $state = @{}
        $out = & {
            'hold'; 'second'; 'third'
            $script:release.Set()
            $state.Ran = $script:ran.Wait(30)
        } | Invoke-IpcPool -Pool $script:one -ChunkSize 1 -Ordered -ArgumentList $script:release, $script:ran {
            param($release, $ran)
            if ($_ -eq 'hold') { $null = $release.Wait(3) } elseif ($_ -eq 'third') { $ran.Set() }
            $_
        }
        $out | Should -Be @('hold', 'second', 'third')
        $state.Ran | Should -BeTrue -Because 'the third item ran while the input waited for it'
    }

    It 'sends an item larger than a busy worker''s pipe once the worker is free, before the input goes on' {
        $state = @{}
        $big = 'big' + ('x' * 1.5MB)
        $out = & {
            'hold'; $big
            $script:release.Set()
            $state.Ran = $script:ran.Wait(30)
        } | Invoke-IpcPool -Pool $script:one -ChunkSize 1 -Ordered -ArgumentList $script:release, $script:ran {
            param($release, $ran)
            if ($_ -eq 'hold') { $null = $release.Wait(3); 'hold' } else { $ran.Set(); $_.Length }
        }
        $out | Should -Be @('hold', $big.Length)
        $state.Ran | Should -BeTrue -Because 'the big item ran while the input waited for it'
    }
}
