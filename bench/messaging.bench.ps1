#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks IpcPs's messaging side by side with CPython multiprocessing and Start-Job, in one run.
.DESCRIPTION
    Runs, one after the other (never overlapping: the machine may have few cores), each time with a producer process
    told to go only once it is running, so that process start-up is not timed:
      1. bench/IpcPs.Bench (C#, Release): small ints through an IpcQueue, one by one and in batches of 1,000; 1 MiB byte[] messages through a pipe,
         received as new arrays (Recv) and into one reused buffer (RecvBytesInto);
      2. PowerShell, with the module at -ModulePath: small ints through an IpcQueue with $q.Put()/$q.Get() in for
         loops; the same with 0..N | Send-IpcMessage and Receive-IpcMessage -Count N, cold (as a fresh process runs it)
         and once both sides ran it on a scratch queue (warm); the same in batches of 1,000
         with $q.PutMany/$q.GetMany (n/a with a module that has none), cold and warm; in this process, Send-IpcMessage sending alone
         against PowerShell's floor for its pipeline (a compiled do-nothing cmdlet with the same pipeline parameters);
         the median ping-pong round trip through
         cmdlets (the echo child streams Receive-IpcMessage | Send-IpcMessage) and through methods; [pscustomobject] messages
         through an IpcQueue (made in the producer's loop, cold and warm, beside the same fresh producer making them and putting
         none, the row's ceiling; built beforehand and put one by one, cold and warm, or with PutMany; hashtables
         built beforehand the same two ways), and the same objects as the output of a Start-Job job read with Receive-Job; 1 MiB
         byte[] through a pipe ($c.Send / $c.Recv and RecvBytesInto). Each stream between two processes is timed once the
         spare that replaces its producer's is ready and settled (its boot and its warm-up would take one of the 2 CPUs
         during the stream), and every producer is such a spare;
      3. bench/messaging.py: CPython's mp.Queue (ints, dicts, a ping-pong) and mp.Pipe (1 MiB, recv_bytes and recv_bytes_into).
    Prints one table with the ratios to CPython and whether the targets of docs/performance.md are met. Results are
    printed, never asserted. build.ps1 -Task Bench runs this with -ModulePath out/IpcPs/IpcPs.psd1.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/messaging.bench.ps1 -ModulePath out/IpcPs/IpcPs.psd1
