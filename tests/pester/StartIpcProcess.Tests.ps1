BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Start-IpcProcess' {
    It 'passes a segment to a child, which writes into it; the parent reads after Wait-Job' -Tag 'Windows' {
        $shm = New-SharedMemory (New-TestName) 16
        try {
            $job = Start-IpcProcess { param($m) $m.Write(0, [Text.Encoding]::ASCII.GetBytes('howdy')); $m.GetType().FullName } -ArgumentList $shm
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.State | Should -Be 'Completed'
            Receive-Job $job | Should -Be 'IpcPs.SharedMemory'
            [Text.Encoding]::ASCII.GetString($shm.Read(0, 5)) | Should -Be 'howdy'
            $job | Remove-Job
        } finally { $shm.Close() }
    }

    It 'binds -ArgumentList to param(), delivers pipeline input to $input, and re-attaches handles nested in hashtables and arrays' -Tag 'Windows' {
        $a = New-SharedMemory (New-TestName) 4
        $b = New-SharedMemory (New-TestName) 4
        try {
            $job = 1, 2, 3 | Start-IpcProcess {
                param($x, $options)
                $sum = 0; foreach ($i in $input) { $sum += $i }
                $options.Segments[0][0] = 11
                $options.Segments[1][0] = 22
                "$x|$sum|$($options.Label)"
            } -ArgumentList 'first', @{ Label = 'L'; Segments = @($a, $b) }
            $job | Wait-IpcProcess -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be 'first|6|L'
            $a[0] | Should -Be 11
            $b[0] | Should -Be 22
            $job | Remove-Job
        } finally { $a.Close(); $b.Close() }
    }

    It 'returns a job with Pid, IsAlive and ExitCode, listed by Get-Job' {
        $job = Start-IpcProcess { $PID; exit 3 }
        $job | Wait-IpcProcess -Timeout 60 -PassThru | Should -Be $job
        $job.IsAlive | Should -BeFalse
        $job.ExitCode | Should -Be 3
        $job.State | Should -Be 'Failed'
        (Receive-Job $job -ErrorAction SilentlyContinue) | Should -Be $job.Pid
        (Get-Job -Id $job.Id).PSJobTypeName | Should -Be 'IpcProcessJob'
        $job | Remove-Job
    }

    It 'brings back output, error, warning, verbose and information records, each in order' {
        $job = Start-IpcProcess {
            $VerbosePreference = 'Continue'
            1; Write-Warning 'w1'; Write-Error 'e1'; 2; Write-Verbose 'v1'; Write-Information 'i1'; Write-Warning 'w2'; Write-Host 'h1'; 3
        }
        $job | Wait-IpcProcess -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        $job.Output | Should -Be @(1, 2, 3)
        $job.Warning.Message | Should -Be @('w1', 'w2')
        $job.Verbose.Message | Should -Be @('v1')
        @($job.Information.MessageData | ForEach-Object { "$_" }) | Should -Be @('i1', 'h1')
        $job.Error.Count | Should -Be 1
        $job.Error[0].ToString() | Should -BeLike '*e1*'
        $job | Remove-Job
    }

    It 'fails the job with the child''s terminating error' {
        $job = Start-IpcProcess { 'before'; throw 'boom in child' ; 'after' }
        $job | Wait-IpcProcess -Timeout 60 | Out-Null
        $job.State | Should -Be 'Failed'
        $job.JobStateInfo.Reason.Message | Should -Be 'boom in child'
        $job.Output | Should -Be @('before')
        { Receive-Job $job -ErrorAction Stop } | Should -Throw '*boom in child*'
        $job | Remove-Job
    }

    It 'fails the job with a clear reason when the child is killed with SIGKILL' {
        $job = Start-IpcProcess { 'up'; Start-Sleep -Seconds 600 }
        try {
            Wait-Until { $job.Output.Count -gt 0 } -Because 'the child to start'
            kill -9 $job.Pid
            $job | Wait-IpcProcess -Timeout 30 | Out-Null
            $job.State | Should -Be 'Failed'
            $job.JobStateInfo.Reason.Message | Should -BeLike '*signal 9 (SIGKILL)*'
        } finally { $job | Remove-Job -Force }
    }

    It 'Stop-IpcProcess -Force kills at once; Stop-Job stops politely' -Tag 'Windows' {
        $a = Start-IpcProcess { 'up'; Start-Sleep -Seconds 600 }
        $b = Start-IpcProcess { 'up'; Start-Sleep -Seconds 600 }
        try {
            Wait-Until { $a.Output.Count -gt 0 -and $b.Output.Count -gt 0 } -Because 'both children to start'
            Stop-IpcProcess $a -Force
            $a.State | Should -Be 'Stopped'
            $a.IsAlive | Should -BeFalse
            Stop-Job $b
            $b.State | Should -Be 'Stopped'
            $b.IsAlive | Should -BeFalse
        } finally { $a, $b | Remove-Job -Force }
    }

    It 'kills a child that ignores the polite stop once the grace period is over' {
        $job = Start-IpcProcess {
            # Ignore SIGTERM: a handler that cancels the runtime's default shutdown.
            Add-Type -TypeDefinition 'public static class IgnoreSigTerm { public static object Registration; public static void Install() { Registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => c.Cancel = true); } }'
            [IgnoreSigTerm]::Install()
            'up'; Start-Sleep -Seconds 600
        }
        try {
            Wait-Until { $job.Output.Count -gt 0 } -Because 'the child to start'
            $watch = [Diagnostics.Stopwatch]::StartNew()
            Stop-IpcProcess $job -GracePeriod 1
            $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
            $job.IsAlive | Should -BeFalse
            $job.ExitCode | Should -Be 137
            $job.State | Should -Be 'Stopped'
        } finally { $job | Remove-Job -Force }
    }

    It 'Wait-IpcProcess -Timeout outputs nothing and writes an IpcTimeout error for a child still running' {
        $job = Start-IpcProcess { Start-Sleep -Seconds 600 }
        try {
            Wait-IpcProcess $job -Timeout 0.2 -PassThru -ErrorVariable late -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $late.FullyQualifiedErrorId | Should -Match '^IpcTimeout'
            $job.IsAlive | Should -BeTrue
        } finally { Stop-IpcProcess $job -Force; $job | Remove-Job -Force }
    }

    It 'Ctrl+C during the grace period of Stop-IpcProcess kills the child at once rather than waiting it out' {
        $job = Start-IpcProcess {
            Add-Type -TypeDefinition 'public static class IgnoreSigTerm2 { public static object Registration; public static void Install() { Registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => c.Cancel = true); } }'
            [IgnoreSigTerm2]::Install()
            'up'; Start-Sleep -Seconds 600
        }
        $run = $null
        try {
            Wait-Until { $job.Output.Count -gt 0 } -Because 'the child to start'
            $run = Start-Stoppable { param($j) Stop-IpcProcess $j -GracePeriod ([System.Threading.Timeout]::InfiniteTimeSpan) } -Arguments $job
            Wait-Until { $job.State -eq 'Stopping' } -Because 'the polite stop to be sent'
            # Without the escalation, the stop waits out its (infinite) grace period: the 120 s guard only ends a hang.
            $stopping = $run.PowerShell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(120)) | Should -BeTrue -Because 'Ctrl+C to end the stop by killing the child'
            $run.PowerShell.EndStop($stopping)
            $job.IsAlive | Should -BeFalse
            $job.ExitCode | Should -Be 137
            $job.State | Should -Be 'Stopped'
        } finally {
            if ($run) { $run.PowerShell.Dispose() }
            Stop-IpcProcess $job -Force; $job | Remove-Job -Force
        }
    }

    It 'stops a blocked Wait-IpcProcess promptly (Ctrl+C)' -Tag 'Windows' {
        $job = Start-IpcProcess { Start-Sleep -Seconds 600 }
        $run = Start-Stoppable { param($j) Wait-IpcProcess $j } -Arguments $job
        try {
            Wait-Until { $run.PowerShell.InvocationStateInfo.State -eq 'Running' } -Because 'the wait to start'
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $run.PowerShell.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally {
            $run.PowerShell.Dispose()
            Stop-IpcProcess $job -Force; $job | Remove-Job -Force
        }
    }

    It 'runs in -WorkingDirectory and refuses one that does not exist; the spare readied there does not hold the folder' -Tag 'Windows' {
        $dir = New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'wd'))
        try {
            $job = Start-IpcProcess { (Get-Location).Path } -WorkingDirectory $dir.FullName
            $job | Wait-IpcProcess -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be $dir.FullName
            $child = Get-Process -Id $job.Pid -ErrorAction SilentlyContinue   # held: a wait by pid could meet a reused one
            $job | Remove-Job
            Get-ErrorId { Start-IpcProcess { 1 } -WorkingDirectory (Join-Path $dir.FullName 'missing') } | Should -BeLike 'IpcPathNotFound*'
            # The spare that replaced the one taken has its runspace readied in that folder, not its process: on
            # Windows a process's current folder cannot be deleted (it could not, before the spare went back to its own).
            [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue
            # The job's child ran there, and its job completes on its last frame while its process may still be ending:
            # it must be gone first (a full run's Wine leg once found the folder in use after the replacement was ready).
            if ($child) { $child.WaitForExit(60000) | Should -BeTrue -Because 'the job''s child exits' }
            # Wine signals a process's exit before it closes its handles, its current folder's among them: a cmd.exe run
            # in a folder still held it 9-57 ms after WaitForExit in 138 of 150 runs (Windows closes them first). So the
            # folder may be busy for a moment after the child's exit, and must then come free: a spare that held it
            # would hold it for as long as it idles.
            Wait-Until -TimeoutSeconds 10 -Because 'the folder to come free after the child''s exit' {
                try { Remove-Item -Recurse $dir -ErrorAction Stop; $true }
                catch { if ($_.Exception -is [IO.IOException]) { $false } else { throw } }
            }
        } finally { if (Test-Path $dir.FullName) { Remove-Item -Recurse $dir -ErrorAction Continue } }
        Test-Path $dir.FullName | Should -BeFalse
    }

    It 'gives the script and the programs it starts end-of-input on standard input, as Start-Job does (the parent''s pipe is the module''s alone)' -Tag 'Windows' {
        # Standard input of a child is the parent's pipe, open for the child's whole life: a script or a program reading it
        # (sort, git asking for a password, [Console]::In) waited for ever. Both starts: cold (-NoSpare) and a warm spare.
        $read = {
            "line:[$([Console]::In.ReadLine())]"
            "rest:[$([Console]::In.ReadToEnd())]"
            if (-not $IsWindows) { "cat:[$(& cat)]"; "head:[$(& head -c 1)]" }
            'up'
            Start-Sleep -Seconds 600
        }
        foreach ($job in (Start-IpcProcess -NoSpare $read), (Start-IpcProcess $read)) {
            try {
                Wait-Until -TimeoutSeconds 120 { $job.Output -contains 'up' -or $job.State -ne 'Running' } -Because 'the child to read its standard input to its end'
                $lines = @($job.Output)
                $lines | Should -Contain 'line:[]'
                $lines | Should -Contain 'rest:[]'
                if (-not $IsWindows) { $lines | Should -Contain 'cat:[]'; $lines | Should -Contain 'head:[]' }
                # The parent's pipe still carries what it carries (on Windows the stop request): Stop-Job stops politely.
                Stop-Job $job
                $job.State | Should -Be 'Stopped'
                $job.IsAlive | Should -BeFalse
            } finally { $job | Remove-Job -Force }
        }
        # A pool worker's item too.
        1 | Invoke-IpcPool { "[$([Console]::In.ReadLine())]" } | Should -Be '[]'
    }

    It 'refuses to pass a handle whose object was removed' {
        $shm = New-SharedMemory (New-TestName) 8
        Remove-IpcObject -Name $shm.Name
        try { Get-ErrorId { Start-IpcProcess { param($m) $m } -ArgumentList $shm } | Should -BeLike 'IpcObjectNotFound*' }
        finally { $shm.Close() }
    }

    It 'ends the child when its parent process dies' {
        $parent = Start-IpcProcess {
            $child = Start-IpcProcess { Start-Sleep -Seconds 600 }
            $child.Pid
            Start-Sleep -Seconds 600
        }
        try {
            Wait-Until { $parent.Output.Count -gt 0 } -Because 'the grandchild to start'
            $grandchild = [int]$parent.Output[0]
            Stop-IpcProcess $parent -Force
            Wait-Until { -not (Get-Process -Id $grandchild -ErrorAction SilentlyContinue) } -Because 'the orphaned child to exit'
        } finally { $parent | Remove-Job -Force }
    }
}

