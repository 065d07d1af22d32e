BeforeAll {
    . $PSScriptRoot/Common.ps1

    # The events of POOL not yet taken by a call (internal: read by reflection).
    function Get-PendingEvents($Pool) {
        $events = [IpcPs.IpcPool].GetProperty('Events', [Reflection.BindingFlags]'Instance, NonPublic').GetValue($Pool)
        $events.Count
    }
}

# Every message a pool worker sends is the worker's: a worker whose code keeps sending on its pipe (a thread it left
# running after its item) must not make the session hold every message it sent. The session's reader of each worker
# used to take whatever came and queue it for the next call, without a bound: between calls nobody takes them, and
# the session's memory grew with every message. Now a reader takes at most PoolWorkerProcess.MaxPendingEvents
# messages ahead of the call: after that the worker's sends wait for room in its pipe, as a pipe's writer waits for
# its reader.
Describe 'A pool worker that floods its pipe' {
    It 'makes the session hold no more than a bounded number of its messages, and the pool still serves the next call' {
        $p = New-IpcPool -Size 1
        $report = Join-Path ([IO.Path]::GetTempPath()) "$(New-TestName flood).txt"
        $count = 20000
        try {
            # The item leaves a runspace of its own in the worker that sends COUNT messages of 1 KB on the worker's end
            # of its pipe (its 1 MiB ring holds ~1,000 of them), each waiting at most 2 s for room; it writes how many went, then stops.
            $r = Invoke-IpcPool -Pool $p -ArgumentList $report, $count -InputObject 1 {
                param($report, $count)
                $end = @([IpcPs.IpcConnection].GetField('Holding', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null).Keys)[0]
                $ps = [powershell]::Create().AddScript({
                    param($end, $report, $count)
                    $send = [IpcPs.IMessageChannel].GetMethod('TrySend')
                    $message = [object[]]@('junk', ('x' * 1000))
                    $args5 = @($message, $null, $null, [TimeSpan]::FromSeconds(2), [Threading.CancellationToken]::None)
                    $sent = 0
                    try { while ($sent -lt $count -and $send.Invoke($end, $args5)) { $sent++ } }
                    finally { [IO.File]::WriteAllText($report, "$sent") }
                }).AddArgument($end).AddArgument($report).AddArgument($count)
                $null = $ps.BeginInvoke()
                'flooding'
            }
            $r | Should -Be 'flooding'
            Wait-Until { Test-Path $report } -TimeoutSeconds 90 -Because 'the worker''s sender to stop (all sent, or no room for 2 s)'
            $sent = [int](Get-Content $report)
            $pending = Get-PendingEvents $p
            $pending | Should -BeLessOrEqual 1024 -Because "the session holds a bounded number of a worker's messages ($sent sent)"
            $sent | Should -BeLessThan $count -Because 'the worker''s sends waited for the session once it held its bound'
            # The next call takes the messages left (they are no call's) and runs.
            1, 2, 3 | Invoke-IpcPool -Pool $p { $_ * 2 } | Sort-Object | Should -Be 2, 4, 6
        } finally {
            Remove-IpcPool $p
            Remove-Item -LiteralPath $report -ErrorAction Ignore
        }
    }
}