#>
[CmdletBinding()]
param(
    # The module manifest to benchmark (out/IpcPs/IpcPs.psd1 after build.ps1 -Task Build).
    [Parameter(Mandatory)]
    [string] $ModulePath,
    # Fewer messages: a smoke run of the script itself, numbers not meant to be kept.
    [switch] $Quick,
    # Also write every number as JSON to this file.
    [string] $JsonPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$benchDir = $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path

$csCount = if ($Quick) { 200000 } else { 5000000 }
$psCount = if ($Quick) { 20000 } else { 500000 }
$psCmdletCount = if ($Quick) { 20000 } else { 300000 }
$objCount = if ($Quick) { 2000 } else { 50000 }
$psBatchCount = if ($Quick) { 200000 } else { 5000000 }
$pingRounds = if ($Quick) { 200 } else { 2000 }
$payloads = if ($Quick) { 50 } else { 1000 }
$pyCount = if ($Quick) { 20000 } else { 500000 }

function Format-Rate([double] $perSecond, [string] $unit = 'msgs/s') {
    if ($perSecond -ge 1e6) { '{0:N2} M {1}' -f ($perSecond / 1e6), $unit } else { '{0:N0} k {1}' -f ($perSecond / 1e3), $unit }
}
function Format-Bytes([double] $perSecond) { '{0:N2} GB/s' -f ($perSecond / 1e9) }

# ---- 1. C# ------------------------------------------------------------------------------------------------------
$project = Join-Path $benchDir 'IpcPs.Bench/IpcPs.Bench.csproj'
Write-Host "C#: building $project (Release)"
$buildLog = & dotnet build $project -c Release -nologo -v quiet 2>&1
if ($LASTEXITCODE) { $buildLog | Out-Host; throw "Building the C# bench failed ($LASTEXITCODE)." }
$exe = Join-Path $benchDir 'IpcPs.Bench/bin/Release/net10.0/IpcPs.Bench'
Write-Host "C#: $csCount small ints through a queue, $payloads x 1 MiB through a pipe"
$csArgs = @('msg', '--json', '--count', $csCount, '--payloads', $payloads)
$csJson = if (Test-Path $exe) { & $exe @csArgs } else { & dotnet "$exe.dll" @csArgs }
if ($LASTEXITCODE) { throw "The C# bench failed ($LASTEXITCODE)." }
$cs = $csJson | ConvertFrom-Json

# ---- 2. PowerShell ----------------------------------------------------------------------------------------------
# Imported from a private copy of the module folder (a rebuild during the run must not change the loaded dll); the
# children Start-IpcProcess starts load the module from the same folder, so it stays until the end.
$moduleCopy = Join-Path ([IO.Path]::GetTempPath()) "ipcps-bench-$PID"
Copy-Item -Recurse (Split-Path $ModulePath) $moduleCopy
try {
Import-Module (Join-Path $moduleCopy (Split-Path -Leaf $ModulePath)) -Force
$psVersion = $PSVersionTable.PSVersion.ToString()

# Until the runtime of this process has compiled no method for 0.5 s (10 s at most). A warm row is read as the state
# a long-running session reaches; what the session ran just before (the warm-up, the last row's checks) is tiered up by
# the runtime's background thread ~100 ms after it last ran, and timed beside a stream it took one of the 2 CPUs the
# two pipelines share (docs/performance.md, "What the warm stream rows time besides the stream"). The same loop runs in
# each producer after its warm-up, before it says it is ready.
$jitQuiet = '$quietSince = [Diagnostics.Stopwatch]::StartNew(); $giveUp = [Diagnostics.Stopwatch]::StartNew(); $seen = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); while ($quietSince.ElapsedMilliseconds -lt 500 -and $giveUp.ElapsedMilliseconds -lt 10000) { [Threading.Thread]::Sleep(50); $now = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); if ($now -ne $seen) { $seen = $now; $quietSince.Restart() } }'
$waitJitQuiet = [scriptblock]::Create($jitQuiet)

# Runs PRODUCER (param($channel, $go, $n)) in a child; once it is waiting on $go, times CONSUMER ($channel, $n).
function Measure-Stream([object] $Channel, [object] $Send, [scriptblock] $Producer, [scriptblock] $Consumer, [int] $N, [scriptblock] $WarmUp = {}) {
    # The producer's spare, settled (see below); none yet before the run's first start.
    if ([IpcPs.Hosting.SpareChildren]::Pids -and -not [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120))) { throw 'The spare did not settle in 120 s.' }
    $go = New-IpcEvent
    $ready = New-IpcEvent
    try {
        $job = Start-IpcProcess -ArgumentList $Send, $go, $ready, $N -ScriptBlock ([scriptblock]::Create(
            "param(`$channel, `$go, `$ready, `$n) & { $WarmUp }; & { $jitQuiet }; Set-IpcEvent `$ready; [void](Wait-IpcEvent `$go); & { $Producer } `$channel `$n"))
        while (-not (Wait-IpcEvent $ready -Timeout 0.5 -PassThru -ErrorAction Ignore)) {
            if (-not $job.IsAlive) { throw "The producer failed: $($job | Receive-Job -ErrorAction Continue 2>&1 | Out-String)" }
        }
        # The spare that replaces the one the producer took boots in the background (within a second of the take, a
        # whole CPU for most of a second): timed beside it, a stream on 2 cores measured that boot as much as IpcPs.
        # Since 2026-12-04 a spare also warms its message paths while it waits (SpareWarmUp, ~2 s after it is ready):
        # waited for too, so that the next stream's producer is a spare that has done it, as in a session whose starts
        # are seconds apart (a spare taken sooner stops its warm-up at once).
        if (-not [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120))) { throw 'The replacement spare did not settle in 120 s.' }
        & $waitJitQuiet
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Set-IpcEvent $go
        & $Consumer $Channel $N
        $sw.Stop()
        $null = $job | Wait-Job -Timeout 300
        if ($job.State -ne 'Completed') { throw "The producer ended $($job.State): $($job | Receive-Job -ErrorAction Continue 2>&1 | Out-String)" }
        $job | Remove-Job
        $sw.Elapsed.TotalSeconds
    }
    finally { $go.Close(); $ready.Close() }
}

