BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Chunked pool calls' {
    BeforeAll { $script:pool = New-IpcPool -Size 2 }
    AfterAll { Remove-IpcPool $pool }

    It 'keeps -Ordered, and delivers every item once, with chunks of <ChunkSize>' -ForEach @(
        @{ ChunkSize = 1 }, @{ ChunkSize = 7 }, @{ ChunkSize = 0 }
    ) {
        $ordered = 1..500 | Invoke-IpcPool -Pool $pool { $_ * 2 } -Ordered -ChunkSize $ChunkSize
        ($ordered -join ',') | Should -Be ((1..500 | ForEach-Object { $_ * 2 }) -join ',')
        $unordered = 1..500 | Invoke-IpcPool -Pool $pool { $_ * 2 } -ChunkSize $ChunkSize
        (($unordered | Sort-Object) -join ',') | Should -Be ((1..500 | ForEach-Object { $_ * 2 }) -join ',')
    }

    It 'names the item in each error of a chunk, runs the items after a failing one, and ends only the item on exit' {
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

    It 'reports the item a worker was killed in, mid-chunk; the finished items are kept and the others retried' {
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
            $died[0].ErrorDetails.Message | Should -BeLike "``[item 14 '15'``] The pool worker process * died (ended by signal 9, SIGKILL)*"
            $one.Replaced | Should -Be 1
        } finally { Remove-IpcPool $one; $q.Close(); $never.Close() }
    }

    It 'returns every result of a long call with automatic chunks' {
        $sum = (1..20000 | Invoke-IpcPool -Pool $pool { $_ } | Measure-Object -Sum).Sum
        $sum | Should -Be (20000 * 20001 / 2)
    }
}
