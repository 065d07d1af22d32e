<#
.SYNOPSIS
    PowerShell counterpart of the seed article's Event example: one process holds the other back until it sets the event.
.DESCRIPTION
    joo_b clears the event, works for two seconds, produces a number in 200..300 and sets the event; joo_a waits for
    the event and only then produces its number in 1..100. (The Python version passes the numbers through a Queue;
    here each child's output comes back through its job.)
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$ev = New-IpcEvent
$subA = Start-IpcProcess -Name joo_a -ArgumentList $ev {
    param($ev)
    'subprocess joo_a start'
    if (-not $ev.IsSet()) { [void](Wait-IpcEvent $ev) }
    Get-Random -Minimum 1 -Maximum 101
    'subprocess joo_a ended'
}
$subB = Start-IpcProcess -Name joo_b -ArgumentList $ev {
    param($ev)
    'subprocess joo_b start'
    Reset-IpcEvent $ev
    Start-Sleep -Seconds 2          # the work that holds joo_a back
    Get-Random -Minimum 200 -Maximum 301
    Set-IpcEvent $ev
    'subprocess joo_b ended'
}
$subA, $subB | Wait-IpcProcess | Out-Null
Receive-Job $subA
Receive-Job $subB
$subA, $subB | Remove-Job
$ev.Close()