Write-Host "PowerShell $($psVersion): $psCount ints (methods), $psCmdletCount ints (cmdlets), $objCount objects, $payloads x 1 MiB"
$q = New-IpcQueue
try {
    $t = Measure-Stream $q $q { param($q, $n) for ($i = 0; $i -lt $n; $i++) { $q.Put($i) } } {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { if ($q.Get() -ne $i) { throw "message $i out of order" } } } $psCount
    $psMethod = $psCount / $t
    $t = Measure-Stream $q $q { param($q, $n) 0..($n - 1) | Send-IpcMessage $q } {
        param($q, $n) $got = Receive-IpcMessage $q -Count $n; if ($got.Count -ne $n) { throw 'messages lost' } } $psCmdletCount
    $psCmdlet = $psCmdletCount / $t
    # The same pipeline once both sides are warm: each first runs it on a scratch queue of its own (a fresh pwsh runs
    # PowerShell's pipeline code cold, and the row above times mostly that), then the timed run.
    $warm = { $s = New-IpcQueue; 0..199999 | Send-IpcMessage $s; $null = Receive-IpcMessage $s -Count 200000; $s.Close() }
    & $warm
    $t = Measure-Stream $q $q { param($q, $n) 0..($n - 1) | Send-IpcMessage $q } {
        param($q, $n) $got = Receive-IpcMessage $q -Count $n; if ($got.Count -ne $n) { throw 'messages lost' } } $psCmdletCount -WarmUp $warm
    $psCmdletWarm = $psCmdletCount / $t
    # Batches of 1,000 (PutMany/GetMany; a module without them gives n/a): each batch's count, first and last checked.
    $psBatch = $psBatchWarm = [double]::NaN
    if ($q.PSObject.Methods['PutMany']) {
        $t = Measure-Stream $q $q { param($q, $n) for ($i = 0; $i -lt $n; $i += 1000) { $q.PutMany($i..($i + 999)) } } {
            param($q, $n)
            for ($i = 0; $i -lt $n; $i += $got.Count) {
                $got = $q.GetMany(1000)
                if ($got[0] -ne $i -or $got[-1] -ne $i + $got.Count - 1) { throw "batch at $i out of order: $($got.Count) from $($got[0]) to $($got[-1])" }
            } } $psBatchCount
        $psBatch = $psBatchCount / $t
        # The same once both sides have run batches for a while (a fresh pwsh runs the batch paths at tier 0 for its
        # first seconds: docs/performance.md), as the warm cmdlet row.
        $warmBatches = { $s = New-IpcQueue; for ($i = 0; $i -lt 400000; $i += 1000) { $s.PutMany($i..($i + 999)); $null = $s.GetMany(1000) }; $s.Close() }
        & $warmBatches
        $t = Measure-Stream $q $q { param($q, $n) for ($i = 0; $i -lt $n; $i += 1000) { $q.PutMany($i..($i + 999)) } } {
            param($q, $n)
            for ($i = 0; $i -lt $n; $i += $got.Count) {
                $got = $q.GetMany(1000)
                if ($got[0] -ne $i -or $got[-1] -ne $i + $got.Count - 1) { throw "batch at $i out of order: $($got.Count) from $($got[0]) to $($got[-1])" }
            } } $psBatchCount -WarmUp $warmBatches
        $psBatchWarm = $psBatchCount / $t
    }
    # PowerShell's own floor for the cmdlet pipeline, in this process: a compiled cmdlet with Send-IpcMessage's
    # parameters as declared (two parameter sets, a positional channel or -Name, InputObject from the pipeline, -Priority,
    # -Timeout, -NoWait, -Depth; Send-IpcMessage reads a Priority property itself, on priority queues only) that does
    # nothing, against Send-IpcMessage sending alone to a scratch queue (best of 3 each, alternating).
    Add-Type -ReferencedAssemblies ([psobject].Assembly.Location) -TypeDefinition @'
using System;
using System.Management.Automation;
[Cmdlet("Test", "IpcBenchFloor", DefaultParameterSetName = "ByObject")]
public sealed class TestIpcBenchFloorCommand : PSCmdlet {
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "ByObject")] public object Channel { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "ByName")] public string Name { get; set; }
    [Parameter(ParameterSetName = "ByName")] public object Backend { get; set; }
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = "ByObject")]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "ByName")]
    [AllowNull, AllowEmptyString, AllowEmptyCollection] public object InputObject { get; set; }
    [Parameter] public long? Priority { get; set; }
    [Parameter] public TimeSpan Timeout { get; set; }
    [Parameter] public SwitchParameter NoWait { get; set; }
    [Parameter, ValidateRange(1, 100)] public int Depth { get; set; }
    protected override void ProcessRecord() { }
}
'@ -PassThru | Select-Object -First 1 | ForEach-Object { Import-Module -Assembly $_.Assembly }
    $scratch = New-IpcQueue -Capacity 256MB
    try {
        $psFloor = $psSendAlone = 0
        foreach ($round in 1..3) {
            $sw = [Diagnostics.Stopwatch]::StartNew(); 0..($psCmdletCount - 1) | Test-IpcBenchFloor $scratch
            $psFloor = [math]::Max($psFloor, $psCmdletCount / $sw.Elapsed.TotalSeconds)
            $sw = [Diagnostics.Stopwatch]::StartNew(); 0..($psCmdletCount - 1) | Send-IpcMessage $scratch
            $psSendAlone = [math]::Max($psSendAlone, $psCmdletCount / $sw.Elapsed.TotalSeconds)
            $null = $scratch.GetMany($psCmdletCount, 0)
        }
    }
    finally { $scratch.Close() }
    $t = Measure-Stream $q $q {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { $q.Put([pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true }) } } {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { if ($q.Get().Id -ne $i) { throw "object $i out of order" } } } $objCount
    $psObjects = $objCount / $t
    # The ceiling of the row above: the same fresh producer making the same objects and putting none (one item at the
    # end tells the consumer it is done), so PowerShell's own [pscustomobject]@{...} is timed alone, in the same shape.
    $t = Measure-Stream $q $q {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { $o = [pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true } }; $q.Put($n) } {
        param($q, $n) if ($q.Get() -ne $n) { throw 'the producer did not make every object' } } $objCount
    $psObjectsMadeOnly = $objCount / $t
    # The same stream as the made-in-the-loop row once both sides are warm (each first runs it on a scratch queue, as
    # the cmdlet pipeline's warm row: a fresh pwsh runs the loop and the put and decode paths cold at first).
    $warmMade = '$s = New-IpcQueue -Capacity 64MB; foreach ($k in 1..3) { for ($i = 0; $i -lt COUNT; $i++) { $s.Put([pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true }) }; for ($i = 0; $i -lt COUNT; $i++) { if ($s.Get().Id -ne $i) { throw "object $i out of order" } } }; $s.Close()'.Replace('COUNT', "$objCount")
    & ([scriptblock]::Create($warmMade))
    $t = Measure-Stream $q $q {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { $q.Put([pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true }) } } {
        param($q, $n) for ($i = 0; $i -lt $n; $i++) { if ($q.Get().Id -ne $i) { throw "object $i out of order" } } } $objCount -WarmUp ([scriptblock]::Create($warmMade))
    $psObjectsWarm = $objCount / $t
    # The same objects built beforehand on both sides (a PowerShell array of [pscustomobject], a Python list of dicts),
    # so that only IpcPs is timed, not PowerShell making objects: put one by one ($q.Put) and got one by one ($q.Get,
    # each Id checked); then in batches of 1,000 ($q.PutMany / $q.GetMany, each object's Id checked); then hashtables.
    $makeObjects = '$global:objects = [object[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $global:objects[$i] = [pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true } }'
    $makeTables = '$global:objects = [object[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $global:objects[$i] = @{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true } }'
    $putEach = { param($q, $n) foreach ($o in $global:objects) { $q.Put($o) } }
    $getEach = { param($q, $n) for ($i = 0; $i -lt $n; $i++) { if ($q.Get().Id -ne $i) { throw "object $i out of order" } } }
    $putBatches = { param($q, $n) for ($i = 0; $i -lt $n; $i += 1000) { $q.PutMany($global:objects[$i..([Math]::Min($i + 999, $n - 1))]) } }
    $getBatches = {
        param($q, $n)
        for ($i = 0; $i -lt $n) {
            foreach ($o in $q.GetMany(1000)) { if ($o.Id -ne $i) { throw "object $i out of order" }; $i++ }
        } }
    $psObjectsBuilt = $psObjectsBuiltWarm = $psObjectsBatch = $psTablesBuilt = $psTablesBatch = [double]::NaN
    $t = Measure-Stream $q $q $putEach $getEach $objCount -WarmUp ([scriptblock]::Create("`$n = $objCount; $makeObjects"))
    $psObjectsBuilt = $objCount / $t
    # The same once both sides have put and got such objects for a while (as the warm rows above: a fresh pwsh runs the
    # put and decode paths at tier 0 for its first ~200,000 objects, 2-5 us an object against 0.5-1 us after).
    $warmObjects = '$s = New-IpcQueue -Capacity 64MB; foreach ($k in 1..4) { foreach ($o in $global:objects) { $s.Put($o) }; for ($i = 0; $i -lt $n; $i++) { $null = $s.Get() } }; $s.Close()'
    & ([scriptblock]::Create("`$n = $objCount; $makeObjects; $warmObjects"))
    $t = Measure-Stream $q $q $putEach $getEach $objCount -WarmUp ([scriptblock]::Create("`$n = $objCount; $makeObjects; $warmObjects"))
    $psObjectsBuiltWarm = $objCount / $t
    if ($q.PSObject.Methods['PutMany']) {
        $t = Measure-Stream $q $q $putBatches $getBatches $objCount -WarmUp ([scriptblock]::Create("`$n = $objCount; $makeObjects"))
        $psObjectsBatch = $objCount / $t
    }
    $t = Measure-Stream $q $q $putEach $getEach $objCount -WarmUp ([scriptblock]::Create("`$n = $objCount; $makeTables"))
    $psTablesBuilt = $objCount / $t
    if ($q.PSObject.Methods['PutMany']) {
        $t = Measure-Stream $q $q $putBatches $getBatches $objCount -WarmUp ([scriptblock]::Create("`$n = $objCount; $makeTables"))
        $psTablesBatch = $objCount / $t
    }
}
finally { $q.Close() }

