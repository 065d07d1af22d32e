<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing producer/consumer Queue example.
.DESCRIPTION
    A queue of at most 5 messages. producer-1 goes through ten random numbers from 1 to 100 and puts each even one
    in the queue, stopping with "queue is full" if it finds the queue full; after it has ended, consumer-1 takes
    messages while the queue is not empty. Last, the parent prints the queue's size (0).
    -Numbers replaces the random numbers (the tests pass fixed ones, so that the output is known).
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'),
    [int[]] $Numbers = (1..10 | ForEach-Object { Get-Random -Minimum 1 -Maximum 101 })
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$qu = New-IpcQueue -MaxSize 5

$p5 = Start-IpcProcess -Name producer-1 -ArgumentList $qu, $Numbers {
    param($q, [int[]] $numbers)
    foreach ($x in $numbers) {
        if ($x % 2 -eq 0) {
            if ($q.Full()) {
                'queue is full'
                break
            }
            $q.Put($x)
            "put $x in queue by producer"
        }
    }
}
$p5 | Wait-IpcProcess -PassThru | Receive-Job
$p5 | Remove-Job

$p6 = Start-IpcProcess -Name consumer-1 -ArgumentList $qu {
    param($q)
    while (-not $q.Empty()) {
        "take data $($q.Get()) from queue by consumer"
    }
}
$p6 | Wait-IpcProcess -PassThru | Receive-Job
$p6 | Remove-Job

$qu.QSize()
$qu.Close()
