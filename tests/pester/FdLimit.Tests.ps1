# A session out of file descriptors (RLIMIT_NOFILE reached: EMFILE, "Too many open files"). Every cmdlet fails with a
# typed error (IpcPlatformException, ErrorId IpcPlatformError, category LimitsExceeded), never a raw Win32Exception,
# IOException or SocketException nor a misleading one (another user's folder, no such object); it leaves nothing behind
# (descriptors, child processes, registry records, segments, manager folders); and the same command works once
# descriptors are free again. Objects already open keep working: a mapped segment holds no descriptor. Linux only
# (untagged): the limit is set with prlimit(1) and what is left is read from /proc.
#
# One child pwsh runs every case: it lowers its own limit (prlimit --pid), warms each command up (the first use of a
# command loads .NET assemblies, which takes descriptors too), then per case opens /dev/null until none is left, runs
# the command, closes them, waits (with a deadline) for what the command left to go, and runs the command again.
BeforeDiscovery {
    $script:Cases = @(
        'Start-IpcProcess', 'Start-IpcProcess (a warm spare)', 'New-IpcPool', 'Invoke-IpcPool -ThrottleLimit',
        'Invoke-IpcPool -Pool (a worker dies)', 'Start-IpcManager', 'Connect-IpcManager -Name', 'Connect-IpcManager -Address',
        'New-IpcQueue', 'New-IpcPipe', 'New-SharedMemory', 'New-IpcLock', 'Get-IpcObject'
    ) | ForEach-Object { @{ Case = $_ } }
}