# Ping-pong through cmdlets: Send-IpcMessage one int, Receive-IpcMessage its echo from a child whose pipeline streams
# (Receive-IpcMessage | Send-IpcMessage); the median round trip. Then the same with $q.Put/$q.Get methods.
$ping = New-IpcQueue
$pong = New-IpcQueue
try {
    foreach ($how in 'cmdlets', 'methods') {
        $echo = if ($how -eq 'cmdlets') { { param($a, $b, $n) Receive-IpcMessage $a -Count $n | Send-IpcMessage $b } }
                else { { param($a, $b, $n) for ($i = 0; $i -lt $n; $i++) { $b.Put($a.Get()) } } }
        $job = Start-IpcProcess -ArgumentList $ping, $pong, ($pingRounds + 100) -ScriptBlock $echo
        $rounds = [double[]]::new($pingRounds)
        for ($i = -100; $i -lt $pingRounds; $i++) {   # 100 rounds of warm-up
            $w = [Diagnostics.Stopwatch]::GetTimestamp()
            if ($how -eq 'cmdlets') { Send-IpcMessage $ping $i; $back = Receive-IpcMessage $pong -Timeout 30 }
            else { $ping.Put($i); $back = $pong.Get() }
            if ($back -ne $i) { throw "ping-pong $i out of order" }
            if ($i -ge 0) { $rounds[$i] = ([Diagnostics.Stopwatch]::GetTimestamp() - $w) / [Diagnostics.Stopwatch]::Frequency * 1e6 }
        }
        $null = $job | Wait-Job -Timeout 120
        $job | Remove-Job -Force
        [array]::Sort($rounds)
        if ($how -eq 'cmdlets') { $psPingCmdlets = $rounds[$pingRounds / 2] } else { $psPingMethods = $rounds[$pingRounds / 2] }
    }
}
finally { $ping.Close(); $pong.Close() }

