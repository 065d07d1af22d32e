<#
.SYNOPSIS
    A short tour of IpcPs: child pwsh processes coordinating through an event, a lock and shared memory.
.DESCRIPTION
    The parent creates a segment, a lock and a "start" event, and starts three child processes, handing each the
    three handles. The children wait for the start signal, compute the sum of squares of their share of 1..300000,
    then add it to a total in shared memory under the lock and note which worker they were. The parent checks the
    total. Nothing is copied between processes: they share the bytes.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$workers = 3
$n = 300000
$shm = New-SharedMemory -Size 16          # bytes 0..7: the total; 8..15: how many workers have added theirs
$lock = New-IpcLock
$start = New-IpcEvent
Write-Host "Created $shm, $lock and $start"

$jobs = foreach ($w in 0..($workers - 1)) {
    Start-IpcProcess -Name "worker-$w" -ArgumentList $shm, $lock, $start, $w, $workers, $n {
        param($memory, $lock, $start, $index, $count, $n)
        [void](Wait-IpcEvent $start)
        [long] $sum = 0
        for ($i = $index + 1; $i -le $n; $i += $count) { $sum += [long]$i * $i }
        Use-IpcLock $lock {
            $total = [BitConverter]::ToInt64($memory.Read(0, 8), 0) + $sum
            $done = [BitConverter]::ToInt64($memory.Read(8, 8), 0) + 1
            $memory.Write(0, [BitConverter]::GetBytes($total))
            $memory.Write(8, [BitConverter]::GetBytes($done))
            "worker $index (pid $PID) added $sum; $done of $count done"
        }
    }
}
Get-IpcObject | Where-Object Name -In $shm.Name, $lock.Name, $start.Name | Format-Table | Out-Host
Write-Host 'Starting the workers...'
Set-IpcEvent $start
$jobs | Wait-IpcProcess | Receive-Job | Out-Host

$total = [BitConverter]::ToInt64($shm.Read(0, 8), 0)
$expected = [long]$n * ($n + 1) * (2 * $n + 1) / 6
Write-Host "Sum of squares 1..$n from shared memory: $total (expected $expected)"
$jobs | Remove-Job
$shm.Close(); $lock.Close(); $start.Close()   # the last holder closes: the objects are destroyed
if ($total -ne $expected) { throw 'The workers'' results do not add up.' }
Write-Host 'demo finished'
