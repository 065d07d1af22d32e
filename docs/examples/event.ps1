<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Event example: one process holds the other back until it sets the
    event, and both hand their numbers to the parent through a queue.
.DESCRIPTION
    joo_b clears the event, works for two seconds, puts a number in 200..300 in the queue and sets the event; joo_a
    waits for the event and only then puts its number in 1..100. The parent waits for both and then drains the
    queue: joo_b's number always comes first.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$qu = New-IpcQueue
$ev = New-IpcEvent
$subA = Start-IpcProcess -Name joo_a -ArgumentList $qu, $ev {
    param($q, $ev)
    'subprocess joo_a start'
    if (-not $ev.IsSet()) { [void](Wait-IpcEvent $ev) }
    $q.Put((Get-Random -Minimum 1 -Maximum 101))
    'subprocess joo_a ended'
}
$subB = Start-IpcProcess -Name joo_b -ArgumentList $qu, $ev {
    param($q, $ev)
    'subprocess joo_b start'
    Reset-IpcEvent $ev
    Start-Sleep -Seconds 2          # the work that holds joo_a back
    $q.Put((Get-Random -Minimum 200 -Maximum 301))
    Set-IpcEvent $ev
    'subprocess joo_b ended'
}
$subA, $subB | Wait-IpcProcess -PassThru | Out-Null
Receive-Job $subA
Receive-Job $subB
$subA, $subB | Remove-Job
while (-not $qu.Empty()) {
    $qu.Get()
}
$qu.Close()
$ev.Close()
