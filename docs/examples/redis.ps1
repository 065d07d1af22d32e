<#
.SYNOPSIS
    Past one machine (issue 14's worked example): a work queue consumed by workers on several hosts, and a deploy lock
    with fencing tokens, through a Redis server.
.DESCRIPTION
    The queue and the lock live in Redis, so the workers could run on any machine that reaches the server: here they
    are child processes (Start-IpcProcess), which get the handles and the server's password from this process over
    their private channel. The queue is joinable and at-least-once: a worker that died between GetDelivery and
    TaskDone would have its job delivered again after 30 s (after 3 deliveries it would go to the dead letters).
    Each worker then deploys under the lock; the fencing token grows with every holder, so a deploy target that
    remembers the highest token it has seen can refuse a late writer whose lease ran out.
.EXAMPLE
    $env:IPCPS_BACKEND = 'redis://:secret@redis.example:6379/0'; ./redis.ps1
#>
param(
    [string] $ModulePath = 'IpcPs',
    [string] $Backend = $env:IPCPS_BACKEND,
    [int] $Workers = 3,
    [int] $Jobs = 12
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
if (-not $Backend) { throw 'Give -Backend redis://[user:password@]host:port or set $env:IPCPS_BACKEND.' }

$run = [guid]::NewGuid().ToString('N').Substring(0, 8)
$work = New-IpcQueue -Backend $Backend -Name "work-$run" -Joinable -VisibilityTimeout 30 -MaxDeliveries 3
$deploy = New-IpcLock -Backend $Backend -Name "deploy-$run" -LeaseTime 10
try {
    1..$Jobs | ForEach-Object { @{ Id = $_; Path = "/srv/app/$_" } } | Send-IpcMessage $work
    $started = 1..$Workers | ForEach-Object {
        # On another machine: $q = Get-IpcObject -Backend redis://… -Name work-…; the rest is the same.
        Start-IpcProcess -ArgumentList $work, $deploy, $_ {
            param($q, $lock, $n)
            $done = 0
            while ($true) {
                $d = $q.GetDelivery($true, 60)
                if ($d.Message -eq 'stop') { $q.TaskDone($d); break }
                $done++                                   # the job itself: $d.Message.Path
                $q.TaskDone($d)
            }
            Use-IpcLock $lock { "worker $n did $done jobs, then deployed with fencing token $($lock.Token)" }
        }
    }
    Wait-IpcQueue $work -Timeout 120                      # every job of every worker done
    1..$Workers | ForEach-Object { 'stop' } | Send-IpcMessage $work
    $started | Receive-Job -Wait -AutoRemoveJob
    "all $Jobs jobs done; dead letters: $($work.DeadLetterCount)"
} finally {
    Remove-IpcObject $work, $deploy
}
