<#
.SYNOPSIS
    A short tour of IpcPs: child pwsh processes working on one block of shared memory.
.DESCRIPTION
    The parent creates a segment, starts three child processes and hands each the segment. Every child computes the
    sum of squares of its share of 1..300000 and writes the result into its own 8-byte slot. The parent waits for
    the children, reads the slots and checks the total. Nothing is copied between processes: they share the bytes.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$workers = 3
$n = 300000
$shm = New-SharedMemory -Size (8 * $workers)
Write-Host "Created $shm"
Get-IpcObject -Name $shm.Name | Format-Table | Out-Host

$jobs = foreach ($w in 0..($workers - 1)) {
    Start-IpcProcess -Name "worker-$w" -ArgumentList $shm, $w, $workers, $n {
        param($memory, $index, $count, $n)
        [long] $sum = 0
        for ($i = $index + 1; $i -le $n; $i += $count) { $sum += [long]$i * $i }
        $memory.Write(8 * $index, [BitConverter]::GetBytes($sum))
        "worker $index (pid $PID) wrote $sum"
    }
}
$jobs | Wait-IpcProcess | Receive-Job | Out-Host

$total = 0L
foreach ($w in 0..($workers - 1)) { $total += [BitConverter]::ToInt64($shm.Read(8 * $w, 8), 0) }
$expected = [long]$n * ($n + 1) * (2 * $n + 1) / 6
Write-Host "Sum of squares 1..$n from shared memory: $total (expected $expected)"
$jobs | Remove-Job
$shm.Close()   # the last holder closes: the segment is destroyed
if ($total -ne $expected) { throw 'The workers'' results do not add up.' }
Write-Host 'demo finished'
