#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks the Redis backend beside redis-benchmark on the same server and beside the TCP manager, in one run.
.DESCRIPTION
    Starts its own redis-server (loopback, a free port, no persistence, a temporary folder removed at the end), then,
    one after the other (never overlapping):
      1. redis-benchmark on that server: SET, GET, LPUSH, LPOP with 50 clients (its default) and with 1 client.
      2. bench/IpcPs.Bench redis (C#): messages/s through a Redis queue with one producer and two consumers (each a
         connection of its own), batched (PutMany/GetMany of 100 per script call) and one message per call; lock
         Acquire/Release pairs/s on one handle. Best of 3 after a warm-up.
      3. PowerShell with the module: $q.Put($i) then $q.Get() loops on a Redis queue; the same through a TCP manager
         (Start-IpcManager -Address 127.0.0.1:0): its List used as a queue ($l.Add / $l.Pop(0), each a round trip over
         TCP — the manager's Queue() is a shared-memory queue of the manager's machine, not reachable over TCP) and its
         Queue() for reference.
    Prints one table. Results are printed, never asserted.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/redis.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,
    [switch] $Quick,
    [string] $JsonPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
if (-not (Get-Command redis-server -ErrorAction SilentlyContinue)) { Write-Warning 'redis-server is not installed: no Redis benchmark.'; return }

function Format-Rate([double] $perSecond) {
    if ($perSecond -ge 1e6) { '{0:N2} M/s' -f ($perSecond / 1e6) } else { '{0:N1} k/s' -f ($perSecond / 1e3) }
}
function Measure-Rate([scriptblock] $body, [double] $count, [object[]] $arguments) {
    & $body @arguments | Out-Null
    $best = 0.0
    for ($r = 0; $r -lt 3; $r++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $body @arguments | Out-Null
        $best = [Math]::Max($best, $count / $sw.Elapsed.TotalSeconds)
    }
    $best
}

$dir = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-redis-$PID"
New-Item -ItemType Directory $dir | Out-Null
$l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
$psi = [Diagnostics.ProcessStartInfo]::new('redis-server')
foreach ($a in '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $dir) { $psi.ArgumentList.Add("$a") }
$psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
$server = [Diagnostics.Process]::Start($psi)
$results = [ordered]@{}
try {
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ($true) {
        try { $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); break } catch { if ([DateTime]::UtcNow -gt $deadline) { throw } ; Start-Sleep -Milliseconds 20 }
    }
    $uri = "redis://127.0.0.1:$port/0"
    $version = (& redis-server --version) -replace '^Redis server v=(\S+).*', '$1'
    Write-Host "redis-server $version on $uri"

    # ---- 1. redis-benchmark -------------------------------------------------------------------------------------
    $n = if ($Quick) { 20000 } else { 200000 }
    foreach ($clients in 50, 1) {
        $csv = & redis-benchmark -h 127.0.0.1 -p $port -n $n -c $clients -t 'set,get,lpush,lpop' --csv 2>$null
        foreach ($line in $csv | Select-Object -Skip 1) {
            $f = $line.Trim('"') -split '","'
            $results["redis-benchmark $($f[0]) c=$clients"] = [double]$f[1]
        }
    }

    # ---- 2. C# ------------------------------------------------------------------------------------------------
    $project = Join-Path $benchDir 'IpcPs.Bench/IpcPs.Bench.csproj'
    & dotnet build $project -c Release -nologo -v quiet 2>&1 | Out-Null
    $exe = Join-Path $benchDir 'IpcPs.Bench/bin/Release/net10.0/IpcPs.Bench'
    $csArgs = @('redis', $uri) + @(if ($Quick) { '--quick' })
    $cs = (& $exe @csArgs | Select-Object -Last 1) | ConvertFrom-Json
    $results['C# Redis queue, 1 producer + 2 consumers, batches of 100'] = $cs.QueueBatchedPerSecond
    $results['C# Redis queue, 1 producer + 2 consumers, one per call'] = $cs.QueueSinglePerSecond
    $results['C# Redis lock Acquire/Release pairs'] = $cs.LockPairsPerSecond

    # ---- 3. PowerShell ----------------------------------------------------------------------------------------
    Import-Module $ModulePath -Force
    $ops = if ($Quick) { 1000 } else { 5000 }
    $b = Connect-IpcBackend $uri
    $q = $b.Create('Queue', "bench_$PID", [IpcPs.IpcBackendOptions]::new())
    $results['PowerShell Redis queue Put'] = Measure-Rate { param($q, $n) for ($i = 0; $i -lt $n; $i++) { $q.Put($i) } } $ops @($q, $ops)
    $results['PowerShell Redis queue Get'] = Measure-Rate { param($q, $n) for ($i = 0; $i -lt $n; $i++) { $null = $q.Get() } } $ops @($q, $ops)
    $q.Unlink()
    $lock = $b.Create('Lock', "bench_lock_$PID", [IpcPs.IpcBackendOptions]::new())
    $results['PowerShell Redis lock Acquire/Release pairs'] = Measure-Rate { param($l, $n) for ($i = 0; $i -lt $n; $i++) { $null = $l.Acquire(); $l.Release() } } ($ops / 5) @($lock, ($ops / 5))
    $lock.Unlink()
    $key = [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
    $m = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key
    try {
        $list = $m.List()
        $results['PowerShell TCP manager List.Add'] = Measure-Rate { param($l, $n) for ($i = 0; $i -lt $n; $i++) { $null = $l.Add($i) } } $ops @($list, $ops)
        $results['PowerShell TCP manager List.Pop(0)'] = Measure-Rate { param($l, $n) for ($i = 0; $i -lt $n; $i++) { $null = $l.Pop(0) } } $ops @($list, $ops)
        $mq = $m.Queue()
        $results['PowerShell TCP manager Queue() Put (shared memory, same machine)'] = Measure-Rate { param($q, $n) for ($i = 0; $i -lt $n; $i++) { $q.Put($i) } } $ops @($mq, $ops)
        $results['PowerShell TCP manager Queue() Get (shared memory, same machine)'] = Measure-Rate { param($q, $n) for ($i = 0; $i -lt $n; $i++) { $null = $q.Get() } } $ops @($mq, $ops)
    } finally { Stop-IpcManager $m }
    $b.Dispose()
}
finally {
    $server.Kill(); $server.WaitForExit(); $server.Dispose()
    Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
}

Write-Host ''
Write-Host ('| {0,-70} | {1,12} |' -f 'Benchmark', 'ops/s')
Write-Host ('|{0}|{1}:|' -f ('-' * 72), ('-' * 13))
foreach ($k in $results.Keys) { Write-Host ('| {0,-70} | {1,12} |' -f $k, (Format-Rate $results[$k])) }
if ($JsonPath) { $results | ConvertTo-Json | Set-Content $JsonPath }
