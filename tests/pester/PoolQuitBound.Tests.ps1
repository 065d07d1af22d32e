BeforeAll {
    . $PSScriptRoot/Common.ps1

    # The bytes a message takes in a pipe's ring: the frame header and its encoding (docs/design.md, "Pipe").
    $script:FrameHeader = [IpcPs.IpcConnection].GetField('FrameHeader', [Reflection.BindingFlags]'NonPublic,Static').GetRawConstantValue()
    function Get-FrameBytes([object[]] $Message) { $FrameHeader + [IpcPs.Core.Messaging.MessageCodec]::EncodeToArray($Message, 2).Length }

    # The room left now in the ring the session writes to the worker in SLOT of POOL (internal: read by reflection).
    function Get-SendRoom($Pool, [int] $Slot) {
        $flags = [Reflection.BindingFlags]'Instance, NonPublic'
        $worker = [IpcPs.IpcPool].GetMethod('Worker', $flags).Invoke($Pool, @($Slot))
        $pipe = $worker.GetType().GetField('_pipe', $flags).GetValue($worker)
        [IpcPs.IpcConnection].GetProperty('SendRoom', $flags).GetValue($pipe)
    }
}

# A busy worker reads its pipe only after its item, and the session hands it what fits in its ring now (one chunk ahead
# with -ChunkSize 1). Remove-IpcPool's "quit" used to wait for room without a bound: with the ring full behind an item
# that never ends, the removal hung for ever (its kill after the grace was never reached). Now the quit waits at most
# the grace, then the worker is killed: the removal takes ~3 s; the bound leaves room for a loaded machine.
Describe 'Removing a pool whose busy worker''s pipe is full' {
    It 'Remove-IpcPool returns within the grace and the kill, though "quit" cannot fit in the worker''s pipe, and the worker is gone' {
        $p = New-IpcPool -Size 1
        $worker = $p.Pids[0]
        $running = New-IpcEvent
        $never = New-IpcEvent
        $ring = [IpcPs.IpcConnection]::DefaultBufferSize
        # A string item whose chunk (the pool's first call: id 1; item index 1) fills the ring exactly.
        $chunkOf = { param($n) Get-FrameBytes @('chunk', 1, [long[]]@(1), [object[]]@('x' * $n)) }
        $n = $ring - (& $chunkOf 0)
        foreach ($i in 1..3) { $n += $ring - (& $chunkOf $n) }
        & $chunkOf $n | Should -Be $ring
        $run = $remove = $null
        try {
            # Item 0 holds the worker for ever; once it runs (its chunk was read: the ring is empty), the input gives
            # the item that fills the ring.
            $run = Start-Stoppable {
                param($p, $running, $never, $n)
                & { 'hold'; if (-not $running.Wait(60)) { throw 'item 0 did not start' }; 'x' * $n } |
                    Invoke-IpcPool -Pool $p -ChunkSize 1 -ArgumentList $running, $never { param($running, $never) if ($_ -eq 'hold') { $running.Set(); $null = $never.Wait() } else { $_.Length } }
            } -Arguments $p, $running, $never, $n
            Wait-Until -TimeoutSeconds 120 -Because 'the second item to fill the worker''s pipe' {
                if ($run.Async.IsCompleted) { throw "The call ended: $($run.PowerShell.InvocationStateInfo.Reason) $($run.PowerShell.Streams.Error)" }
                (Get-SendRoom $p 0) -eq 0
            }
            Get-SendRoom $p 0 | Should -BeLessThan (Get-FrameBytes @('quit')) -Because 'this is the case of a "quit" that cannot fit'
            # In a runspace of its own: before, it never returned.
            $remove = Start-Stoppable { param($p) Remove-IpcPool $p } -Arguments $p
            Wait-Until { $remove.Async.IsCompleted } -TimeoutSeconds 30 -Because 'Remove-IpcPool to return (one grace of 3 s, then the kill)'
            $remove.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $p.IsRemoved | Should -BeTrue
            Get-Process -Id $worker -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'the removal returns once the worker has ended'
            Wait-Until { $run.Async.IsCompleted } -TimeoutSeconds 60 -Because 'the call to end'
            @($run.PowerShell.Streams.Error)[0].FullyQualifiedErrorId | Should -Match '^IpcObjectClosed'
        } finally {
            # A removal still hung in its send: the worker's death ends it (the send sees the other end gone).
            Stop-Process -Id $worker -Force -ErrorAction SilentlyContinue
            if ($remove) { Wait-Until { $remove.Async.IsCompleted } -TimeoutSeconds 60 -Because 'the removal to end'; $remove.PowerShell.Dispose() }
            if ($run) {
                if (-not $run.Async.IsCompleted) { $run.PowerShell.Stop() }
                $run.PowerShell.Dispose()
            }
            Remove-IpcPool $p
            $running.Close(); $never.Close()
            # A killed runtime leaves its debugger pipes and diagnostics socket in the temp folder.
            Get-ChildItem -Force ([IO.Path]::GetTempPath()) | Where-Object { $_.Name -like "clr-debug-pipe-$worker-*" -or $_.Name -like "dotnet-diagnostic-$worker-*" } | Remove-Item -Force
        }
    }
}
