#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks IpcPs's cross-process synchronisation side by side with CPython, in one run.
.DESCRIPTION
    Runs, one after the other (never overlapping, the machine may have few cores):
      1. bench/IpcPs.Bench (C#, Release): uncontended IpcLock Acquire/Release pairs per second (best of 5) and
         IpcEvent ping-pong round-trip latency with a child process (median, p99);
      2. PowerShell: uncontended $lock.Acquire(); $lock.Release() pairs per second in a for loop, and the same with
         Enter-IpcLock / Exit-IpcLock (best of 5 each), using the module at -ModulePath;
      3. bench/sync.py: the same measurements with CPython's multiprocessing.Lock and multiprocessing.Event.
    Then prints one table with the ratios to CPython, and whether the targets of docs/performance.md are met.
    Results are printed, never asserted: the exit code is 0 whatever the numbers.
    build.ps1 -Task Bench runs this with -ModulePath out/IpcPs/IpcPs.psd1.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/sync.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    # The module manifest to benchmark (out/IpcPs/IpcPs.psd1 after build.ps1 -Task Build).
    [Parameter(Mandatory)]
    [string] $ModulePath,
    # Fewer iterations: a smoke run of the script itself, numbers not meant to be kept.
    [switch] $Quick,
    # Also write every number as JSON to this file.
    [string] $JsonPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path   # Import-Module takes a bare relative path for a module name
$runs = 5

$csIterations = if ($Quick) { 1000000 } else { 10000000 }
$roundTrips = if ($Quick) { 2000 } else { 20000 }
$psMethodIterations = if ($Quick) { 50000 } else { 500000 }
$psCmdletIterations = if ($Quick) { 5000 } else { 50000 }

function Format-Rate([double] $pairsPerSecond) {
    if ($pairsPerSecond -ge 1e6) { '{0:N2} M pairs/s' -f ($pairsPerSecond / 1e6) } else { '{0:N0} k pairs/s' -f ($pairsPerSecond / 1e3) }
}

# ---- 1. C# ------------------------------------------------------------------------------------------------------
$project = Join-Path $benchDir 'IpcPs.Bench/IpcPs.Bench.csproj'
Write-Host "C#: building $project (Release)"
$buildLog = & dotnet build $project -c Release -nologo -v quiet 2>&1
if ($LASTEXITCODE) { $buildLog | Out-Host; throw "Building the C# bench failed ($LASTEXITCODE)." }
$exe = Join-Path $benchDir 'IpcPs.Bench/bin/Release/net10.0/IpcPs.Bench'
$dll = "$exe.dll"
Write-Host "C#: running ($csIterations lock pairs x $runs runs, $roundTrips ping-pong round trips)"
$csArgs = @('--json', '--iterations', $csIterations, '--round-trips', $roundTrips)
$csJson = if (Test-Path $exe) { & $exe @csArgs } else { & dotnet $dll @csArgs }
if ($LASTEXITCODE) { throw "The C# bench failed ($LASTEXITCODE)." }
$cs = $csJson | ConvertFrom-Json

# ---- 2. PowerShell ----------------------------------------------------------------------------------------------
# Imported from a private copy of the module folder: a rebuild of out/IpcPs during the run (build.ps1 rewrites the
# dll in place) would otherwise corrupt the loaded assembly (BadImageFormatException when the process exits).
$moduleCopy = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-$PID"
Copy-Item -Recurse (Split-Path $ModulePath) $moduleCopy
try {
    Import-Module (Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)) -Force
}
finally {
    Remove-Item -Recurse -Force $moduleCopy -ErrorAction SilentlyContinue   # Linux keeps the loaded dll mapped
}
$psVersion = $PSVersionTable.PSVersion.ToString()
Write-Host "PowerShell $($psVersion): $psMethodIterations method pairs and $psCmdletIterations cmdlet pairs x $runs runs"
$lock = New-IpcLock -Name "bench_ps_$PID"
try {
    $methodLoop = {
        param($lock, [int] $n)
        for ($i = 0; $i -lt $n; $i++) { [void]$lock.Acquire(); $lock.Release() }
    }
    $cmdletLoop = {
        param($lock, [int] $n)
        for ($i = 0; $i -lt $n; $i++) { Enter-IpcLock $lock; Exit-IpcLock $lock }
    }
    function Measure-Best([scriptblock] $loop, [int] $n) {
        & $loop $lock ([Math]::Min($n, 10000))   # warm up: the loop gets compiled, the cmdlets' metadata cached
        $best = 0.0
        for ($r = 0; $r -lt $runs; $r++) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            & $loop $lock $n
            $sw.Stop()
            $best = [Math]::Max($best, $n / $sw.Elapsed.TotalSeconds)
        }
        $best
    }
    $psMethod = Measure-Best $methodLoop $psMethodIterations
    $psCmdlet = Measure-Best $cmdletLoop $psCmdletIterations
}
finally {
    $lock.Close()
}

# ---- 3. CPython -------------------------------------------------------------------------------------------------
$python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$py = $null
if (-not $python) {
    Write-Warning 'CPython not found (python3 / python): no CPython column.'
}
else {
    Write-Host "CPython: running bench/sync.py"
    $pyJson = & $python.Source (Join-Path $benchDir 'sync.py') --json --iterations ([Math]::Min($csIterations, 5000000)) --round-trips $roundTrips
    if ($LASTEXITCODE) { throw "bench/sync.py failed ($LASTEXITCODE)." }
    $py = $pyJson | ConvertFrom-Json
}

