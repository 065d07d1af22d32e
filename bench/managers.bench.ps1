#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks a managed dict's round trips from PowerShell, side by side with CPython's Manager().dict(), in one run.
.DESCRIPTION
    Runs, one after the other (never overlapping, the machine may have few cores):
      1. PowerShell, with the module at -ModulePath: Start-IpcManager (default Unix socket), then on $m.Dict():
         $d[$i % 1000] = $i and $x = $d[$i % 1000] in a for loop, round trips per second; the same over TCP on
         127.0.0.1. One warm-up, best of 5 runs each.
      2. bench/managers.py: the same with CPython's multiprocessing.Manager().dict().
    Then prints one table with the ratios to CPython and whether the target of docs/performance.md (>= 2x CPython)
    is met. Results are printed, never asserted: the exit code is 0 whatever the numbers.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/managers.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    # The module manifest to benchmark (out/IpcPs/IpcPs.psd1 after build.ps1 -Task Build).
    [Parameter(Mandatory)]
    [string] $ModulePath,
    # Fewer operations: a smoke run of the script itself, numbers not meant to be kept.
    [switch] $Quick,
    # Also write every number as JSON to this file.
    [string] $JsonPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$runs = 5
$ops = if ($Quick) { 2000 } else { 20000 }

function Format-Rate([double] $perSecond) {
    if ($perSecond -ge 1e6) { '{0:N2} M/s' -f ($perSecond / 1e6) } else { '{0:N1} k/s' -f ($perSecond / 1e3) }
}
# BODY gets its objects as parameters, so the loop's variables are locals.
function Measure-Best([scriptblock] $body, [double] $count, [object[]] $arguments) {
    & $body @arguments   # warm up
    $best = 0.0
    for ($r = 0; $r -lt $runs; $r++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $body @arguments
        $sw.Stop()
        $best = [Math]::Max($best, $count / $sw.Elapsed.TotalSeconds)
    }
    $best
}

# ---- 1. PowerShell ----------------------------------------------------------------------------------------------
# A private copy of the module folder (a rebuild during the run must not corrupt the loaded dll); the manager
# process loads the same copy, so it is removed only at the end.
$moduleCopy = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-$PID"
Copy-Item -Recurse (Split-Path $ModulePath) $moduleCopy
$ps = [ordered]@{}
try {
    Import-Module (Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)) -Force
    $psVersion = $PSVersionTable.PSVersion.ToString()
    Write-Host "PowerShell $($psVersion): $ops round trips per run, x $runs runs"
    $sets = { param($d, $n) for ($i = 0; $i -lt $n; $i++) { $d[$i % 1000] = $i } }
    $gets = { param($d, $n) for ($i = 0; $i -lt $n; $i++) { $x = $d[$i % 1000] } }
    $m = Start-IpcManager
    try {
        $d = $m.Dict()
        $ps.unix_sets = Measure-Best $sets $ops @($d, $ops)
        $ps.unix_gets = Measure-Best $gets $ops @($d, $ops)
    } finally { Stop-IpcManager $m }
    $m = Start-IpcManager -Address 127.0.0.1:0
    try {
        $d = $m.Dict()
        $ps.tcp_sets = Measure-Best $sets $ops @($d, $ops)
        $ps.tcp_gets = Measure-Best $gets $ops @($d, $ops)
    } finally { Stop-IpcManager $m }
}
finally { Remove-Item -Recurse -Force $moduleCopy -ErrorAction SilentlyContinue }

# ---- 2. CPython -------------------------------------------------------------------------------------------------
$python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$py = $null
if (-not $python) { Write-Warning 'CPython not found (python3 / python): no CPython column.' }
else {
    Write-Host 'CPython: running bench/managers.py'
    $pyJson = & $python.Source (Join-Path $benchDir 'managers.py') --json --ops $ops
    if ($LASTEXITCODE) { throw "bench/managers.py failed ($LASTEXITCODE)." }
    $py = $pyJson | ConvertFrom-Json
}

# ---- table ------------------------------------------------------------------------------------------------------
function Ratio([double] $value, $reference) {
    if ($null -eq $reference -or [double]$reference -eq 0) { 'n/a' } else { '{0:N2}x' -f ($value / [double]$reference) }
}
$pySet = if ($py) { $py.dict.sets_per_second } else { $null }
$pyGet = if ($py) { $py.dict.gets_per_second } else { $null }
function Cell($v) { if ($null -eq $v) { 'n/a' } else { Format-Rate $v } }
$rows = @(
    [pscustomobject]@{ Benchmark = 'dict set, $d[$k] = $i vs d[k] = i (Unix socket)'; IpcPs = Format-Rate $ps.unix_sets; CPython = Cell $pySet; 'vs CPython' = Ratio $ps.unix_sets $pySet }
    [pscustomobject]@{ Benchmark = 'dict get, $x = $d[$k] vs d[k] (Unix socket)'; IpcPs = Format-Rate $ps.unix_gets; CPython = Cell $pyGet; 'vs CPython' = Ratio $ps.unix_gets $pyGet }
    [pscustomobject]@{ Benchmark = '  dict set over TCP 127.0.0.1'; IpcPs = Format-Rate $ps.tcp_sets; CPython = ''; 'vs CPython' = Ratio $ps.tcp_sets $pySet }
    [pscustomobject]@{ Benchmark = '  dict get over TCP 127.0.0.1'; IpcPs = Format-Rate $ps.tcp_gets; CPython = ''; 'vs CPython' = Ratio $ps.tcp_gets $pyGet }
)
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$load = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 3
Write-Host ''
Write-Host "Manager benchmarks — $(Get-Date -Format 'yyyy-MM-dd HH:mm K'), $([Environment]::ProcessorCount) CPUs ($cpu), load $($load -join ' ')"
Write-Host "IpcPs: PowerShell $psVersion; CPython: $(if ($py) { $py.runtime } else { 'not found' })"
Write-Host "'vs CPython': IpcPs / CPython; above 1x IpcPs is faster."
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host -NoNewline
$met = if (-not $py) { 'unknown (no CPython)' } elseif ($ps.unix_sets -ge 2 * $pySet -and $ps.unix_gets -ge 2 * $pyGet) { 'MET' } else { 'NOT MET' }
Write-Host ("Target: managed dict round trips >= 2x CPython's Manager().dict(): {0} (sets {1}, gets {2})" -f $met, (Ratio $ps.unix_sets $pySet), (Ratio $ps.unix_gets $pyGet))
Write-Host 'One run on whatever else the machine is doing: numbers for comparison, not assertions.'

if ($JsonPath) {
    [ordered]@{ date = (Get-Date).ToString('o'); processors = [Environment]::ProcessorCount; cpu = $cpu; load = $load
        powershell = $ps; cpython = $py } | ConvertTo-Json -Depth 5 | Set-Content $JsonPath
}
