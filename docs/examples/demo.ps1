<#
.SYNOPSIS
    A short tour of IpcPs: child pwsh processes coordinating through an event, a lock, shared memory and a queue.
.DESCRIPTION
    The parent creates a segment, a lock, a "start" event and a results queue, and starts three child processes,
    handing each the four handles. The children wait for the start signal, compute the sum of squares of their share
    of 1..300000, add it to a total in shared memory under the lock, and also send it to the parent as a message
    through the queue. The parent checks both: the total the workers built in shared memory (nothing copied: they
    share the bytes), and the sum of the messages it received.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$workers = 3
$n = 300000
$shm = New-SharedMemory -Size 16          # bytes 0..7: the total; 8..15: how many workers have added theirs
$lock = New-IpcLock
$start = New-IpcEvent
$results = New-IpcQueue
Write-Host "Created $shm, $lock, $start and $results"

$jobs = foreach ($w in 0..($workers - 1)) {
    Start-IpcProcess -Name "worker-$w" -ArgumentList $shm, $lock, $start, $results, $w, $workers, $n {
        param($memory, $lock, $start, $results, $index, $count, $n)
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
        Send-IpcMessage $results ([pscustomobject]@{ Worker = $index; Pid = $PID; Sum = $sum })
    }
}
Get-IpcObject | Where-Object Name -In $shm.Name, $lock.Name, $start.Name, $results.Name | Format-Table | Out-Host
Write-Host 'Starting the workers...'
Set-IpcEvent $start
$messages = Receive-IpcMessage $results -Count $workers -Timeout 300
$messages | Sort-Object Worker | Format-Table Worker, Pid, Sum | Out-Host
$jobs | Wait-IpcProcess -PassThru | Receive-Job | Out-Host

$total = [BitConverter]::ToInt64($shm.Read(0, 8), 0)
$expected = [long]$n * ($n + 1) * (2 * $n + 1) / 6
$fromQueue = [long]0
foreach ($m in $messages) { $fromQueue += $m.Sum }
Write-Host "Sum of squares 1..$n from shared memory: $total (expected $expected)"
Write-Host "Sum of the $(@($messages).Count) messages from the queue: $fromQueue"
$jobs | Remove-Job
$shm.Close(); $lock.Close(); $start.Close(); $results.Close()   # the last holder closes: the objects are destroyed
if ($total -ne $expected -or $fromQueue -ne $expected) { throw 'The workers'' results do not add up.' }
Write-Host 'demo finished'
