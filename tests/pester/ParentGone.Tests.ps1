# A child whose parent is gone (killed, or exited without stopping it) exits, and what it started ends with it: the
# native programs a script runs, a shell and its programs, a Start-Process without -Wait (docs/design.md, "Child
# processes": "Its end (EOF) means the parent is gone"). A -Detached child it started left its tree and runs on.
# Linux only (untagged): the tests read /proc and start sleep.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # PROGRAM (@{ Pid; Start }, as Read-Programs gives) still runs: the same process, not a later one with its pid.
    function Test-Running($Program) { (Get-StartTime $Program.Pid) -eq $Program.Start }

    # The outer job's script: a program of its own (a sibling of its child: no walk from the child may reach it) and a
    # child of its own (the one whose parent goes). That child starts a -Detached child (which starts a program of its
    # own), an IpcPs child of its own that makes a queue (it ends by itself after its parent, releasing the queue), a
    # program in the background (Start-Process) and a shell that starts one of its own and waits (child -> sh ->
    # sleep). Each names itself or its program in $dir.
    $script:Outer = {
        param($dir, $queueName)
        $sibling = Start-Process -FilePath sleep -ArgumentList 300 -PassThru
        [IO.File]::WriteAllText("$dir/sibling.tmp", "$($sibling.Id)"); Move-Item "$dir/sibling.tmp" "$dir/sibling"
        $null = Start-IpcProcess -ArgumentList $dir, $queueName {
            param($dir, $queueName)
            function Name([string] $n, [int] $id) { [IO.File]::WriteAllText("$dir/$n.tmp", "$id"); Move-Item "$dir/$n.tmp" "$dir/$n" }
            Name child $PID
            $null = Start-IpcProcess -Detached -ArgumentList $dir {
                param($dir)
                $p = Start-Process -FilePath sleep -ArgumentList 300 -PassThru
                [IO.File]::WriteAllText("$dir/detached-sleep.tmp", "$($p.Id)"); Move-Item "$dir/detached-sleep.tmp" "$dir/detached-sleep"
                [IO.File]::WriteAllText("$dir/detached.tmp", "$PID"); Move-Item "$dir/detached.tmp" "$dir/detached"
                Start-Sleep -Seconds 300
            }
            $null = Start-IpcProcess -ArgumentList $dir, $queueName {
                param($dir, $queueName)
                $q = New-IpcQueue -Name $queueName
                $q.Put('held')
                [IO.File]::WriteAllText("$dir/ipc-child.tmp", "$PID"); Move-Item "$dir/ipc-child.tmp" "$dir/ipc-child"
                Start-Sleep -Seconds 300
            }
            Name started (Start-Process -FilePath sleep -ArgumentList 300 -PassThru).Id
            & /bin/sh -c 'sleep 300 & echo $! > "$1/deep.tmp"; mv "$1/deep.tmp" "$1/deep"; echo $$ > "$1/shell.tmp"; mv "$1/shell.tmp" "$1/shell"; wait' sh $dir
        }
        Start-Sleep -Seconds 600
    }
}

Describe 'A child whose parent is gone' {
    It 'exits, the programs it started end with it, its IpcPs child exits by itself and releases its queue, and a -Detached child runs on (the parent killed with SIGKILL)' {
        $dir = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'gone'))).FullName
        $queueName = New-TestName 'goneq'
        $programs = $null
        $outer = Start-IpcProcess $Outer -ArgumentList $dir, $queueName
        try {
            $programs = @(Read-Programs $dir 'sibling', 'child', 'ipc-child', 'started', 'shell', 'deep', 'detached', 'detached-sleep' $outer)
            Test-Path "/dev/shm/$queueName" | Should -BeTrue -Because 'the IpcPs grandchild holds its queue'
            $own = @($programs | Where-Object Name -In 'child', 'ipc-child', 'started', 'shell', 'deep')
            kill -9 $outer.Pid
            Wait-Until { -not @($own | Where-Object { Test-Running $_ }) } -TimeoutSeconds 60 -Because (
                'the child and the programs it started to end once its parent is gone')
            Test-Path "/dev/shm/$queueName" | Should -BeFalse -Because 'the IpcPs grandchild exited by itself (not killed), and released the queue it alone held'
            # The child has exited, so it has done all it does: what it left is left for good.
            @($programs | Where-Object Name -In 'detached', 'detached-sleep', 'sibling' | Where-Object { -not (Test-Running $_) } | ForEach-Object Name) |
                Should -BeNullOrEmpty -Because 'a -Detached child left its starter''s tree, and the parent''s own program is not under the child'
        } finally {
            $outer | Remove-Job -Force
            Stop-Leftovers $programs
            Remove-Item -LiteralPath $dir -Recurse -Force
            if (Test-Path "/dev/shm/$queueName") { Remove-Item "/dev/shm/$queueName" -Force }
        }
    }
}