$a, $b = New-IpcPipe -Duplex:$false
try {
    $producer = { param($c, $n) $p = [byte[]]::new(1MB); for ($i = 0; $i -lt $n; $i++) { $p[0] = $p[-1] = $i % 256; $c.Send($p) } }
    $t = Measure-Stream $a $b $producer { param($c, $n) for ($i = 0; $i -lt $n; $i++) { if ($c.Recv()[0] -ne $i % 256) { throw 'payload damaged' } } } $payloads
    $psPipe = $payloads * 1MB / $t
}
finally { $a.Close(); $b.Close() }
$a, $b = New-IpcPipe -Duplex:$false
try {
    $t = Measure-Stream $a $b $producer {
        param($c, $n) $buf = [byte[]]::new(1MB); for ($i = 0; $i -lt $n; $i++) { [void]$c.RecvBytesInto($buf); if ($buf[0] -ne $i % 256) { throw 'payload damaged' } } } $payloads
    $psPipeInto = $payloads * 1MB / $t
}
finally { $a.Close(); $b.Close() }

# Start-Job: the same objects as a job's output, read with Receive-Job; timed from the job's go, like the others.
$go = New-IpcEvent
$ready = New-IpcEvent
try {
    $job = Start-Job -InitializationScript ([scriptblock]::Create("Import-Module '$ModulePath'")) -ArgumentList $go, $ready, $objCount {
        param($go, $ready, $n)
        Set-IpcEvent $ready; [void](Wait-IpcEvent $go)
        for ($i = 0; $i -lt $n; $i++) { [pscustomobject]@{ Id = $i; Name = "item $i"; Size = $i * 3; Ok = $true } }
        $go.Close(); $ready.Close()
    }
    if (-not (Wait-IpcEvent $ready -Timeout 120 -PassThru -ErrorAction Ignore)) { throw 'The job did not start.' }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Set-IpcEvent $go
    $got = @(Receive-Job $job -Wait).Count
    $sw.Stop()
    if ($got -ne $objCount) { throw "Start-Job delivered $got objects of $objCount." }
    $jobObjects = $objCount / $sw.Elapsed.TotalSeconds
    $job | Remove-Job -Force
}
finally { $go.Close(); $ready.Close() }

}
finally { Remove-Item -Recurse -Force $moduleCopy -ErrorAction SilentlyContinue }

