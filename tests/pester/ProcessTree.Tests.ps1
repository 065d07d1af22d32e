# Stopping a child ends the programs it started (docs/design.md, "Child processes": "Stopping ends the child's process
# tree"). Linux only (untagged): the tests read /proc, and start /bin/sh and sleep.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # PROCS (@{ Pid; Start }) have all ended: no process has the pid, or it is a zombie, or a later one reused it.
    function Wait-Gone([object[]] $Procs, [string] $Because) {
        Wait-Until { -not @($Procs | Where-Object { (Get-StartTime $_.Pid) -eq $_.Start }) } -TimeoutSeconds 60 -Because $Because
    }

    # A child's script: a program in the background (Start-Process without -Wait), then a shell in the foreground that
    # starts a program of its own and waits for it (child -> sh -> sleep).
    $script:TreeScript = {
        param($dir)
        $p = Start-Process -FilePath sleep -ArgumentList 300 -PassThru
        [IO.File]::WriteAllText("$dir/started.tmp", "$($p.Id)")
        Move-Item -LiteralPath "$dir/started.tmp" -Destination "$dir/started"
        & /bin/sh -c 'sleep 300 & echo $! > "$1/deep.tmp"; mv "$1/deep.tmp" "$1/deep"; echo $$ > "$1/shell.tmp"; mv "$1/shell.tmp" "$1/shell"; wait' sh $dir
    }
    $script:TreeNames = 'started', 'shell', 'deep'

    # Ignores SIGTERM (a handler that cancels the runtime's default action), so only the kill after the grace ends it.
    $script:IgnoreSigTerm = 'public static class TreeIgnoreSigTerm { public static object Registration; public static void Install() { Registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => c.Cancel = true); } }'

    function New-TreeDir { (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'tree'))).FullName }

    # An unrelated program, started by the test itself: no stop may touch it.
    function Start-Bystander {
        $p = [Diagnostics.Process]::Start('sleep', '300')
        [pscustomobject]@{ Process = $p; Pid = $p.Id; Start = (Get-StartTime $p.Id) }
    }

    # After a stop: the programs of TREE have ended, and BYSTANDER runs on.
    function Assert-TreeEnded([object[]] $Tree, $Bystander) {
        Wait-Gone $Tree -Because 'the programs the child started to end with it'
        Get-StartTime $Bystander.Pid | Should -Be $Bystander.Start -Because 'a process the child did not start is left running'
    }

    # What a test made, gone: JOB, what is left of TREE, BYSTANDER, DIR.
    function Remove-TreeTest($Job, [object[]] $Tree, $Bystander, [string] $Dir) {
        $Job | Remove-Job -Force
        Stop-Leftovers $Tree
        $Bystander.Process.Kill(); $Bystander.Process.Dispose()
        Remove-Item -LiteralPath $Dir -Recurse -Force
    }
}

