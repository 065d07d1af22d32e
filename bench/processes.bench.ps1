#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks IpcPs's process pool and Start-IpcProcess beside Start-Job, Start-ThreadJob, ForEach-Object -Parallel
    and CPython's multiprocessing.Pool, in one run.
.DESCRIPTION
    Runs, one after the other (never overlapping: the machine may have few cores), with -Workers workers (2):
      1. Per-item overhead on a trivial item ({ $_ }), in ms per item (wall time / items):
         Invoke-IpcPool on the session's first pool (New-IpcPool and 200 items before timing: its workers are new
         processes, started cold or spares still booting, and the next spare boots beside the runs), unordered and
         -Ordered, and the same once the pool has run 200,000 more items (its workers' and this session's code
         compiled, as in a long-lived pool); Invoke-IpcPool making
         its own pool (start-up included); ForEach-Object -Parallel -ThrottleLimit 2; Start-ThreadJob jobs
         (-ThrottleLimit 2), one per item; Start-Job and Start-IpcProcess, one job per item, run one after another;
         a plain ForEach-Object in this session (the floor: what the item costs without any parallelism).
      2. A CPU-bound item (a PowerShell loop of -CpuLoop additions) over -CpuItems items: sequentially in this
         session, through the warm pool, and through ForEach-Object -Parallel; the speed-ups.
      3. Starting a child and getting its result: where the time of a cold start goes (pwsh that exits at once; one
         that imports IpcPs; one that also opens the child's runspace; a whole Start-IpcProcess -NoSpare), and
         Start-IpcProcess { 1 } | Receive-Job -Wait with a warm spare (each run after the spare is ready and settled; the job ends
         on the child's last frame), then, in other runs, when the cmdlet returned, the output arrived, the job ended
         and the child process had exited; medians of -Starts runs. Start-IpcManager from a spare and with -NoSpare.
      4. Memory: resident size of a pool worker and of an idle spare; this session's growth per 100,000 messages
         through a queue (Send-IpcMessage | Receive-IpcMessage), over 6 rounds after a warm-up round.
      5. bench/processes.py: CPython's Pool.map (chunksize 1 and default) on the identity function, its own
         CPU-bound speed-up and the machine's ceiling for it (independent processes, nothing sent), and
         start-and-result with spawn, forkserver and fork.
    Prints one table and whether the targets of docs/performance.md are met. Results are printed, never asserted.
    build.ps1 -Task Bench runs this with -ModulePath out/IpcPs/IpcPs.psd1.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/processes.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    # The module manifest to benchmark (out/IpcPs/IpcPs.psd1 after build.ps1 -Task Build).
    [Parameter(Mandatory)]
    [string] $ModulePath,
    # Fewer items: a smoke run of the script itself, numbers not meant to be kept.
    [switch] $Quick,
    [int] $Workers = 2,
    # Also write every number as JSON to this file.
    [string] $JsonPath,
    # Runs of each start measure (medians are reported).
    [int] $Starts = 9
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path

$items = if ($Quick) { 500 } else { 10000 }
$parallelItems = if ($Quick) { 200 } else { 2000 }
$threadJobItems = if ($Quick) { 100 } else { 200 }
$jobs = if ($Quick) { 2 } else { 5 }
$cpuItems = if ($Quick) { 6 } else { 40 }
$cpuLoop = if ($Quick) { 20000 } else { 1000000 }
if ($Quick) { $Starts = [Math]::Min($Starts, 3) }
$memoryRounds = if ($Quick) { 2 } else { 6 }
$memoryMessages = if ($Quick) { 10000 } else { 100000 }

# Imported from a private copy of the module folder (a rebuild during the run must not change the loaded dll); the
# workers load the module from the same folder, so it stays until the end.
$moduleCopy = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-$PID"
Copy-Item -Recurse (Split-Path $ModulePath) $moduleCopy
$pool = $null
try {
    Import-Module (Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)) -Force
    Import-Module Microsoft.PowerShell.ThreadJob -ErrorAction SilentlyContinue
    $psVersion = $PSVersionTable.PSVersion.ToString()
    $load = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 3
    $r = [ordered]@{}

    function PerItem([scriptblock] $Body, [int] $Count) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $null = & $Body
        $watch.Elapsed.TotalMilliseconds / $Count
    }

    # ---- 1. per-item overhead ------------------------------------------------------------------------------------
    Write-Host "Pool: starting the session's first pool, of $Workers workers"
    $pool = New-IpcPool -Size $Workers
    $null = 1..200 | Invoke-IpcPool -Pool $pool { $_ }   # warm: the workers' first items compile the script
    Write-Host "Pool: $items trivial items"
    # Best of 3: the machine is shared, and a single run mostly measures what else ran meanwhile.
    # The pool's three rows (automatic chunks, -ChunkSize 1024, -Ordered), each the best of 3, as $r.pool<INFIX>_*.
    function Measure-PoolRows([string] $Infix) {
        $r["pool$($Infix)_ms"] = (1..3 | ForEach-Object { PerItem { 1..$items | Invoke-IpcPool -Pool $pool { $_ } } $items } | Measure-Object -Minimum).Minimum
        $r["pool$($Infix)_chunk1024_ms"] = (1..3 | ForEach-Object { PerItem { 1..$items | Invoke-IpcPool -Pool $pool { $_ } -ChunkSize 1024 } $items } | Measure-Object -Minimum).Minimum
        $r["pool$($Infix)_ordered_ms"] = (1..3 | ForEach-Object { PerItem { 1..$items | Invoke-IpcPool -Pool $pool { $_ } -Ordered } $items } | Measure-Object -Minimum).Minimum
    }
    Measure-PoolRows ''
    # The same pool once its workers' code is compiled: a fresh worker runs the pool's paths at tier 0 for its first
    # ~200,000 trivial items (docs/performance.md), and the rows above time mostly that; a long-lived pool runs these.
    $warmRounds = if ($Quick) { 2 } else { 20 }
    Write-Host "Pool: $warmRounds x $items more items, then the same rows again"
    foreach ($i in 1..$warmRounds) { $null = 1..$items | Invoke-IpcPool -Pool $pool { $_ } }
    Measure-PoolRows '_warm'
    $check = 1..1000 | Invoke-IpcPool -Pool $pool { $_ } -Ordered
    if (($check -join ',') -ne ((1..1000) -join ',')) { throw 'The pool returned wrong results.' }
    Write-Host "Pool made per call: $parallelItems trivial items"
    $r.pool_cold_ms = PerItem { 1..$parallelItems | Invoke-IpcPool -ThrottleLimit $Workers { $_ } } $parallelItems
    Write-Host 'In this session: plain ForEach-Object'
    # Best of 3 too: the anchor of the pool's targets is measured as the pool is.
    $r.foreach_ms = (1..3 | ForEach-Object { PerItem { 1..$items | ForEach-Object { $_ } } $items } | Measure-Object -Minimum).Minimum
    Write-Host "ForEach-Object -Parallel: $parallelItems trivial items"
    $r.parallel_ms = PerItem { 1..$parallelItems | ForEach-Object -Parallel { $_ } -ThrottleLimit $Workers } $parallelItems
    if (Get-Command Start-ThreadJob -ErrorAction SilentlyContinue) {
        Write-Host "Start-ThreadJob: $threadJobItems jobs"
        $r.threadjob_ms = PerItem { 1..$threadJobItems | ForEach-Object { Start-ThreadJob -ThrottleLimit $Workers -ArgumentList $_ { param($x) $x } } | Receive-Job -Wait -AutoRemoveJob } $threadJobItems
    }
    Write-Host "Start-Job: $jobs jobs, one after another"
    $r.startjob_ms = PerItem { foreach ($i in 1..$jobs) { Start-Job -ArgumentList $i { param($x) $x } | Receive-Job -Wait -AutoRemoveJob } } $jobs
    Write-Host "Start-IpcProcess: $jobs jobs, one after another"
    $r.startipcprocess_ms = PerItem { foreach ($i in 1..$jobs) { Start-IpcProcess -ArgumentList $i { param($x) $x } | Receive-Job -Wait -AutoRemoveJob } } $jobs

    # ---- 2. CPU-bound speed-up -----------------------------------------------------------------------------------
    # Called with & everywhere (a script block of its own scope, which PowerShell compiles with its variables as
    # locals): run as ForEach-Object's own -Process block, in the caller's scope, the same loop is ~10x slower, which
    # would flatter the pool.
    $workText = "`$s = 0; for (`$i = 0; `$i -lt $cpuLoop; `$i++) { `$s += `$i % 7 }; `$s"
    $work = [scriptblock]::Create($workText)
    # Warm both sides alike (PowerShell interprets a script block's first runs, then compiles it).
    $null = 1..(4 * $Workers) | Invoke-IpcPool -Pool $pool $work
    $null = foreach ($n in 1..4) { & $work }
    # Alternately, best of 3 each: a neighbour's burst then hurts both sides alike, and the best run of each is the
    # one least disturbed.
    $r.cpu_sequential_s = $r.cpu_pool_s = [double]::MaxValue
    foreach ($round in 1..3) {
        Write-Host "CPU-bound, round $($round): $cpuItems items of $cpuLoop loop steps, sequentially, then through the warm pool"
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $seq = foreach ($n in 1..$cpuItems) { & $work }
        $r.cpu_sequential_s = [Math]::Min($r.cpu_sequential_s, $watch.Elapsed.TotalSeconds)
        $watch.Restart()
        $par = 1..$cpuItems | Invoke-IpcPool -Pool $pool $work -Ordered
        $r.cpu_pool_s = [Math]::Min($r.cpu_pool_s, $watch.Elapsed.TotalSeconds)
    }
    if (($seq -join ',') -ne ($par -join ',')) { throw 'The pool computed something else than the sequential run.' }
    Write-Host 'CPU-bound: through ForEach-Object -Parallel'
    $watch.Restart()
    $null = 1..$cpuItems | ForEach-Object -Parallel { & ([scriptblock]::Create($using:workText)) } -ThrottleLimit $Workers
    $r.cpu_parallel_s = $watch.Elapsed.TotalSeconds
    $r.cpu_pool_speedup = $r.cpu_sequential_s / $r.cpu_pool_s
    $r.cpu_parallel_speedup = $r.cpu_sequential_s / $r.cpu_parallel_s

    # ---- 3. starting a child: where the time goes, cold and warm --------------------------------------------------
    function Median([double[]] $Values) { ($Values | Sort-Object)[[int][Math]::Floor($Values.Count / 2)] }
    $exe = [Environment]::ProcessPath
    $pre = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { [Reflection.Assembly]::GetEntryAssembly().Location })
    $manifest = Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)
    Write-Host "Start, cold: where the time goes ($Starts runs each)"
    $r.start_pwsh_exit_ms = Median (1..$Starts | ForEach-Object { (Measure-Command { & $exe @pre -NoProfile -NonInteractive -Command 'exit' }).TotalMilliseconds })
    $r.start_pwsh_import_ms = Median (1..$Starts | ForEach-Object { (Measure-Command { & $exe @pre -NoProfile -NonInteractive -Command "Import-Module '$manifest'; exit" }).TotalMilliseconds })
    $openRunspace = "Import-Module '$manifest'; `$i = [initialsessionstate]::CreateDefault2(); `$i.ImportPSModule('$manifest'); `$s = [runspacefactory]::CreateRunspace(`$i); `$s.Open(); `$p = [powershell]::Create(); `$p.Runspace = `$s; `$null = `$p.AddScript('1').Invoke(); exit"
    $r.start_pwsh_runspace_ms = Median (1..$Starts | ForEach-Object { (Measure-Command { & $exe @pre -NoProfile -NonInteractive -Command $openRunspace }).TotalMilliseconds })
    $r.start_cold_ms = Median (1..$Starts | ForEach-Object { (Measure-Command { Start-IpcProcess -NoSpare { 1 } | Receive-Job -Wait -AutoRemoveJob }).TotalMilliseconds })
    Write-Host "Start, warm spare ($Starts runs of each measure, each once the spare is ready)"
    # Ready and settled: its warm-up (SpareWarmUp) over, as a spare is once a session's starts are seconds apart.
    function WaitSpare { if (-not [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120))) { throw 'The spare did not settle in 120 s.' } }
    # The whole job, as a user writes it (the job ends on the child's last frame).
    $r.start_spare_ms = Median (1..$Starts | ForEach-Object {
        WaitSpare
        (Measure-Command { $null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob }).TotalMilliseconds
    })
    # Where that time goes: the cmdlet's return, the output's arrival (polled without sleeping), the job's end, and
    # the child process's exit after it (reaped in the background; not part of the job).
    $warm = foreach ($i in 1..$Starts) {
        WaitSpare
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $job = Start-IpcProcess { 1 }
        $started = $watch.Elapsed.TotalMilliseconds
        while ($job.Output.Count -lt 1 -and $job.State -eq 'Running') { $null = [Threading.Thread]::Yield() }
        $output = $watch.Elapsed.TotalMilliseconds
        $null = $job.Finished.WaitOne()
        $ended = $watch.Elapsed.TotalMilliseconds
        $process = Get-Process -Id $job.Pid -ErrorAction SilentlyContinue
        if ($process) { $null = $process.WaitForExit(10000) }
        $exited = $watch.Elapsed.TotalMilliseconds
        $job | Remove-Job
        [pscustomobject]@{ Started = $started; Output = $output; Ended = $ended; Exited = $exited }
    }
    $r.start_spare_cmdlet_ms = Median $warm.Started
    $r.start_spare_output_ms = Median $warm.Output
    $r.start_spare_ended_ms = Median $warm.Ended
    $r.start_spare_exited_ms = Median $warm.Exited
    Write-Host 'Start-IpcManager: from a warm spare, and -NoSpare (3 runs each)'
    $r.manager_spare_ms = Median (1..3 | ForEach-Object { WaitSpare; $t = Measure-Command { $m = Start-IpcManager }; Stop-IpcManager $m; $t.TotalMilliseconds })
    $r.manager_cold_ms = Median (1..3 | ForEach-Object { $t = Measure-Command { $m = Start-IpcManager -NoSpare }; Stop-IpcManager $m; $t.TotalMilliseconds })

    # ---- 4. memory ---------------------------------------------------------------------------------------------------
    function Rss([int] $ProcessId) {
        $line = Get-Content "/proc/$ProcessId/status" -ErrorAction SilentlyContinue | Where-Object { $_ -like 'VmRSS:*' }
        if ($line) { [double](($line -split '\s+')[1]) / 1024 }
    }
    $null = [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120))
    $r.rss_worker_mb = Rss $pool.Pids[0]
    $r.rss_spare_mb = Rss ([IpcPs.Hosting.SpareChildren]::Pids | Select-Object -First 1)
    Write-Host "Memory: $memoryRounds rounds of $memoryMessages messages through a queue"
    $mq = New-IpcQueue
    try {
        $rss = foreach ($round in 0..$memoryRounds) {
            foreach ($block in 1..($memoryMessages / 10000)) {
                1..10000 | Send-IpcMessage $mq
                $null = Receive-IpcMessage $mq -Count 10000
            }
            [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
            Rss $PID
        }
    } finally { $mq.Close() }
    $r.rss_parent_mb = $rss[0]
    $r.rss_parent_growth_mb_per_100k = ($rss[-1] - $rss[0]) / $memoryRounds * (100000 / $memoryMessages)
}
finally {
    if ($pool) { Remove-IpcPool $pool }
    Remove-Module IpcPs -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $moduleCopy -ErrorAction SilentlyContinue
}