# ---- 3. CPython -------------------------------------------------------------------------------------------------
$python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$py = $null
if (-not $python) { Write-Warning 'CPython not found (python3 / python): no CPython column.' }
else {
    Write-Host 'CPython: running bench/messaging.py'
    $pyJson = & $python.Source (Join-Path $benchDir 'messaging.py') --json --count $pyCount --objects $objCount --payloads $payloads
    if ($LASTEXITCODE) { throw "bench/messaging.py failed ($LASTEXITCODE)." }
    $py = $pyJson | ConvertFrom-Json
}

# ---- table ------------------------------------------------------------------------------------------------------
function Ratio([double] $value, [double] $reference) {
    if ([double]::IsNaN($reference) -or [double]::IsNaN($value) -or $reference -eq 0) { 'n/a' } else { '{0:N2}x' -f ($value / $reference) }
}
$pyInts = if ($py) { [double]$py.queue_small_ints_per_s } else { [double]::NaN }
$pyObjs = if ($py) { [double]$py.queue_objects_per_s } else { [double]::NaN }
$pyObjsBuilt = if ($py -and $py.PSObject.Properties['queue_prebuilt_objects_per_s']) { [double]$py.queue_prebuilt_objects_per_s } else { [double]::NaN }
$pyPing = if ($py -and $py.PSObject.Properties['queue_pingpong_median_us']) { [double]$py.queue_pingpong_median_us } else { [double]::NaN }
$pyPipe = if ($py) { [double]$py.pipe_1mib_bytes_per_s } else { [double]::NaN }
$pyPipeInto = if ($py) { [double]$py.pipe_1mib_into_bytes_per_s } else { [double]::NaN }
$na = 'n/a'
$rows = @(
    [pscustomobject]@{ Benchmark = 'Small ints, C# IpcQueue Put/Get'; IpcPs = Format-Rate $cs.queue_small_ints_per_s; Reference = $(if ($py) { Format-Rate $pyInts } else { $na }); Ratio = Ratio $cs.queue_small_ints_per_s $pyInts }
    [pscustomobject]@{ Benchmark = 'Small ints, PowerShell $q.Put/$q.Get loops'; IpcPs = Format-Rate $psMethod; Reference = 'CPython mp.Queue'; Ratio = Ratio $psMethod $pyInts }
    [pscustomobject]@{ Benchmark = 'Small ints, Send-IpcMessage | Receive-IpcMessage'; IpcPs = Format-Rate $psCmdlet; Reference = 'CPython mp.Queue'; Ratio = Ratio $psCmdlet $pyInts }
    [pscustomobject]@{ Benchmark = 'Small ints, Send-IpcMessage | Receive-IpcMessage, warm'; IpcPs = Format-Rate $psCmdletWarm; Reference = 'CPython mp.Queue'; Ratio = Ratio $psCmdletWarm $pyInts }
    [pscustomobject]@{ Benchmark = 'Small ints, C# PutMany/GetMany of 1,000'; IpcPs = $(if ($cs.PSObject.Properties['queue_batch_small_ints_per_s']) { Format-Rate $cs.queue_batch_small_ints_per_s } else { $na }); Reference = 'CPython mp.Queue'; Ratio = $(if ($cs.PSObject.Properties['queue_batch_small_ints_per_s']) { Ratio $cs.queue_batch_small_ints_per_s $pyInts } else { $na }) }
    [pscustomobject]@{ Benchmark = 'Small ints, PowerShell $q.PutMany/$q.GetMany of 1,000'; IpcPs = $(if ([double]::IsNaN($psBatch)) { $na } else { Format-Rate $psBatch }); Reference = 'CPython mp.Queue'; Ratio = Ratio $psBatch $pyInts }
    [pscustomobject]@{ Benchmark = 'Small ints, PowerShell $q.PutMany/$q.GetMany of 1,000, warm'; IpcPs = $(if ([double]::IsNaN($psBatchWarm)) { $na } else { Format-Rate $psBatchWarm }); Reference = 'CPython mp.Queue'; Ratio = Ratio $psBatchWarm $pyInts }
    [pscustomobject]@{ Benchmark = 'Send-IpcMessage alone, one process (vs PowerShell''s floor: a do-nothing cmdlet, same pipeline parameters)'; IpcPs = Format-Rate $psSendAlone 'items/s'; Reference = Format-Rate $psFloor 'items/s'; Ratio = Ratio $psSendAlone $psFloor }
    [pscustomobject]@{ Benchmark = 'Ping-pong round trip, Send-/Receive-IpcMessage (median)'; IpcPs = '{0:N0} µs' -f $psPingCmdlets; Reference = $(if ($py) { '{0:N0} µs' -f $pyPing } else { $na }); Ratio = Ratio $pyPing $psPingCmdlets }
    [pscustomobject]@{ Benchmark = 'Ping-pong round trip, $q.Put/$q.Get (median)'; IpcPs = '{0:N0} µs' -f $psPingMethods; Reference = 'CPython mp.Queue'; Ratio = Ratio $pyPing $psPingMethods }
    [pscustomobject]@{ Benchmark = '[pscustomobject] made in the loop, $q.Put/$q.Get (vs CPython dicts made in the loop)'; IpcPs = Format-Rate $psObjects; Reference = $(if ($py) { Format-Rate $pyObjs } else { $na }); Ratio = Ratio $psObjects $pyObjs }
    [pscustomobject]@{ Benchmark = '  PowerShell making those objects alone, fresh producer, nothing put (the row''s ceiling)'; IpcPs = Format-Rate $psObjectsMadeOnly; Reference = 'CPython dicts made in the loop'; Ratio = Ratio $psObjectsMadeOnly $pyObjs }
    [pscustomobject]@{ Benchmark = '[pscustomobject] made in the loop, $q.Put/$q.Get, warm'; IpcPs = Format-Rate $psObjectsWarm; Reference = 'CPython dicts made in the loop'; Ratio = Ratio $psObjectsWarm $pyObjs }
    [pscustomobject]@{ Benchmark = '[pscustomobject] built beforehand, $q.Put/$q.Get (vs CPython dicts built beforehand)'; IpcPs = Format-Rate $psObjectsBuilt; Reference = $(if ($py) { Format-Rate $pyObjsBuilt } else { $na }); Ratio = Ratio $psObjectsBuilt $pyObjsBuilt }
    [pscustomobject]@{ Benchmark = '[pscustomobject] built beforehand, $q.Put/$q.Get, warm'; IpcPs = Format-Rate $psObjectsBuiltWarm; Reference = 'CPython dicts built beforehand'; Ratio = Ratio $psObjectsBuiltWarm $pyObjsBuilt }
    [pscustomobject]@{ Benchmark = '[pscustomobject] built beforehand, PutMany/GetMany of 1,000'; IpcPs = $(if ([double]::IsNaN($psObjectsBatch)) { $na } else { Format-Rate $psObjectsBatch }); Reference = 'CPython dicts built beforehand'; Ratio = Ratio $psObjectsBatch $pyObjsBuilt }
    [pscustomobject]@{ Benchmark = 'hashtables built beforehand, $q.Put/$q.Get'; IpcPs = Format-Rate $psTablesBuilt; Reference = 'CPython dicts built beforehand'; Ratio = Ratio $psTablesBuilt $pyObjsBuilt }
    [pscustomobject]@{ Benchmark = 'hashtables built beforehand, PutMany/GetMany of 1,000'; IpcPs = $(if ([double]::IsNaN($psTablesBatch)) { $na } else { Format-Rate $psTablesBatch }); Reference = 'CPython dicts built beforehand'; Ratio = Ratio $psTablesBatch $pyObjsBuilt }
    [pscustomobject]@{ Benchmark = '[pscustomobject], IpcQueue vs Start-Job output'; IpcPs = Format-Rate $psObjects; Reference = Format-Rate $jobObjects; Ratio = Ratio $psObjects $jobObjects }
    [pscustomobject]@{ Benchmark = '1 MiB byte[], C# pipe Recv (new arrays)'; IpcPs = Format-Bytes $cs.pipe_1mib_bytes_per_s; Reference = $(if ($py) { Format-Bytes $pyPipe } else { $na }); Ratio = Ratio $cs.pipe_1mib_bytes_per_s $pyPipe }
    [pscustomobject]@{ Benchmark = '1 MiB byte[], C# pipe RecvBytesInto'; IpcPs = Format-Bytes $cs.pipe_1mib_into_bytes_per_s; Reference = $(if ($py) { Format-Bytes $pyPipeInto } else { $na }); Ratio = Ratio $cs.pipe_1mib_into_bytes_per_s $pyPipeInto }
    [pscustomobject]@{ Benchmark = '1 MiB byte[], PowerShell $c.Send/$c.Recv'; IpcPs = Format-Bytes $psPipe; Reference = 'CPython recv_bytes'; Ratio = Ratio $psPipe $pyPipe }
    [pscustomobject]@{ Benchmark = '1 MiB byte[], PowerShell RecvBytesInto'; IpcPs = Format-Bytes $psPipeInto; Reference = 'CPython recv_bytes_into'; Ratio = Ratio $psPipeInto $pyPipeInto }
)
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
Write-Host ''
Write-Host "Messaging benchmarks — $(Get-Date -Format 'yyyy-MM-dd HH:mm K'), $([Environment]::ProcessorCount) CPUs ($cpu)"
Write-Host "IpcPs: PowerShell $psVersion; CPython: $(if ($py) { $py.runtime } else { 'not found' }). Ratio: IpcPs / reference; above 1x IpcPs is faster."
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host -NoNewline