# ---- table ------------------------------------------------------------------------------------------------------
$pyLock = if ($py) { [double]$py.lock.pairs_per_second } else { [double]::NaN }
function Ratio([double] $value, [double] $reference) {
    if ([double]::IsNaN($reference) -or $reference -eq 0) { 'n/a' } else { '{0:N2}x' -f ($value / $reference) }
}
$rows = @(
    [pscustomobject]@{ Benchmark = 'Lock pairs/s, C# Acquire()/Release()'; IpcPs = Format-Rate $cs.lock.pairs_per_second
        CPython = if ($py) { Format-Rate $pyLock } else { 'n/a' }; 'vs CPython' = Ratio $cs.lock.pairs_per_second $pyLock }
    [pscustomobject]@{ Benchmark = 'Lock pairs/s, C# TryAcquire(infinite)/Release()'; IpcPs = Format-Rate $cs.lock.tryacquire_pairs_per_second
        CPython = ''; 'vs CPython' = Ratio $cs.lock.tryacquire_pairs_per_second $pyLock }
    [pscustomobject]@{ Benchmark = 'RLock pairs/s, C# Acquire()/Release()'; IpcPs = Format-Rate $cs.lock.rlock_pairs_per_second
        CPython = ''; 'vs CPython' = Ratio $cs.lock.rlock_pairs_per_second $pyLock }
    [pscustomobject]@{ Benchmark = '  (floor: C# CAS + exchange on a plain word)'; IpcPs = Format-Rate $cs.lock.floor_pairs_per_second
        CPython = ''; 'vs CPython' = Ratio $cs.lock.floor_pairs_per_second $pyLock }
    [pscustomobject]@{ Benchmark = 'Lock pairs/s, PowerShell $lock.Acquire()/Release()'; IpcPs = Format-Rate $psMethod
        CPython = ''; 'vs CPython' = Ratio $psMethod $pyLock }
    [pscustomobject]@{ Benchmark = 'Lock pairs/s, PowerShell Enter-/Exit-IpcLock'; IpcPs = Format-Rate $psCmdlet
        CPython = ''; 'vs CPython' = Ratio $psCmdlet $pyLock }
    [pscustomobject]@{ Benchmark = 'Event ping-pong round trip, median'; IpcPs = '{0:N1} us' -f $cs.ping_pong.median_us
        CPython = if ($py) { '{0:N1} us' -f $py.ping_pong.median_us } else { 'n/a' }
        'vs CPython' = if ($py) { Ratio $py.ping_pong.median_us $cs.ping_pong.median_us } else { 'n/a' } }
    [pscustomobject]@{ Benchmark = 'Event ping-pong round trip, p99'; IpcPs = '{0:N1} us' -f $cs.ping_pong.p99_us
        CPython = if ($py) { '{0:N1} us' -f $py.ping_pong.p99_us } else { 'n/a' }
        'vs CPython' = if ($py) { Ratio $py.ping_pong.p99_us $cs.ping_pong.p99_us } else { 'n/a' } }
)
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
Write-Host ''
Write-Host "Synchronisation benchmarks — $(Get-Date -Format 'yyyy-MM-dd HH:mm K'), $([Environment]::ProcessorCount) CPUs ($cpu)"
Write-Host "IpcPs: $($cs.runtime), PowerShell $psVersion; CPython: $(if ($py) { $py.runtime } else { 'not found' })"
Write-Host "CPython Lock also: lock.acquire()/release() $(if ($py) { Format-Rate $py.lock.pairs_per_second_attribute_calls } else { 'n/a' }), 'with lock: pass' $(if ($py) { Format-Rate $py.lock.pairs_per_second_with_statement } else { 'n/a' })"
Write-Host "'vs CPython': throughput IpcPs / CPython, latency CPython / IpcPs; above 1x IpcPs is faster. CPython Lock: bound methods (its fastest)."
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host -NoNewline   # not cut to the console's width

$lockRatio = if ($py) { $cs.lock.pairs_per_second / $pyLock } else { [double]::NaN }
$lockMet = if ($py) { if ($lockRatio -ge 3) { 'MET' } else { 'NOT MET' } } else { 'unknown (no CPython)' }
$pingMet = if ($cs.ping_pong.median_us -lt 20) { 'MET' } else { 'NOT MET' }
Write-Host ("Target: C# uncontended Lock pair >= 3x CPython Lock: {0} ({1})" -f $lockMet, (Ratio $cs.lock.pairs_per_second $pyLock))
Write-Host ("Target: Event ping-pong median < 20 us: {0} ({1:N1} us)" -f $pingMet, $cs.ping_pong.median_us)
Write-Host 'One run on whatever else the machine is doing: numbers for comparison, not assertions.'

if ($JsonPath) {
    [ordered]@{
        date = (Get-Date).ToString('o'); processors = [Environment]::ProcessorCount; cpu = $cpu
        csharp = $cs; powershell = [ordered]@{ version = $psVersion; method_pairs_per_second = $psMethod; cmdlet_pairs_per_second = $psCmdlet }
        cpython = $py
    } | ConvertTo-Json -Depth 5 | Set-Content $JsonPath
}