Describe 'Handles through other PowerShell jobs' {
    It 'rehydrates a handle passed to Start-Job' {
        $shm = New-SharedMemory (New-TestName) 8
        try {
            # The module must be loaded before the arguments are deserialized: -InitializationScript does that.
            $init = [scriptblock]::Create("Import-Module '$env:IPCPS_MODULE_PATH'")
            # Start-Job ends its process with a kill, which runs no exit handler: the job closes what it opened.
            $job = Start-Job -InitializationScript $init -ScriptBlock { param($m) $m.GetType().FullName; $m[1] = 77; $m.Close() } -ArgumentList $shm
            $job | Wait-Job -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be 'IpcPs.SharedMemory'
            $shm[1] | Should -Be 77
            $job | Remove-Job
        } finally { $shm.Close() }
    }

    It 'rehydrates a handle through a typed parameter when the module loads in the job itself' {
        $shm = New-SharedMemory (New-TestName) 8
        try {
            $job = Start-Job -ScriptBlock { param($module, $raw) Import-Module $module; & { param([IpcPs.SharedMemory] $m) $m[2] = 78; $m.Close() } $raw } -ArgumentList $env:IPCPS_MODULE_PATH, $shm
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.State | Should -Be 'Completed'
            $shm[2] | Should -Be 78
            $job | Remove-Job
        } finally { $shm.Close() }
    }

    It 'passes a handle to ForEach-Object -Parallel with $using:' {
        $shm = New-SharedMemory (New-TestName) 8
        try {
            0..3 | ForEach-Object -Parallel { ($using:shm)[$_] = $_ + 10 } -ThrottleLimit 2
            $shm.Read(0, 4) | Should -Be @(10, 11, 12, 13)
        } finally { $shm.Close() }
    }
}