function Target([string] $what, [double] $ratio, [double] $need) {
    $verdict = if ([double]::IsNaN($ratio)) { 'unknown' } elseif ($ratio -ge $need) { 'MET' } else { 'NOT MET' }
    Write-Host ('Target: {0}: {1} ({2:N2})' -f $what, $verdict, $ratio)
}
Target 'PowerShell method loop >= 2x CPython mp.Queue' ($psMethod / $pyInts) 2
Target 'cmdlet pipeline >= CPython mp.Queue' ($psCmdlet / $pyInts) 1
Target 'C# core >= 5 M small msgs/s (ratio to 5 M)' ($cs.queue_small_ints_per_s / 5e6) 1
Target '1 MiB payloads >= 3x CPython Pipe (C# Recv, new arrays)' ($cs.pipe_1mib_bytes_per_s / $pyPipe) 3
Target '1 MiB payloads >= 3x CPython Pipe (C# RecvBytesInto vs recv_bytes_into)' ($cs.pipe_1mib_into_bytes_per_s / $pyPipeInto) 3
Target 'PowerShell PutMany/GetMany >= 5 M msgs/s (ratio to 5 M)' ($psBatch / 5e6) 1
Target 'PowerShell PutMany/GetMany >= 25x CPython mp.Queue' ($psBatch / $pyInts) 25
Target 'PowerShell PutMany/GetMany, warm, >= 5 M msgs/s (ratio to 5 M)' ($psBatchWarm / 5e6) 1
Target 'cmdlet pipeline >= 1 M msgs/s (ratio to 1 M; warm)' ($psCmdletWarm / 1e6) 1
Target '  (PowerShell''s own floor for that pipeline, this machine: ratio to 1 M)' ($psFloor / 1e6) 1
Target 'C# batch put/get >= 20 M msgs/s (ratio to 20 M)' ($(if ($cs.PSObject.Properties['queue_batch_small_ints_per_s']) { $cs.queue_batch_small_ints_per_s } else { [double]::NaN }) / 20e6) 1
Target '[pscustomobject] >= 1.2x CPython dicts (both made in the producer loop; put, get and Id check timed)' ($psObjects / $pyObjs) 1.2
Target '  (PowerShell making those objects alone, nothing put: ratio to CPython''s whole row)' ($psObjectsMadeOnly / $pyObjs) 1.2
Target '[pscustomobject] >= 1.2x CPython dicts (both made in the producer loop, warm)' ($psObjectsWarm / $pyObjs) 1.2
Target '[pscustomobject] >= 1.2x CPython dicts (both built beforehand; $q.Put/$q.Get one by one vs put/get)' ($psObjectsBuilt / $pyObjsBuilt) 1.2
Target '[pscustomobject] >= 1.2x CPython dicts (the same, warm)' ($psObjectsBuiltWarm / $pyObjsBuilt) 1.2
Target '[pscustomobject] >= 1.2x CPython dicts (both built beforehand; PutMany/GetMany of 1,000 vs put/get)' ($psObjectsBatch / $pyObjsBuilt) 1.2
Target 'hashtables >= 1.2x CPython dicts (both built beforehand; $q.Put/$q.Get one by one vs put/get)' ($psTablesBuilt / $pyObjsBuilt) 1.2
Write-Host 'One run on whatever else the machine is doing: numbers for comparison, not assertions.'