# ---- 3. CPython ---------------------------------------------------------------------------------------------------
$python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$py = $null
if (-not $python) { Write-Warning 'CPython not found (python3 / python): no CPython column.' }
else {
    Write-Host 'CPython: running bench/processes.py'
    $pyJson = & $python.Source (Join-Path $benchDir 'processes.py') --json --items $items --workers $Workers --cpu-items $cpuItems --cpu-loop ($cpuLoop * 2) --starts $Starts
    if ($LASTEXITCODE) { throw "bench/processes.py failed ($LASTEXITCODE)." }
    $py = $pyJson | ConvertFrom-Json
}

# ---- table --------------------------------------------------------------------------------------------------------
function Ms($v) { if ($null -eq $v) { 'n/a' } elseif ($v -ge 100) { '{0:N0} ms' -f $v } else { '{0:N3} ms' -f $v } }
$rows = @(
    [pscustomobject]@{ Runner = "Invoke-IpcPool, the session's first pool of $Workers, after 200 items"; 'Per item' = Ms $r.pool_ms; Items = $items }
    [pscustomobject]@{ Runner = '  the same with -ChunkSize 1024'; 'Per item' = Ms $r.pool_chunk1024_ms; Items = $items }
    [pscustomobject]@{ Runner = '  the same with -Ordered'; 'Per item' = Ms $r.pool_ordered_ms; Items = $items }
    [pscustomobject]@{ Runner = "Invoke-IpcPool, the same pool after $(($warmRounds * $items).ToString('N0')) more items"; 'Per item' = Ms $r.pool_warm_ms; Items = $items }
    [pscustomobject]@{ Runner = '  the same with -ChunkSize 1024'; 'Per item' = Ms $r.pool_warm_chunk1024_ms; Items = $items }
    [pscustomobject]@{ Runner = '  the same with -Ordered'; 'Per item' = Ms $r.pool_warm_ordered_ms; Items = $items }
    [pscustomobject]@{ Runner = "Invoke-IpcPool -ThrottleLimit $Workers (pool made by the call)"; 'Per item' = Ms $r.pool_cold_ms; Items = $parallelItems }
    [pscustomobject]@{ Runner = "ForEach-Object -Parallel -ThrottleLimit $Workers"; 'Per item' = Ms $r.parallel_ms; Items = $parallelItems }
    [pscustomobject]@{ Runner = "Start-ThreadJob -ThrottleLimit $Workers, a job per item"; 'Per item' = Ms $(if ($r.Contains('threadjob_ms')) { $r.threadjob_ms }); Items = $threadJobItems }
    [pscustomobject]@{ Runner = 'Start-Job, a job per item'; 'Per item' = Ms $r.startjob_ms; Items = $jobs }
    [pscustomobject]@{ Runner = 'Start-IpcProcess, a job per item'; 'Per item' = Ms $r.startipcprocess_ms; Items = $jobs }
    [pscustomobject]@{ Runner = "CPython Pool($Workers).map, chunksize=1"; 'Per item' = Ms $(if ($py) { $py.map_chunksize1_ms_per_item }); Items = $items }
    [pscustomobject]@{ Runner = "CPython Pool($Workers).map, default chunks"; 'Per item' = Ms $(if ($py) { $py.map_default_chunks_ms_per_item }); Items = $items }
    [pscustomobject]@{ Runner = 'ForEach-Object in this session (no parallelism)'; 'Per item' = Ms $r.foreach_ms; Items = $items }
)
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
Write-Host ''
Write-Host "Process benchmarks — $(Get-Date -Format 'yyyy-MM-dd HH:mm K'), $([Environment]::ProcessorCount) CPUs ($cpu), load average before: $($load -join ' ')"
Write-Host "IpcPs: PowerShell $psVersion; CPython: $(if ($py) { $py.runtime } else { 'not found' })"
Write-Host 'Per item: wall time of the whole run / items, trivial item ({ $_ } / identity).'
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host -NoNewline
Write-Host ("CPU-bound, {0} items of a {1}-step PowerShell loop: sequential {2:N2} s, pool {3:N2} s ({4:N2}x), ForEach-Object -Parallel {5:N2} s ({6:N2}x)" -f `
    $cpuItems, $cpuLoop, $r.cpu_sequential_s, $r.cpu_pool_s, $r.cpu_pool_speedup, $r.cpu_parallel_s, $r.cpu_parallel_speedup)
if ($py) { Write-Host ("CPython, {0} items of a {1}-step Python loop: sequential {2:N2} s, Pool.map {3:N2} s ({4:N2}x)" -f $cpuItems, ($cpuLoop * 2), $py.cpu_sequential_s, $py.cpu_pool_s, $py.cpu_speedup) }
# What the machine gives at most: independent processes, nothing sent (an older processes.py has no such figure).
$ceiling = if ($py -and $py.PSObject.Properties['cpu_ceiling_speedup']) { $py.cpu_ceiling_speedup } else { $null }
if ($null -ne $ceiling) { Write-Host ("  this machine's own ceiling: {0} independent CPython processes, each running its share of the same items at once, {1:N2} s ({2:N2}x the sequential run)" -f $Workers, $py.cpu_ceiling_s, $ceiling) }
Write-Host ("Start a child and get its result (medians of {0}, each a whole run): pwsh -Command exit {1}; pwsh that imports IpcPs {2}; that also opens the child's runspace {3}; Start-IpcProcess -NoSpare {4}" -f `
    $Starts, (Ms $r.start_pwsh_exit_ms), (Ms $r.start_pwsh_import_ms), (Ms $r.start_pwsh_runspace_ms), (Ms $r.start_cold_ms))
