# The PoolWorkerDied error says what became of the dead worker's slot: the process id of the worker started in its
# place, or, when none could start (no file descriptor left), that none could and why; the call then ends with that
# typed error (IpcPlatformError, LimitsExceeded). Linux only (untagged): the descriptor limit is set with prlimit(1).

BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'PoolWorkerDied' {
    It 'names the worker started in place of one killed mid-item' {
        $pool = New-IpcPool -Size 1
        try {
            $before = $pool.Pids[0]
            $out = @(1, 2 | Invoke-IpcPool -Pool $pool { if ($_ -eq 1) { Stop-Process -Id $PID -Force }; $_ } -ErrorVariable died -ErrorAction SilentlyContinue)
            $out | Should -Be @(2) -Because 'the item after the dead one runs on the new worker'
            $died.Count | Should -Be 1
            $died[0].FullyQualifiedErrorId | Should -Match '^PoolWorkerDied'
            $message = $died[0].ErrorDetails.Message
            $message | Should -Match "^\[item 0 '1'\] The pool worker process $before died \(ended by signal 9, SIGKILL\)\."
            $message | Should -Match 'It was running this item; a new worker \(process (\d+)\) was started in its place\.$'
            $null = $message -match 'process (\d+)\) was started'
            $new = [int]$Matches[1]
            $new | Should -Not -Be $before
            $pool.Pids | Should -Be @($new) -Because 'the worker the message names holds the slot'
            $pool.Replaced | Should -Be 1
        } finally { Remove-IpcPool $pool }
    }

    # -Ordered: the dead worker's item 1 waits behind item 0, still running on the other worker when the call ends with
    # the error; before, its PoolWorkerDied stayed held for order and was never written.
    It 'says no worker could start in place of one that died with no descriptor left, and the call ends with why<label>' -ForEach @(
        @{ Label = ''; Size = 1; Ordered = '' }
        @{ Label = ' (-Ordered, an earlier item still running)'; Size = 2; Ordered = '-Ordered' }
    ) {
        $child = @'
$ErrorActionPreference = 'Stop'
[Console]::Error.Flush()   # pwsh reports on stderr: its stream is opened now, while a descriptor is left for it
. '__LIMITCHILD__'   # LimitChild.ps1: LimitThreads, Get-FdCount, Set-DescriptorLimit, descriptors taken
$env:IPCPS_SPARES = '0'
$pool = New-IpcPool -Size __SIZE__
$null = 5, 6 | Invoke-IpcPool -Pool $pool { $_ }   # warm: the call's code loaded
$release = New-IpcEvent   # item 0 waits for it (-Ordered: item 1's result is held behind item 0's)
$releaseName = $release.Name
$null = ([ordered]@{ a = 1 } | ConvertTo-Json -Compress), (Get-FdCount)
Set-DescriptorLimit
[GC]::Collect(); [GC]::WaitForPendingFinalizers()
[LimitThreads]::Warm(16)   # made while descriptors are free: the pool cannot start a thread with none left
$r = [ordered]@{ Pids = @($pool.Pids); Dead = $null; Died = @(); Type = $null; Category = $null; Message = $null; Again = $null }
try {
    Use-AllDescriptors
    $script = { if ($_ -eq 0) { $e = Get-IpcObject -Name $using:releaseName -Open; $null = $e.Wait(120); $e.Close() }; if ($_ -eq 1) { [Environment]::Exit(3) }; $_ }
    $items = if (__SIZE__ -eq 1) { @(1, 2) } else { @(0, 1) }
    try { $null = $items | Invoke-IpcPool -Pool $pool $script __ORDERED__ -ErrorVariable died -ErrorAction SilentlyContinue }
    catch { $r.Type = $_.Exception.GetType().FullName; $r.Category = "$($_.CategoryInfo.Category)"; $r.Message = $_.Exception.Message }
    # The error records only (the terminating error's exception is in the variable too).
    $r.Died = @($died | Where-Object { $_ -is [Management.Automation.ErrorRecord] } | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.ErrorDetails.Message)" })
} finally { Stop-UsingDescriptors; $release.Set() }
$r.Dead = $r.Died | ForEach-Object { if ($_ -match 'The pool worker process (\d+) died') { [int]$Matches[1] } } | Select-Object -First 1
$r.Again = @(7 | Invoke-IpcPool -Pool $pool { $_ }) -join ','   # the next call starts the missing worker
Remove-IpcPool $pool
[Console]::Out.WriteLine('WORKERDIED ' + ($r | ConvertTo-Json -Compress))
'@
        $child = $child.Replace('__LIMITCHILD__', "$PSScriptRoot/LimitChild.ps1").Replace('__SIZE__', "$Size").Replace('__ORDERED__', $Ordered)
        $run = Invoke-Pwsh $child -Environment @{ IPCPS_SPARES = '0'; POWERSHELL_TELEMETRY_OPTOUT = '1' } -TimeoutSeconds 300
        $output = $run.Lines -join "`n"
        $line = @($run.Lines | Where-Object { $_.StartsWith('WORKERDIED ') })
        $line.Count | Should -Be 1 -Because "the child reports once (its output: $output)"
        $r = $line[0].Substring(11) | ConvertFrom-Json
        $run.ExitCode | Should -Be 0 -Because $output
        $r.Type | Should -Be 'IpcPs.IpcPlatformException' -Because "the call ends with the typed error: $($r.Message)"
        $r.Category | Should -Be 'LimitsExceeded'
        $r.Message | Should -Match 'too many open files'
        @($r.Died).Count | Should -Be 1 -Because "one item's worker died: $output"
        $id, $message = $r.Died[0] -split '\|', 2
        $id | Should -Match '^PoolWorkerDied'
        $r.Pids | Should -Contain $r.Dead -Because 'a worker of the pool died'
        $message | Should -Match "^\[item \d '1'\] The pool worker process $($r.Dead) died \(exit code 3\)\."
        $message | Should -Not -Match 'took its place|was started in its place'
        $message | Should -Match 'It was running this item; no new worker could be started in its place: .*too many open files'
        $r.Again | Should -Be '7' -Because 'the pool starts the missing worker once descriptors are free'
    }
}