Describe 'Polite stop' {
    It 'detaches what a child holds when it is stopped politely (Linux: SIGTERM; Windows: a stop request on its channel), so nothing is left orphaned' -Tag 'Windows' {
        $name = New-TestName
        $job = Start-IpcProcess { param($n) $s = New-SharedMemory $n 8; 'ready'; Start-Sleep -Seconds 600 } -ArgumentList $name
        try {
            Wait-Until { $job.Output.Count -gt 0 -or -not $job.IsAlive } -Because 'the child to create the segment'
            @(Get-IpcObject | Where-Object Name -EQ $name).Count | Should -Be 1
            $watch = [Diagnostics.Stopwatch]::StartNew()
            Stop-IpcProcess $job -GracePeriod 30
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 20 -Because 'the child stops on the request, not by a kill after the grace period'
            $job.State | Should -Be 'Stopped'
            $job.ExitCode | Should -Be 143 -Because 'a polite stop ends a child with 128 + SIGTERM on both platforms'
            @(Get-IpcObject | Where-Object Name -EQ $name).Count | Should -Be 0 -Because 'the child detached on the stop and was the last holder'
            { Get-IpcObject -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'IpcObjectNotFound,IpcPs.Commands.GetIpcObjectCommand'
        } finally { $job | Remove-Job -Force }
    }

    It 'shows Write-Host output of the child through Receive-Job, with its PSHOST tag' {
        $job = Start-IpcProcess { Write-Host 'shown' }
        $job | Wait-IpcProcess -Timeout 60 | Out-Null
        $job.Information[0].Tags | Should -Contain 'PSHOST'
        (Receive-Job $job 6>&1 | ForEach-Object { "$_" }) | Should -Contain 'shown'
        $job | Remove-Job
    }
}

Describe 'Start-IpcProcess as a full job' {
    It 'brings every stream back while the child runs, each in order within its stream' -Tag 'Windows' {
        $go = New-IpcEvent
        $job = Start-IpcProcess -ArgumentList $go {
            param($go)
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            foreach ($n in 1, 2) {
                "o$n"
                Write-Error "e$n"
                Write-Warning "w$n"
                Write-Verbose "v$n"
                Write-Debug "d$n"
                Write-Information "i$n"
                Write-Progress -Activity "p$n" -PercentComplete (50 * $n)
            }
            $null = $go.Wait(60)
            'last'
        }
        try {
            Wait-Until {
                $job.Output.Count -ge 2 -and $job.Error.Count -ge 2 -and $job.Warning.Count -ge 2 -and $job.Verbose.Count -ge 2 -and
                $job.Debug.Count -ge 2 -and $job.Information.Count -ge 2 -and $job.Progress.Count -ge 2
            } -Because 'every stream to arrive'
            $job.State | Should -Be 'Running' -Because 'the records arrive as they are written, not when the child ends'
            Wait-Job $job -Timeout 1 | Should -BeNullOrEmpty
            (Get-Job -Id $job.Id) | Should -Be $job
            @($job.Output) | Should -Be @('o1', 'o2')
            @($job.Error | ForEach-Object { $_.Exception.Message }) | Should -Be @('e1', 'e2')
            @($job.Warning.Message) | Should -Be @('w1', 'w2')
            @($job.Verbose.Message) | Should -Be @('v1', 'v2')
            @($job.Debug.Message) | Should -Be @('d1', 'd2')
            @($job.Information | ForEach-Object { "$($_.MessageData)" }) | Should -Be @('i1', 'i2')
            @($job.Progress.Activity) | Should -Be @('p1', 'p2')
            @($job.Progress.PercentComplete) | Should -Be @(50, 100)
            $go.Set()
            $out = Receive-Job $job -Wait -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -ProgressAction SilentlyContinue
            $out | Should -Be @('o1', 'o2', 'last')
            $job.State | Should -Be 'Completed'
            $job.ExitCode | Should -Be 0
        } finally { $job | Remove-Job -Force; $go.Close() }
    }

    It 'supports $using:, -InitializationScript and -Name as Start-Job does' {
        $factor = 3
        $settings = @{ Offset = 100 }
        $name = New-TestName 'job'
        $job = Start-IpcProcess -Name $name -InitializationScript { function Scale($x) { $x * $using:factor } } -ScriptBlock {
            foreach ($i in 1..3) { (Scale $i) + $using:settings.Offset }
            ${using:factor}
        }
        try {
            (Get-Job -Name $name) | Should -Be $job
            $job | Wait-Job -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be @(103, 106, 109, 3)
            $job.State | Should -Be 'Completed'
        } finally { $job | Remove-Job -Force }
    }

    It 'expands $using: inside strings, nested script blocks, and names that prefix others' {
        $a = 'A'; $ab = 'AB'; $x = 'hello'
        $job = Start-IpcProcess { "s=$using:x"; "t=${using:x}!"; "u=$using:a$using:ab"; $using:a + $using:ab; & { $using:x } }
        try {
            $job | Wait-Job -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be @('s=hello', 't=hello!', 'u=AAB', 'AAB', 'hello')
            $job.State | Should -Be 'Completed'
        } finally { $job | Remove-Job -Force }
    }

    It 'leaves $using: in a block the child gives to ForEach-Object -Parallel or another job to that command, as Start-Job does' {
        $x = 'parent'
        $job = Start-IpcProcess {
            $x = 'child'
            $using:x
            1 | ForEach-Object -Parallel { "parallel=$using:x" }
            1 | % -pa:{ "abbreviated=$using:x" }
            Start-ThreadJob { "threadjob=$using:x" } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            1 | ForEach-Object { "foreach=$using:x" }
            Invoke-Command { "local icm=$using:x" }      # run here, not remotely: the block is the child's own
        }
        try {
            $job | Wait-Job -Timeout 60 | Out-Null
            Receive-Job $job | Should -Be @('parent', 'parallel=child', 'abbreviated=child', 'threadjob=child', 'foreach=parent', 'local icm=parent')
            $job.State | Should -Be 'Completed'
        } finally { $job | Remove-Job -Force }
    }

    It 'reports a $using: variable that is not set, and fails the job when the initialization script throws' {
        Get-ErrorId { Start-IpcProcess { $using:notSetAnywhere } } | Should -Match '^IpcInvalidArgument'
        $job = Start-IpcProcess -InitializationScript { throw 'init broke' } -ScriptBlock { 'never' }
        try {
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.State | Should -Be 'Failed'
            $job.JobStateInfo.Reason.Message | Should -Be 'init broke'
            $job.Output | Should -BeNullOrEmpty
        } finally { $job | Remove-Job -Force }
    }

    It 'Receive-Job -Wait -AutoRemoveJob gets the output and removes the job' {
        # Disposing the job from inside its own state change must not wait for that state change to end.
        $out = Start-IpcProcess -Name (New-TestName 'auto') { 'done' } | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
        $out | Should -Be 'done'
        Get-Job | Where-Object PSJobTypeName -eq 'IpcProcessJob' | Where-Object Name -like 'auto_*' | Should -BeNullOrEmpty
    }

    It 'Receive-Job -Wait -AutoRemoveJob removes once a job that ends while Receive-Job writes the output it already had' {
        # PowerShell's race, made certain: the job has output before Receive-Job takes it, and it ends while that output
        # is being written down the pipeline (the next command waits for the end). Receive-Job then removes it on the
        # pipeline thread and again from its state-change handler; the second removal said the job did not exist.
        $go = New-IpcEvent
        try {
            $job = Start-IpcProcess -Name (New-TestName 'race') -ArgumentList $go { param($go) 'first'; $null = $go.Wait(60) }
            Wait-Until { $job.Output.Count -ge 1 } -Because 'the child''s first output'
            $errors = $null
            $out = $job | Receive-Job -Wait -AutoRemoveJob -ErrorVariable errors -ErrorAction SilentlyContinue | ForEach-Object {
                if ($_ -eq 'first') {
                    $go.Set()
                    Wait-Until { $job.State -eq 'Completed' } -Because 'the job to end while Receive-Job writes its output'
                }
                $_
            }
            $out | Should -Be 'first'
            @($errors).Count | Should -Be 0 -Because ($errors | Out-String)
            Get-Job -InstanceId $job.InstanceId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'it was removed'
            @(Get-Job | Where-Object Name -eq $job.Name).Count | Should -Be 0
        } finally { Remove-IpcObject $go }
    }

    It 'a job removed while its final state change is raised leaves the job table once that change has returned' {
        # Another handler of the final state change holds the raise open; Receive-Job, which then sees the job finished
        # (so subscribes to nothing), removes it once. Put back for a second removal that does not come, the job must
        # leave the table when the raise returns.
        if (-not ('HoldRaise' -as [type])) {
            Add-Type -TypeDefinition @"
using System; using System.Management.Automation; using System.Threading;
public static class HoldRaise {
    public static readonly ManualResetEventSlim Entered = new ManualResetEventSlim(false);
    public static readonly ManualResetEventSlim Release = new ManualResetEventSlim(false);
    public static void Handler(object sender, JobStateEventArgs e) {
        if (e.JobStateInfo.State != JobState.Completed) return;
        Entered.Set();
        Release.Wait(TimeSpan.FromSeconds(60));
    }
}
"@
        }
        [HoldRaise]::Entered.Reset(); [HoldRaise]::Release.Reset()
        $go = New-IpcEvent
        $handler = [EventHandler[System.Management.Automation.JobStateEventArgs]] [HoldRaise]::Handler
        try {
            $job = Start-IpcProcess -Name (New-TestName 'raise') -ArgumentList $go { param($go) $null = $go.Wait(60); 'x' }
            $job.add_StateChanged($handler)
            $go.Set()
            [HoldRaise]::Entered.Wait([timespan]::FromSeconds(60)) | Should -BeTrue -Because 'the job ends and raises its final state'
            $job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop | Should -Be 'x'
            [HoldRaise]::Release.Set()
            $job.WaitForExit([timespan]::FromSeconds(30), [Threading.CancellationToken]::None) | Should -BeTrue
            @(Get-Job | Where-Object InstanceId -eq $job.InstanceId).Count | Should -Be 0 -Because 'nothing removed it a second time'
        } finally {
            [HoldRaise]::Release.Set()
            Remove-IpcObject $go
        }
    }

    It 'takes the exit code from exit n, also inside a function' {
        $job = Start-IpcProcess { function Leave { exit 7 }; 'a'; Leave; 'b' }
        try {
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.ExitCode | Should -Be 7
            $job.State | Should -Be 'Failed'
            $job.Output | Should -Be @('a')
        } finally { $job | Remove-Job -Force }
    }

    It 'Stop-Job kills a child that ignores the polite stop once the job''s grace period is over' {
        $job = Start-IpcProcess {
            Add-Type -TypeDefinition 'public static class IgnoreSigTerm2 { public static object Registration; public static void Install() { Registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => c.Cancel = true); } }'
            [IgnoreSigTerm2]::Install()
            'up'; Start-Sleep -Seconds 600
        }
        try {
            $job.StopGracePeriod = [timespan]::FromSeconds(1)
            Wait-Until { $job.Output.Count -gt 0 } -Because 'the child to start ignoring SIGTERM'
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
            $job.ExitCode | Should -Be 137 -Because 'SIGTERM was ignored, so SIGKILL ended it'
            Get-Process -Id $job.Pid -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        } finally { $job | Remove-Job -Force }
    }

    It 'a -Detached child outlives its parent (a plain one ends with it: "ends the child when its parent process dies")' {
        $orphaned = New-IpcEvent
        $parent = Start-IpcProcess -ArgumentList $orphaned {
            param($orphaned)
            $child = Start-IpcProcess -Detached -ArgumentList $orphaned, $PID {
                param($orphaned, $parentPid)
                while (Get-Process -Id $parentPid -ErrorAction SilentlyContinue) { Start-Sleep -Milliseconds 50 }
                'parent gone'   # nobody reads this: dropped, not fatal
                $orphaned.Set()
                Start-Sleep -Seconds 600
            }
            $child.Pid
            Start-Sleep -Seconds 600
        }
        $grandchild = $null
        try {
            Wait-Until { $parent.Output.Count -gt 0 } -Because 'the detached grandchild to start'
            $grandchild = [int]$parent.Output[0]
            Stop-IpcProcess $parent -Force
            $orphaned.Wait(60) | Should -BeTrue -Because 'the detached child runs on after its parent died'
            Get-Process -Id $grandchild -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty
        } finally {
            if ($grandchild) {
                Stop-Process -Id $grandchild -ErrorAction SilentlyContinue
                Wait-Until { -not (Get-Process -Id $grandchild -ErrorAction SilentlyContinue) } -Because 'the grandchild to end'
            }
            $parent | Remove-Job -Force
            $orphaned.Close()
        }
    }
}