BeforeAll {
    . $PSScriptRoot/Common.ps1

    $script:Child = @'
$ErrorActionPreference = 'Stop'
[Console]::Error.Flush()   # pwsh reports on stderr: its stream is opened now, while a descriptor is left for it
. '__LIMITCHILD__'   # LimitChild.ps1: New-Name, Get-FdCount, Get-Children, Get-Records, descriptors taken, Get-Left

# CALL with no descriptor left, then what it left (Get-Left). GONE: processes that must have ended; SPARES: new children
# allowed (a spare). Collected first: a finalizer that closed a descriptor during the call would give it one.
function Test-Case([string] $Case, [scriptblock] $Call, [string[]] $Paths = @(), [string[]] $Gone = @(), [int] $Spares = 0) {
    $r = [ordered]@{ Case = $Case; Type = $null; Id = $null; Category = $null; Message = $null; Output = $null; Left = @(); Again = $null }
    [GC]::Collect(); [GC]::WaitForPendingFinalizers()
    [LimitThreads]::Warm(16)
    $fds = Get-FdCount; $before = Get-Snapshot
    Use-AllDescriptors
    try { $r.Output = @(& $Call) -join ',' }
    catch { $r.Type = $_.Exception.GetType().FullName; $r.Id = $_.FullyQualifiedErrorId; $r.Category = "$($_.CategoryInfo.Category)"; $r.Message = $_.Exception.Message }
    finally { Stop-UsingDescriptors }
    $r.Left = @(Get-Left $before $Paths $Gone -GoneAs 'taken' -Spares $Spares -Descriptors $fds)
    $r
}

function Write-Result($r) { [Console]::Out.WriteLine('FDLIMIT ' + ($r | ConvertTo-Json -Compress)) }

$env:IPCPS_SPARES = '0'
$key = 'fdlimit-test-key-0123456789'
$managerName = New-Name 'fdm'
$named = Start-IpcManager -Name $managerName
$tcp = Start-IpcManager -Address 127.0.0.1:0 -AuthKey $key
$pool = New-IpcPool -Size 1
$q = New-IpcQueue; $lock = New-IpcLock; $ends = New-IpcPipe
$n = @{ Manager = New-Name 'fdm'; Queue = New-Name 'fdq'; Pipe = New-Name 'fdp'; Memory = New-Name 'fds'; Lock = New-Name 'fdl' }
$cases = [ordered]@{
    'Start-IpcProcess' = @{ Call = { Start-IpcProcess -NoSpare { 1 } }; Again = { Start-IpcProcess -NoSpare { 1 } | Receive-Job -Wait -AutoRemoveJob } }
    'New-IpcPool' = @{ Call = { New-IpcPool -Size 1 }; Again = { $p = New-IpcPool -Size 1; $p.Size; Remove-IpcPool $p } }
    'Invoke-IpcPool -ThrottleLimit' = @{ Call = { 1 | Invoke-IpcPool -ThrottleLimit 1 { $_ } }; Again = { 1 | Invoke-IpcPool -ThrottleLimit 1 { $_ } } }
    'Start-IpcManager' = @{ Call = { Start-IpcManager -Name $n.Manager }; Again = { $m = Start-IpcManager; [bool]$m.Address; Stop-IpcManager $m }
        Paths = @("$temp/ipcps-managers-$uid/$($n.Manager)") }
    'Connect-IpcManager -Name' = @{ Call = { Connect-IpcManager -Name $managerName }; Again = { (Connect-IpcManager -Name $managerName).Address -eq $named.Address } }
    'Connect-IpcManager -Address' = @{ Call = { Connect-IpcManager -Address $tcp.Address -AuthKey $key }; Again = { (Connect-IpcManager -Address $tcp.Address -AuthKey $key).Address -eq $tcp.Address } }
    'New-IpcQueue' = @{ Call = { New-IpcQueue -Name $n.Queue }; Again = { (New-IpcQueue -Name $n.Queue).Name; Remove-IpcObject -Name $n.Queue }
        Paths = @("/dev/shm/$($n.Queue)", "$registry/$($n.Queue)") }
    'New-IpcPipe' = @{ Call = { New-IpcPipe -Name $n.Pipe }; Again = { @(New-IpcPipe -Name $n.Pipe).Count; Remove-IpcObject -Name $n.Pipe }
        Paths = @("/dev/shm/$($n.Pipe)", "$registry/$($n.Pipe)") }
    'New-SharedMemory' = @{ Call = { New-SharedMemory -Name $n.Memory -Size 4096 }; Again = { (New-SharedMemory -Name $n.Memory -Size 4096).Size; Remove-IpcObject -Name $n.Memory }
        Paths = @("/dev/shm/$($n.Memory)", "$registry/$($n.Memory)") }
    'New-IpcLock' = @{ Call = { New-IpcLock -Name $n.Lock }; Again = { (New-IpcLock -Name $n.Lock).Name; Remove-IpcObject -Name $n.Lock }
        Paths = @("/dev/shm/$($n.Lock)", "$registry/$($n.Lock)") }
    'Get-IpcObject' = @{ Call = { Get-IpcObject }; Again = { @(Get-IpcObject | Where-Object Name -EQ $q.Name).Count } }
    # The worker running item 1 dies, and none can start in its place: the call fails, the dead worker's pipe is
    # detached once a descriptor is free, and the pool is not left busy. Last: the dead worker's pipes close late.
    'Invoke-IpcPool -Pool (a worker dies)' = @{ Call = { 1, 2 | Invoke-IpcPool -Pool $pool { if ($_ -eq 1) { [Environment]::Exit(3) }; $_ } -ErrorAction SilentlyContinue }
        Again = { 5, 6 | Invoke-IpcPool -Pool $pool { $_ } }; Gone = { $pool.Pids } }
    # Open objects use their mapped segments only: no descriptor needed.
    'open objects' = @{ Call = { $q.Put(7); $q.Get(); $null = $lock.Acquire(); $lock.Release(); Send-IpcMessage $ends[0] 8; Receive-IpcMessage $ends[1] }
        Again = { $q.Put(7); $q.Get(); Send-IpcMessage $ends[0] 8; Receive-IpcMessage $ends[1] } }
}
foreach ($c in $cases.Values) { $null = & $c.Again }   # warm: assemblies loaded, first uses made
$null = (Get-FdCount), @(Get-Children), @(Get-Records), @(Get-ManagerParents), (Test-Path /), ([ordered]@{ a = 1 } | ConvertTo-Json -Compress)
Set-DescriptorLimit   # 64 over what it has: headroom for what the session does with descriptors free
# Every call first, then every command again: a command that starts processes closes their pipes a little after it
# returns, which would give the next call descriptors.
# Each result is written at once (a session that fails later still tells), and again with AGAIN's outcome.
$results = foreach ($name in $cases.Keys) {
    $c = $cases[$name]
    $r = Test-Case $name $c.Call $c.Paths -Gone @(if ($c.Gone) { & $c.Gone | ForEach-Object { "$_" } })
    Write-Result $r
    $r
}
foreach ($r in $results) { $r.Again = Invoke-Again $cases[$r.Case].Again; Write-Result $r }

# A warm spare taken by a start that cannot go on (no descriptor for its reader threads): the spare is ended, not left.
$env:IPCPS_SPARES = '1'
$null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'No spare became ready.' }
$spare = @([IpcPs.Hosting.SpareChildren]::Pids | ForEach-Object { "$_" })
$r = Test-Case 'Start-IpcProcess (a warm spare)' { Start-IpcProcess { 1 } } -Gone $spare -Spares 1
$r.Again = Invoke-Again { Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob }
Write-Result $r
$env:IPCPS_SPARES = '0'
[IpcPs.Hosting.SpareChildren]::EndAll()

