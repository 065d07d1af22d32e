BeforeAll {
    . $PSScriptRoot/Common.ps1
}

# A call that ends with a worker's initialization error (a replacement whose -InitializationScript failed, or a "ready"
# message with an error from a worker: every message is the worker's) used to end without the results that had
# already come: with -Ordered, those held for an earlier item were dropped. Every other error that ends a call writes
# them first; now this one does too.
Describe 'A call ended by a worker''s initialization error' {
    It 'writes the results that came before it, then fails with the worker''s error' {
        $p = New-IpcPool -Size 2
        $last = New-IpcEvent
        try {
            # -ChunkSize 1: a worker holds two items at most. 'hold' keeps its worker until the item 'e' runs on the
            # other worker, which gets 'e' only once the session has taken the results of two items before it (held,
            # with -Ordered, behind 'hold'); then 'hold' sends a "ready" with an error, as a replacement whose
            # initialization failed would.
            $script = {
                param($last)
                if ($_ -eq 'hold') {
                    if (-not $last.Wait(60)) { throw 'the item e never ran' }
                    $end = @([IpcPs.IpcConnection].GetField('Holding', [Reflection.BindingFlags]'NonPublic,Static').GetValue($null).Keys)[0]
                    $end.Send([object[]]@('ready', $PID, @{ Message = 'initialization failed (forged)' }))
                    $null = $last.Wait(60)   # its own result never comes: the call ends on the error first
                } else {
                    if ($_ -eq 'e') { $null = $last.Set() }
                    $_
                }
            }
            $out = [Collections.Generic.List[object]]::new()
            $thrown = $null
            try { 'hold', 'a', 'b', 'c', 'd', 'e' | Invoke-IpcPool -Pool $p -Ordered -ChunkSize 1 -ArgumentList $last $script | ForEach-Object { $out.Add($_) } }
            catch { $thrown = $_ }
            $thrown | Should -Not -BeNullOrEmpty -Because 'the worker''s error ends the call'
            "$thrown" | Should -BeLike '*initialization failed (forged)*'
            @($out).Count | Should -BeGreaterOrEqual 2 -Because "the results that came before the error are written ($(@($out) -join ', '))"
            @($out | Where-Object { $_ -notin 'a', 'b', 'c', 'd', 'e' }).Count | Should -Be 0
        } finally {
            Remove-IpcPool $p
            $last.Close()
        }
    }
}
