BeforeAll {
    . $PSScriptRoot/Common.ps1

    # An initialization script that records the worker's start in a file of its own under DIR (named by its pid: no
    # file is shared, concurrent appends to one file can fail) and then holds the worker there, not ready, for 600 s:
    # a worker reads no "quit" before it is ready.
    function New-HoldingScript([string] $Dir) {
        [scriptblock]::Create("Set-Content -LiteralPath (Join-Path '$Dir' `$PID) -Value `$PID; Start-Sleep 600")
    }

    # Waits until COUNT workers have recorded their start under DIR (RUN must still be running); their pids.
    function Wait-Started([string] $Dir, [int] $Count, $Run) {
        Wait-Until -TimeoutSeconds 300 -Because "the $Count workers to start" {
            if ($Run.Async.IsCompleted) { throw "The call ended before its workers started: $($Run.PowerShell.InvocationStateInfo.Reason) $($Run.PowerShell.Streams.Error)" }
            @(Get-ChildItem -LiteralPath $Dir).Count -ge $Count
        }
        [int[]] @(Get-ChildItem -LiteralPath $Dir | ForEach-Object Name)
    }

    # Stops RUN as Ctrl+C would; the seconds PowerShell.Stop() took. It returns once the pipeline has ended.
    function Stop-Timed($Run) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $Run.PowerShell.Stop()
        $clock.Elapsed.TotalSeconds
    }
}

# Before, a pool's removal waited 3 s for each worker in turn, and a worker still starting reads no "quit": a stop took
# 3 s for each (18 s for six: it waits the whole 3 s for each, as the workers never quit), beyond the bound of 10 s.
# Now the workers still starting are told to end by their input's end, and exit at once (0.2-2 s for six, measured on
# this 2-CPU VM at a load average of 20), or, still loading pwsh, are killed after one grace of 3 s for them all: the
# bound leaves more than 6 s for a loaded machine.
Describe 'Ctrl+C while the workers of a pool are still starting' {
    BeforeAll {
        $script:sparesBefore = $env:IPCPS_SPARES
        $env:IPCPS_SPARES = '1'
    }
    AfterAll { $env:IPCPS_SPARES = $script:sparesBefore }

    It 'ends Invoke-IpcPool without -Pool within seconds, and no worker (warm spare or cold start) is left running' {
        $dir = Join-Path $TestDrive 'invoke'
        $null = New-Item -ItemType Directory $dir
        # A ready spare of this session, launched under the environment of now (one launched under another is not
        # used), so that one worker is made from it; the others start cold. A call starts one in the background.
        [IpcPs.Hosting.SpareChildren]::EndAll()
        $null = 1 | Invoke-IpcPool -ThrottleLimit 1 { $_ }
        [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'a spare is started after each start'
        $spare = [IpcPs.Hosting.SpareChildren]::Pids[0]
        # No input item comes before the stop: all six workers have nothing in hand, and are still starting.
        $run = Start-Stoppable { param($init) & { Start-Sleep 600 } | Invoke-IpcPool -ThrottleLimit 6 -InitializationScript $init { $_ } } -Arguments (New-HoldingScript $dir)
        try {
            $pids = Wait-Started $dir 6 $run
            $pids | Should -Contain $spare -Because 'the first worker was made from the warm spare'
            $seconds = Stop-Timed $run
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-Process -Id $pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'the stop returns once the workers have ended'
            $seconds | Should -BeLessThan 10
        } finally { $run.PowerShell.Dispose() }
    }

    It 'ends New-IpcPool within seconds, and no worker is left running' -Tag 'Windows' {
        $dir = Join-Path $TestDrive 'new'
        $null = New-Item -ItemType Directory $dir
        $run = Start-Stoppable { param($init) New-IpcPool -Size 6 -InitializationScript $init } -Arguments (New-HoldingScript $dir)
        try {
            $pids = Wait-Started $dir 6 $run
            $seconds = Stop-Timed $run
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Get-Process -Id $pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'the stop returns once the workers have ended'
            $seconds | Should -BeLessThan 10
        } finally { $run.PowerShell.Dispose() }
    }
}

Describe 'Removing a pool whose workers do not quit' {
    It 'Remove-IpcPool waits one grace of 3 s for all the workers that do not quit, not 3 s for each in turn' {
        $dir = Join-Path $TestDrive 'remove'
        $null = New-Item -ItemType Directory $dir
        $p = New-IpcPool -Size 4
        try {
            # Each worker records its pid in a file of its own and stays in its item: it reads no "quit".
            $item = [scriptblock]::Create("Set-Content -LiteralPath (Join-Path '$dir' `$PID) -Value `$PID; Start-Sleep 600")
            $run = Start-Stoppable { param($p, $item) 1..4 | Invoke-IpcPool -Pool $p -ChunkSize 1 $item } -Arguments $p, $item
            $pids = Wait-Started $dir 4 $run
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Remove-IpcPool $p
            $seconds = $clock.Elapsed.TotalSeconds
            Get-Process -Id $pids -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'the removal returns once the workers have ended'
            # Before: 3 s for each busy worker in turn, 12 s or more; now 3 s and the kills. 8 s: room for a loaded
            # machine, and well below the old 12.
            $seconds | Should -BeLessThan 8
            Wait-Until { $run.Async.IsCompleted } -TimeoutSeconds 60 -Because 'the call to end'
            @($run.PowerShell.Streams.Error)[0].FullyQualifiedErrorId | Should -Match '^IpcObjectClosed'
        } finally {
            if ($run -and -not $run.Async.IsCompleted) { $run.PowerShell.Stop() }
            if ($run) { $run.PowerShell.Dispose() }
            Remove-IpcPool $p
        }
    }
}