if ($JsonPath) {
    [ordered]@{
        date = (Get-Date).ToString('o'); processors = [Environment]::ProcessorCount; cpu = $cpu; csharp = $cs
        powershell = [ordered]@{ version = $psVersion; method_ints_per_s = $psMethod; cmdlet_ints_per_s = $psCmdlet; cmdlet_warm_ints_per_s = $psCmdletWarm; objects_per_s = $psObjects; objects_made_only_per_s = $psObjectsMadeOnly; objects_warm_per_s = $psObjectsWarm
            prebuilt_objects_per_s = $psObjectsBuilt; prebuilt_objects_batch_per_s = $psObjectsBatch; prebuilt_hashtables_per_s = $psTablesBuilt; prebuilt_hashtables_batch_per_s = $psTablesBatch
            start_job_objects_per_s = $jobObjects; batch_ints_per_s = $psBatch; batch_warm_ints_per_s = $psBatchWarm; send_alone_items_per_s = $psSendAlone; pipeline_floor_items_per_s = $psFloor; pingpong_cmdlets_median_us = $psPingCmdlets
            pingpong_methods_median_us = $psPingMethods; pipe_1mib_bytes_per_s = $psPipe; pipe_1mib_into_bytes_per_s = $psPipeInto }
        cpython = $py
    } | ConvertTo-Json -Depth 5 | Set-Content $JsonPath
}