Write-Host ("  with a warm spare, Start-IpcProcess {{ 1 }} | Receive-Job -Wait: {0} (one by one: the cmdlet returned after {1}, output after {2}, the job ended after {3}; the process had exited after {4}, reaped in the background)" -f `
    (Ms $r.start_spare_ms), (Ms $r.start_spare_cmdlet_ms), (Ms $r.start_spare_output_ms), (Ms $r.start_spare_ended_ms), (Ms $r.start_spare_exited_ms))
Write-Host ("Start-IpcManager: from a warm spare {0}, -NoSpare {1} (medians of 3)" -f (Ms $r.manager_spare_ms), (Ms $r.manager_cold_ms))
if ($py) { Write-Host ("  CPython Process + Queue: spawn {0}, forkserver {1}, fork {2}" -f (Ms $py.start_spawn_ms), (Ms $py.start_forkserver_ms), (Ms $py.start_fork_ms)) }
Write-Host ("Memory: pool worker {0:N0} MB resident, idle spare {1:N0} MB, this session {2:N0} MB; growth per 100,000 messages {3:N2} MB" -f `
    $r.rss_worker_mb, $r.rss_spare_mb, $r.rss_parent_mb, $r.rss_parent_growth_mb_per_100k)
if ($py) {
    Write-Host ("Target: warm start <= CPython forkserver: {0} ({1} vs {2}); >= 4x faster than spawn: {3} ({4:N1}x)" -f `
        $(if ($r.start_spare_ms -le $py.start_forkserver_ms) { 'MET' } else { 'NOT MET' }), (Ms $r.start_spare_ms), (Ms $py.start_forkserver_ms),
        $(if ($py.start_spawn_ms / $r.start_spare_ms -ge 4) { 'MET' } else { 'NOT MET' }), ($py.start_spawn_ms / $r.start_spare_ms))
}
Write-Host ("Target: pool per trivial item <= 2x in-session ForEach-Object: {0} ({1:N1}x; with -ChunkSize 1024 {2:N1}x, -Ordered {3:N1}x)" -f `
    $(if ($r.pool_ms -le 2 * $r.foreach_ms) { 'MET' } else { 'NOT MET' }), ($r.pool_ms / $r.foreach_ms), ($r.pool_chunk1024_ms / $r.foreach_ms), ($r.pool_ordered_ms / $r.foreach_ms))
Write-Host ("  automatic chunk size vs -ChunkSize 1024: {0:N2}x the per-item time" -f ($r.pool_ms / $r.pool_chunk1024_ms))
Write-Host ("Target: the same, the pool after {0:N0} more items: {1} ({2:N1}x; with -ChunkSize 1024 {3:N1}x, -Ordered {4:N1}x)" -f `
    ($warmRounds * $items), $(if ($r.pool_warm_ms -le 2 * $r.foreach_ms) { 'MET' } else { 'NOT MET' }), ($r.pool_warm_ms / $r.foreach_ms), ($r.pool_warm_chunk1024_ms / $r.foreach_ms), ($r.pool_warm_ordered_ms / $r.foreach_ms))
if ($py) {
    Write-Host ("Target: pool per trivial item >= 2x faster than CPython Pool.map(chunksize=1): {0} ({1:N1}x; CPython's default chunks {2})" -f `
        $(if ($py.map_chunksize1_ms_per_item -ge 2 * $r.pool_ms) { 'MET' } else { 'NOT MET' }), ($py.map_chunksize1_ms_per_item / $r.pool_ms), (Ms $py.map_default_chunks_ms_per_item))
    Write-Host ("Target: the same, the pool after {0:N0} more items: {1} ({2:N1}x)" -f `
        ($warmRounds * $items), $(if ($py.map_chunksize1_ms_per_item -ge 2 * $r.pool_warm_ms) { 'MET' } else { 'NOT MET' }), ($py.map_chunksize1_ms_per_item / $r.pool_warm_ms))
}
$overheadMet = if ($r.pool_ms -lt 1) { 'MET' } else { 'NOT MET' }
$speedMet = if ($r.cpu_pool_speedup -ge 1.8) { 'MET' } else { 'NOT MET' }
Write-Host ("Target: pool per-item overhead under 1 ms once warm: {0} ({1})" -f $overheadMet, (Ms $r.pool_ms))
Write-Host ("Target: CPU-bound speed-up of at least 1.8x with {0} workers: {1} ({2:N2}x; CPython Pool.map in the same run {3}; the machine's ceiling {4})" -f `
    $Workers, $speedMet, $r.cpu_pool_speedup, $(if ($py) { '{0:N2}x' -f $py.cpu_speedup } else { 'n/a' }), $(if ($null -ne $ceiling) { '{0:N2}x' -f $ceiling } else { 'n/a' }))
Write-Host 'One run on whatever else the machine is doing: numbers for comparison, not assertions.'

if ($JsonPath) {
    [ordered]@{ date = (Get-Date).ToString('o'); processors = [Environment]::ProcessorCount; cpu = $cpu; load = $load
        powershell = $r; cpython = $py } | ConvertTo-Json -Depth 5 | Set-Content $JsonPath
}