Describe 'Stopping a child ends its process tree' {
    It 'Stop-IpcProcess -Force ends the programs the child started (a Start-Process, a shell and its own program), and nothing else' {
        $dir = New-TreeDir
        $bystander = Start-Bystander
        $tree = $null
        $job = Start-IpcProcess $TreeScript -ArgumentList $dir
        try {
            $tree = @(Read-Programs $dir $TreeNames $job)
            Stop-IpcProcess $job -Force
            $job.State | Should -Be 'Stopped'
            Assert-TreeEnded $tree $bystander
        } finally { Remove-TreeTest $job $tree $bystander $dir }
    }

    It 'Stop-Job ends them with the child that ignores SIGTERM, killed after the grace period' {
        $dir = New-TreeDir
        $bystander = Start-Bystander
        $tree = $null
        $job = Start-IpcProcess { param($dir, $ignore, $tree) Add-Type -TypeDefinition $ignore; [TreeIgnoreSigTerm]::Install(); & ([scriptblock]::Create($tree)) $dir } -ArgumentList $dir, $IgnoreSigTerm, "$TreeScript"
        try {
            $tree = @(Read-Programs $dir $TreeNames $job)
            $job.StopGracePeriod = [TimeSpan]::FromSeconds(1)
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
            $job.ExitCode | Should -Be 137 -Because 'the child ignored SIGTERM and was killed after the grace period'
            Assert-TreeEnded $tree $bystander
        } finally { Remove-TreeTest $job $tree $bystander $dir }
    }

    It 'Stop-Job ends them when the child ends on SIGTERM within the grace period' {
        $dir = New-TreeDir
        $bystander = Start-Bystander
        $tree = $null
        $job = Start-IpcProcess $TreeScript -ArgumentList $dir
        try {
            $tree = @(Read-Programs $dir $TreeNames $job)
            $job.StopGracePeriod = [TimeSpan]::FromSeconds(60)
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
            $job.ExitCode | Should -Be 143 -Because 'the child ended on SIGTERM, not by the kill after the grace period'
            Assert-TreeEnded $tree $bystander
        } finally { Remove-TreeTest $job $tree $bystander $dir }
    }

    It 'Remove-Job -Force on a running child ends them too' {
        $dir = New-TreeDir
        $tree = $null
        $job = Start-IpcProcess $TreeScript -ArgumentList $dir
        try {
            $tree = @(Read-Programs $dir $TreeNames $job)
            $job | Remove-Job -Force
            Wait-Gone $tree -Because 'the programs the child started to end with it'
        } finally {
            Stop-Leftovers $tree
            Remove-Item -LiteralPath $dir -Recurse -Force
        }
    }

    It 'Stop-Job leaves alone what the child started to outlive it: -Detached children (cold, and from a warm spare), a program in a session of its own (setsid)' {
        $dir = New-TreeDir
        $kept = $gone = $null
        $job = Start-IpcProcess {
            param($dir)
            function Save([string] $name, [int] $id) { [IO.File]::WriteAllText("$dir/$name.tmp", "$id"); Move-Item -LiteralPath "$dir/$name.tmp" -Destination "$dir/$name" }
            Save 'detached' (Start-IpcProcess -Detached { Start-Sleep -Seconds 300 }).Pid   # the child's first start: cold, through setsid(1)
            # Then one from the spare that start launched: it leaves the tree as it reads its request.
            if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'no spare became ready' }
            $spare = @([IpcPs.Hosting.SpareChildren]::Pids)
            $warm = Start-IpcProcess -Detached { Start-Sleep -Seconds 300 }
            if ($warm.Pid -notin $spare) { throw "the detached start did not take the ready spare ($($spare -join ', '))" }
            Save 'warm' $warm.Pid
            Save 'session' (Start-Process -FilePath setsid -ArgumentList 'sleep', '300' -PassThru).Id
            Save 'started' (Start-Process -FilePath sleep -ArgumentList 300 -PassThru).Id
            Start-Sleep -Seconds 600
        } -ArgumentList $dir
        try {
            $kept = @(Read-Programs $dir 'detached', 'warm', 'session' $job)
            $gone = @(Read-Programs $dir 'started' $job)
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
            Wait-Gone $gone -Because 'a program the child started to end with it'
            foreach ($p in $kept) { Get-StartTime $p.Pid | Should -Be $p.Start -Because "the $($p.Name) process left the child's tree to outlive it" }
        } finally {
            $job | Remove-Job -Force
            Stop-Leftovers ($kept + $gone)
            Remove-Item -LiteralPath $dir -Recurse -Force
        }
    }

    It 'a pool call stopped by Ctrl+C ends the programs its busy worker started' {
        $dir = New-TreeDir
        $tree = $null
        $pool = New-IpcPool -Size 1
        $run = $null
        try {
            $run = Start-Stoppable { param($p, $d) 1 | Invoke-IpcPool -Pool $p -ArgumentList $d { param($dir) & /bin/sh -c 'sleep 300 & echo $! > "$1/deep.tmp"; mv "$1/deep.tmp" "$1/deep"; wait' sh $dir } } -Arguments $pool, $dir
            Wait-Until { Test-Path (Join-Path $dir 'deep') } -TimeoutSeconds 60 -Because 'the pool item to start its program'
            $id = [int](Get-Content -LiteralPath (Join-Path $dir 'deep'))
            $tree = @([pscustomobject]@{ Pid = $id; Start = (Get-StartTime $id) })
            $tree[0].Start | Should -Not -BeNullOrEmpty
            $run.PowerShell.Stop()
            Wait-Gone $tree -Because 'the program the busy worker started to end with it'
            (1, 2 | Invoke-IpcPool -Pool $pool { $_ } -Ordered) | Should -Be 1, 2
        } finally {
            if ($run) { $run.PowerShell.Dispose() }
            Remove-IpcPool $pool
            Stop-Leftovers $tree
            Remove-Item -LiteralPath $dir -Recurse -Force
        }
    }
}
