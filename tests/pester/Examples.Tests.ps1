BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:Examples = Join-Path $PSScriptRoot '../../docs/examples'

    # Runs an example in a pwsh of its own, as a user would; returns its output lines. (Invoke-PwshProcess bounds it:
    # a hung example fails its test, with what was running, and the other examples still run.)
    function Invoke-Example([string] $Name, [string] $Arguments = '') {
        $r = Invoke-PwshProcess @('-NoProfile', '-NonInteractive', '-Command', "& '$(Join-Path $Examples $Name)' -ModulePath '$env:IPCPS_MODULE_PATH' $Arguments") -TimeoutSeconds 180
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $r.Lines
    }
}

Describe 'docs/examples' -Tag 'Windows' {
    It 'lock.ps1 (Python''s Lock example): ten processes each print hello world i, whole lines' {
        $lines = Invoke-Example 'lock.ps1'
        $lines.Count | Should -Be 10
        ($lines | Sort-Object { [int]($_ -replace '\D') }) | Should -Be (0..9 | ForEach-Object { "hello world $_" })
    }

    It 'event.ps1 (Python''s Event example): joo_a waits for joo_b''s event, so joo_b''s number comes first' {
        $lines = Invoke-Example 'event.ps1'
        $lines.Count | Should -Be 6
        $lines[0..3] | Should -Be @('subprocess joo_a start', 'subprocess joo_a ended', 'subprocess joo_b start', 'subprocess joo_b ended')
        [int]$lines[4] | Should -BeIn (200..300)
        [int]$lines[5] | Should -BeIn (1..100)
    }

    It 'pipe.ps1 (Python''s Pipe example): the parent receives the child''s message, then the end of the stream' {
        Invoke-Example 'pipe.ps1' | Should -Be @('hi!! I am PowerShell', 'the child has closed its end')
    }

    It 'queue.ps1 (Python''s Queue example): maxsize 5, even numbers, "queue is full", then the consumer drains it' {
        $lines = Invoke-Example 'queue.ps1' '-Numbers 2,4,6,8,10,12,14,3,5,7'
        $lines | Should -Be @(
            (2, 4, 6, 8, 10 | ForEach-Object { "put $_ in queue by producer" })
            'queue is full'
            (2, 4, 6, 8, 10 | ForEach-Object { "take data $_ from queue by consumer" })
            '0')
        $random = Invoke-Example 'queue.ps1'
        $random[-1] | Should -Be '0'
        $put = @($random -match '^put (\d+) in queue by producer$' | ForEach-Object { [int]($_ -replace '\D') })
        $taken = @($random -match '^take data (\d+) from queue by consumer$' | ForEach-Object { [int]($_ -replace '\D') })
        $taken | Should -Be $put
        $put | ForEach-Object { $_ % 2 | Should -Be 0 }
    }

    It 'demo.ps1 adds up across three workers under a lock, and through a queue' {
        $lines = Invoke-Example 'demo.ps1'
        ($lines -join "`n") | Should -Match 'expected 9000045000050000'
        ($lines -join "`n") | Should -Match 'Sum of the 3 messages from the queue: 9000045000050000'
        $lines[-1] | Should -Be 'demo finished'
        @($lines -match '^worker \d \(pid \d+\) added').Count | Should -Be 3
    }

    It 'value.ps1 (Python''s Value example): the child sets 10.78' {
        Invoke-Example 'value.ps1' | Should -Be @('10.78')
    }

    It 'array.ps1 (Python''s Array example): the child sets index 2 to 9999' {
        Invoke-Example 'array.ps1' | Should -Be @('1 2 9999 4 5')
    }

    It 'sharedmemory.ps1 (Python''s SharedMemory walkthrough)' {
        Invoke-Example 'sharedmemory.ps1' | Should -Be @('IpcPs.SharedMemory', '10', '22 33 44 55 100', 'howdy', 'False')
    }

    It 'shareablelist.ps1 (Python''s ShareableList walkthrough, with "exceeds available storage")' {
        $lines = Invoke-Example 'shareablelist.ps1'
        $lines[0] | Should -Be 'String Byte[] Double Int64 null Boolean Int64'
        $lines[1..3] | Should -Be @('-273.154', '-78.5', 'dry ice')
        $lines[4] | Should -BeLike 'error: *exceeds available storage*'
        $lines[5..9] | Should -Be @('dry ice', '7', '6', '0', '1')
        $lines[10..11] | Should -Be @('0 1 2 3 4', '-999')
    }

    It 'sharedmemorymanager.ps1 (Python''s SharedMemoryManager example): two halves of 2000 items, nothing left' {
        Invoke-Example 'sharedmemorymanager.ps1' | Should -Be @('partial sums: 499500 1499500', 'total: 1999000', 'left in /dev/shm: False')
    }

    It 'pool-lock.ps1 (Python''s Lock example, in a pool): hello world 0 to 9, in input order' {
        Invoke-Example 'pool-lock.ps1' | Should -Be (0..9 | ForEach-Object { "hello world $_" })
    }

    It 'pool-sharedmemorymanager.ps1 (Python''s SharedMemoryManager example, in a pool): the same sums, nothing left' {
        Invoke-Example 'pool-sharedmemorymanager.ps1' | Should -Be @('partial sums: 499500 1499500', 'total: 1999000', 'left in /dev/shm: False', 'sum of squares 1..100: 338350')
    }

    It 'manager.ps1 (Python''s Manager example): a child fills a managed dict and reverses a managed list' {
        Invoke-Example 'manager.ps1' | Should -Be @('{0.25: None, 1: ''1'', ''2'': 2}', '[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]', 'socket directory left: False')
    }

    It 'managercustom.ps1 (Python''s MathsClass registration): prints 7 and 56; an unexposed member is refused' {
        Invoke-Example 'managercustom.ps1' | Should -Be @('7', '56', 'seed article', 'Clear: ''Builder'' does not expose ''Clear''; exposed: Append, ToString.')
    }

    It 'redis.ps1 (issue 14): workers share a Redis work queue (each job once) and deploy in turn with growing fencing tokens' {
        $redis = Start-TestRedis
        if (-not $redis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $saved = $env:IPCPS_BACKEND
        try {
            $env:IPCPS_BACKEND = $redis.Uri   # the child inherits it: no password on its command line
            $lines = Invoke-Example 'redis.ps1'
        } finally { $env:IPCPS_BACKEND = $saved; Stop-TestRedis $redis }
        $lines[-1] | Should -Be 'all 12 jobs done; dead letters: 0'
        $workers = @($lines | Where-Object { $_ -match '^worker (\d) did (\d+) jobs, then deployed with fencing token (\d+)$' } | ForEach-Object {
            [pscustomobject]@{ Done = [int]($_ -replace '^worker \d did (\d+) .*$', '$1'); Token = [long]($_ -replace '^.* token (\d+)$', '$1') } })
        $workers.Count | Should -Be 3
        ($workers.Done | Measure-Object -Sum).Sum | Should -Be 12
        @($workers.Token | Sort-Object -Unique).Count | Should -Be 3
    }
}
