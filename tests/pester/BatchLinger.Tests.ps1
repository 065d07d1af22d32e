BeforeAll {
    . $PSScriptRoot/Common.ps1
}

# Send-IpcMessage's held batches go after ~1 ms: one linger thread per process (Hosting/LingerClock) sees a batch held
# that long and hands it to its batcher's own timer, which sends it (and waits for room) on the thread pool.
Describe 'Batches: the linger clock' {
    It 'sends what a stalled producer holds while another producer of the same process waits for room for its own' {
        # A holds nine items that a bounded queue has no room for and stalls (on a .NET wait, not on IpcPs): only its
        # timer can send them, waiting for room. B, in another runspace of this process, then holds three and stalls:
        # they must come while A's wait goes on. An attempt where A's second item came slowly (it then went alone and
        # A's pipeline thread waits for room itself, before its stall) does not reach that state: it is tried again.
        $producer = {
            param($q, $stalled, $gate, $prefix, $n)
            $warm = New-IpcQueue; 1..10 | Send-IpcMessage $warm; $warm.Close()   # compiled: the items below come back to back
            & { foreach ($i in 1..$n) { "$prefix$i" }; $stalled.Set(); [void]$gate.Wait(120000) } | Send-IpcMessage $q
        }
        $reached = $false
        for ($attempt = 1; -not $reached -and $attempt -le 10; $attempt++) {
            $full = New-IpcQueue (New-TestName) -MaxSize 20
            $free = New-IpcQueue (New-TestName)
            $aStalled = [Threading.ManualResetEventSlim]::new($false)
            $bStalled = [Threading.ManualResetEventSlim]::new($false)
            $gate = [Threading.ManualResetEventSlim]::new($false)
            $a = $b = $null
            try {
                $full.PutMany(@(1..19))   # room for A's first item (it goes alone), never for the nine held after it
                $a = Start-Stoppable $producer -Arguments $full, $aStalled, $gate, 'a', 10
                Wait-Until { $full.PutWaiterCount -gt 0 } -Because 'A, or its timer, to wait for room'
                if (-not $aStalled.Wait(2000)) { continue }   # A's own send waits: not the state under test
                $b = Start-Stoppable $producer -Arguments $free, $bStalled, $gate, 'b', 3
                $reached = $true
                Receive-IpcMessage $free -Count 3 -Timeout 10 | Should -Be @('b1', 'b2', 'b3')
                $bStalled.IsSet | Should -BeTrue -Because 'B stalled before its items came (the end of its input would send them too)'
                $full.PutWaiterCount | Should -BeGreaterThan 0 -Because 'A''s timer still waits for room'
                Receive-IpcMessage $full -Count 20 -Timeout 30 | Should -Be @(1..19 + 'a1')
                Receive-IpcMessage $full -Count 9 -Timeout 30 | Should -Be (2..10 | ForEach-Object { "a$_" })
                $a.Async.IsCompleted | Should -BeFalse -Because 'A is still stalled: its held items went when room came'
                $gate.Set()
                foreach ($run in $a, $b) {
                    $null = $run.PowerShell.EndInvoke($run.Async)
                    $run.PowerShell.Streams.Error | Should -BeNullOrEmpty
                }
                $full.QSize() + $free.QSize() | Should -Be 0
            } finally {
                $gate.Set()
                foreach ($run in $a, $b) { if ($run) { $run.PowerShell.Stop(); $run.PowerShell.Dispose() } }
                $aStalled.Dispose(); $bStalled.Dispose(); $gate.Dispose(); $full.Close(); $free.Close()
            }
        }
        $reached | Should -BeTrue -Because 'an attempt had A hold its items before it stalled'
    }

    It 'lingers for one producer while another producer of the same process is the reader its held batch waits for' {
        # A holds large strings for a pipe whose ring holds a few KiB and stalls: its held batch can only go while B, in
        # another runspace of this process, reads the pipe; B reads one message at a time and between reads streams 50
        # items into a queue, each time holding a batch of its own. (A first linger thread sent A's batch itself and held
        # its lock meanwhile: B's next held batch waited for that lock, and A's send for B: both for ever.)
        $pipe = New-IpcPipe -BufferSize 4096
        $q = New-IpcQueue (New-TestName)
        $gate = [Threading.ManualResetEventSlim]::new($false)
        $a = $b = $null
        try {
            $a = Start-Stoppable {
                param($w, $gate)
                $warm = New-IpcQueue; 1..10 | Send-IpcMessage $warm; $warm.Close()   # compiled: the items below come back to back
                $big = 'x' * 65536
                $items = foreach ($i in 1..40) { "$i $big" }   # made first: piped, they come back to back
                & { $items; [void]$gate.Wait(120000) } | Send-IpcMessage $w
            } -Arguments $pipe[0], $gate
            $b = Start-Stoppable {
                param($r, $q)
                $warm = New-IpcQueue; 1..10 | Send-IpcMessage $warm; $warm.Close()
                foreach ($i in 1..40) {
                    $m = Receive-IpcMessage $r -Timeout 60
                    if (-not $m.StartsWith("$i ")) { throw "message $i came as $($m.Substring(0, 10))" }
                    1..50 | Send-IpcMessage $q
                }
                'read 40'
            } -Arguments $pipe[1], $q
            $b.Async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'B read all 40 while A stalled'
            $b.PowerShell.EndInvoke($b.Async) | Should -Be 'read 40'
            $b.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $q.QSize() | Should -Be 2000
            $a.Async.IsCompleted | Should -BeFalse -Because 'A still stalls: its items went by the linger'
        } finally {
            $gate.Set()
            foreach ($run in $a, $b) { if ($run) { $run.PowerShell.Stop(); $run.PowerShell.Dispose() } }
            $gate.Dispose(); $pipe[0].Close(); $pipe[1].Close(); $q.Close()
        }
    }
}
