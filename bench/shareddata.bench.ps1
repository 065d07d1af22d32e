#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks IpcPs's shared data (IpcArray, ShareableList) from PowerShell, side by side with CPython, in one run.
.DESCRIPTION
    Runs, one after the other (never overlapping, the machine may have few cores):
      1. PowerShell, with the module at -ModulePath: IpcArray of doubles, element reads ($x = $a[$i]) and writes
         ($a[$i] = 1.5) per second in a for loop, and the same with the Get/Set methods; bulk copies of a large
         double array (CopyTo into a preallocated double[], GetRange, SetRange from a double[]) in GB/s;
         ShareableList item reads and writes per second. Best of 5 runs each (3 for allocating copies).
      2. bench/shareddata.py: the same with CPython's multiprocessing.Array (synchronized and raw) and ShareableList.
    Then prints one table with the ratios to CPython, and whether the targets of docs/performance.md are met.
    Results are printed, never asserted: the exit code is 0 whatever the numbers.
    build.ps1 -Task Bench runs this with -ModulePath out/IpcPs/IpcPs.psd1.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/shareddata.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    # The module manifest to benchmark (out/IpcPs/IpcPs.psd1 after build.ps1 -Task Build).
    [Parameter(Mandatory)]
    [string] $ModulePath,
    # Fewer elements: a smoke run of the script itself, numbers not meant to be kept.
    [switch] $Quick,
    # Also write every number as JSON to this file.
    [string] $JsonPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$runs = 5
$elements = if ($Quick) { 20000 } else { 200000 }
$bulkElements = if ($Quick) { 1MB } else { 8MB }   # doubles: 8 MiB or 64 MiB

function Format-Rate([double] $perSecond) {
    if ($perSecond -ge 1e6) { '{0:N2} M/s' -f ($perSecond / 1e6) } else { '{0:N0} k/s' -f ($perSecond / 1e3) }
}
# BODY gets its objects as parameters: variables of the loop are then locals (a parent-scope lookup per iteration
# would measure PowerShell's variable lookup, not the access).
function Measure-Best([scriptblock] $body, [double] $count, [object[]] $arguments, [int] $times = $runs) {
    & $body @arguments   # warm up: compile the loop, touch the pages
    $best = 0.0
    for ($r = 0; $r -lt $times; $r++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $body @arguments
        $sw.Stop()
        $best = [Math]::Max($best, $count / $sw.Elapsed.TotalSeconds)
    }
    $best
}

# ---- 1. PowerShell ----------------------------------------------------------------------------------------------
# A private copy of the module folder, as in sync.bench.ps1 (a rebuild during the run must not corrupt the loaded dll).
$moduleCopy = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-$PID"
Copy-Item -Recurse (Split-Path $ModulePath) $moduleCopy
try { Import-Module (Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)) -Force }
finally { Remove-Item -Recurse -Force $moduleCopy -ErrorAction SilentlyContinue }
$psVersion = $PSVersionTable.PSVersion.ToString()
Write-Host "PowerShell $($psVersion): $elements element accesses, $bulkElements-double bulk copies, x $runs runs"

$ps = [ordered]@{}
$a = New-IpcArray -Name "bench_arr_$PID" -Type d -Length $elements
$big = New-IpcArray -Name "bench_big_$PID" -Type d -Length $bulkElements
$sl = 0..($elements / 10 - 1) | New-ShareableList -Name "bench_sl_$PID"
try {
    $n = $elements
    $ps.indexer_reads = Measure-Best { param($a, $n) for ($i = 0; $i -lt $n; $i++) { $x = $a[$i] } } $n @($a, $n)
    $ps.indexer_writes = Measure-Best { param($a, $n) for ($i = 0; $i -lt $n; $i++) { $a[$i] = 1.5 } } $n @($a, $n)
    $ps.method_reads = Measure-Best { param($a, $n) for ($i = 0; $i -lt $n; $i++) { $x = $a.Get($i) } } $n @($a, $n)
    $ps.method_writes = Measure-Best { param($a, $n) for ($i = 0; $i -lt $n; $i++) { $a.Set($i, 1.5) } } $n @($a, $n)

    $bytes = $bulkElements * 8
    $dest = [double[]]::new($bulkElements)
    $source = [double[]]::new($bulkElements)
    $ps.copyto_gbps = (Measure-Best { param($big, $dest, $k) $big.CopyTo(0, $dest, 0, $k) } $bytes @($big, $dest, $bulkElements)) / 1e9
    $ps.setrange_gbps = (Measure-Best { param($big, $source) $big.SetRange(0, $source) } $bytes @($big, $source)) / 1e9
    $ps.getrange_gbps = (Measure-Best { param($big, $k) $null = $big.GetRange(0, $k) } $bytes @($big, $bulkElements) 3) / 1e9

    $m = $elements / 10
    $ps.list_reads = Measure-Best { param($sl, $m) for ($i = 0; $i -lt $m; $i++) { $x = $sl[$i] } } $m @($sl, $m)
    $ps.list_writes = Measure-Best { param($sl, $m) for ($i = 0; $i -lt $m; $i++) { $sl[$i] = $i } } $m @($sl, $m)
}
finally {
    $a.Close(); $big.Close(); $sl.Close()
}

# ---- 2. CPython -------------------------------------------------------------------------------------------------
$python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$py = $null
if (-not $python) { Write-Warning 'CPython not found (python3 / python): no CPython column.' }
else {
    Write-Host 'CPython: running bench/shareddata.py'
    $pyJson = & $python.Source (Join-Path $benchDir 'shareddata.py') --json --elements $elements --bulk-elements $bulkElements
    if ($LASTEXITCODE) { throw "bench/shareddata.py failed ($LASTEXITCODE)." }
    $py = $pyJson | ConvertFrom-Json
}