Remove-IpcPool $pool
Stop-IpcManager $named; Stop-IpcManager $tcp
$q.Unlink(); $lock.Unlink(); $ends[0].Unlink()
foreach ($o in @($q, $lock) + $ends) { $o.Close() }
# Closes that could not update the registry then (no descriptor left) have done so since: nothing of ours is listed.
[Console]::Out.WriteLine("FDLIMIT-END $PID $(@(Get-Records) -join ',')")
'@

    $run = Invoke-Pwsh $script:Child.Replace('__LIMITCHILD__', "$PSScriptRoot/LimitChild.ps1") -Environment @{ IPCPS_SPARES = '0'; POWERSHELL_TELEMETRY_OPTOUT = '1' } -TimeoutSeconds 600
    $script:Output = $run.Lines -join "`n"
    $script:ExitCode = $run.ExitCode
    $read = Read-LimitResults $run.Lines 'FDLIMIT'
    $script:Results, $script:EndPid, $script:EndRecords = $read.Results, $read.EndPid, $read.EndRecords
}

Describe 'A session out of file descriptors' {
    It '<Case> fails with IpcPlatformError, leaves nothing, and works again' -TestCases $script:Cases {
        param($Case)
        $r = $script:Results[$Case]
        $r | Should -Not -BeNullOrEmpty -Because "the child ran the case (its output: $script:Output)"
        $r.Type | Should -Be 'IpcPs.IpcPlatformException' -Because "$Case with no descriptor left: $($r.Id): $($r.Message)"
        $r.Id | Should -BeLike 'IpcPlatformError,*'
        $r.Category | Should -Be 'LimitsExceeded'
        $r.Message | Should -Match 'too many open files.*\(errno 2[34]\)'
        @($r.Left) | Should -BeNullOrEmpty -Because 'a failed command leaves nothing behind'
        $r.Again | Should -Not -BeNullOrEmpty -Because "the session ran the command again (its output: $script:Output)"
        $r.Again | Should -Not -BeLike 'failed:*' -Because 'the command works once descriptors are free'
    }

    It 'open queues, locks and pipes keep working with no descriptor left' {
        $r = $script:Results['open objects']
        $r | Should -Not -BeNullOrEmpty -Because "the child ran the case (its output: $script:Output)"
        $r.Type | Should -BeNullOrEmpty -Because "$($r.Id): $($r.Message)"
        $r.Output | Should -Be '7,8'
        @($r.Left) | Should -BeNullOrEmpty
        $r.Again | Should -Be '7,8'
    }

    It 'the session goes on to its end once descriptors are free, and leaves nothing in the registry' {
        $script:ExitCode | Should -Be 0 -Because "the child pwsh ran every case and cleaned up (its output: $script:Output)"
        $script:EndPid | Should -Not -BeNullOrEmpty
        # A handle closed with no descriptor left (a dead pool worker's pipe) is detached once one is free.
        $script:EndRecords | Should -BeNullOrEmpty -Because 'the session closed or removed everything it had'
        $listed = @(Get-ChildItem -LiteralPath $script:RegistryDir -File -ErrorAction SilentlyContinue |
            Where-Object { (Get-Content -Raw -LiteralPath $_.FullName -ErrorAction SilentlyContinue) -match "(?m)^(creator|attached)=$($script:EndPid):" })
        $listed.Name | Should -BeNullOrEmpty -Because 'no record names the ended session'
    }
}