# ---- table ------------------------------------------------------------------------------------------------------
function Ratio([double] $value, $reference) {
    if ($null -eq $reference -or [double]$reference -eq 0) { 'n/a' } else { '{0:N2}x' -f ($value / [double]$reference) }
}
function Py([scriptblock] $pick) { if ($py) { & $pick } else { $null } }
$pySyncR = Py { $py.array_sync.reads_per_second }; $pySyncW = Py { $py.array_sync.writes_per_second }
$pyRawR = Py { $py.array_raw.reads_per_second }; $pyRawW = Py { $py.array_raw.writes_per_second }
$pyMemmove = Py { $py.bulk.memmove_gb_per_second }; $pySlice = Py { $py.bulk.slice_gb_per_second }
$pySlR = Py { $py.shareable_list.reads_per_second }; $pySlW = Py { $py.shareable_list.writes_per_second }
function Cell($v, [string] $format) { if ($null -eq $v) { 'n/a' } elseif ($format -eq 'rate') { Format-Rate $v } else { '{0:N2} GB/s' -f $v } }
$rows = @(
    [pscustomobject]@{ Benchmark = 'Array(d) element reads, $a[$i] vs a[i]'; IpcPs = Format-Rate $ps.indexer_reads; CPython = Cell $pySyncR 'rate'; 'vs CPython' = Ratio $ps.indexer_reads $pySyncR }
    [pscustomobject]@{ Benchmark = 'Array(d) element writes, $a[$i] = x vs a[i] = x'; IpcPs = Format-Rate $ps.indexer_writes; CPython = Cell $pySyncW 'rate'; 'vs CPython' = Ratio $ps.indexer_writes $pySyncW }
    [pscustomobject]@{ Benchmark = '  reads, $a.Get($i) / CPython RawArray a[i]'; IpcPs = Format-Rate $ps.method_reads; CPython = Cell $pyRawR 'rate'; 'vs CPython' = Ratio $ps.method_reads $pyRawR }
    [pscustomobject]@{ Benchmark = '  writes, $a.Set($i, x) / CPython RawArray a[i] = x'; IpcPs = Format-Rate $ps.method_writes; CPython = Cell $pyRawW 'rate'; 'vs CPython' = Ratio $ps.method_writes $pyRawW }
    [pscustomobject]@{ Benchmark = "Bulk read, CopyTo(double[]) vs memmove ($([int]($bulkElements * 8 / 1MB)) MiB)"; IpcPs = '{0:N2} GB/s' -f $ps.copyto_gbps; CPython = Cell $pyMemmove 'gb'; 'vs CPython' = Ratio $ps.copyto_gbps $pyMemmove }
    [pscustomobject]@{ Benchmark = 'Bulk write, SetRange(double[])'; IpcPs = '{0:N2} GB/s' -f $ps.setrange_gbps; CPython = ''; 'vs CPython' = Ratio $ps.setrange_gbps $pyMemmove }
    [pscustomobject]@{ Benchmark = 'Bulk read, GetRange (new double[]) vs a[:]'; IpcPs = '{0:N2} GB/s' -f $ps.getrange_gbps; CPython = Cell $pySlice 'gb'; 'vs CPython' = Ratio $ps.getrange_gbps $pySlice }
    [pscustomobject]@{ Benchmark = 'ShareableList item reads, $sl[$i] vs sl[i]'; IpcPs = Format-Rate $ps.list_reads; CPython = Cell $pySlR 'rate'; 'vs CPython' = Ratio $ps.list_reads $pySlR }
    [pscustomobject]@{ Benchmark = 'ShareableList item writes, $sl[$i] = $i vs sl[i] = i'; IpcPs = Format-Rate $ps.list_writes; CPython = Cell $pySlW 'rate'; 'vs CPython' = Ratio $ps.list_writes $pySlW }
)
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
Write-Host ''
Write-Host "Shared-data benchmarks — $(Get-Date -Format 'yyyy-MM-dd HH:mm K'), $([Environment]::ProcessorCount) CPUs ($cpu)"
Write-Host "IpcPs: PowerShell $psVersion; CPython: $(if ($py) { $py.runtime } else { 'not found' })"
Write-Host "'vs CPython': IpcPs / CPython; above 1x IpcPs is faster. CPython Array: the synchronized wrapper (lock per access) unless noted."
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host -NoNewline

$bulkMet = if ($ps.copyto_gbps -ge 5) { 'MET' } else { 'NOT MET' }
$indexMet = if (-not $py) { 'unknown (no CPython)' } elseif ($ps.indexer_reads -ge $pySyncR -and $ps.indexer_writes -ge $pySyncW) { 'MET' } else { 'NOT MET' }
Write-Host ("Target: bulk range copy of a large double array >= 5 GB/s: {0} ({1:N2} GB/s)" -f $bulkMet, $ps.copyto_gbps)
Write-Host ("Target: PowerShell indexer no slower than CPython's Array indexing: {0} (reads {1}, writes {2})" -f $indexMet, (Ratio $ps.indexer_reads $pySyncR), (Ratio $ps.indexer_writes $pySyncW))
Write-Host 'One run on whatever else the machine is doing: numbers for comparison, not assertions.'

if ($JsonPath) {
    [ordered]@{ date = (Get-Date).ToString('o'); processors = [Environment]::ProcessorCount; cpu = $cpu
        powershell = $ps; cpython = $py } | ConvertTo-Json -Depth 5 | Set-Content $JsonPath
}
