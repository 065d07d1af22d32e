BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Waits until a warm spare is idle and ready; returns its pid.
    function Get-ReadySpare {
        # Spares are made by starts: after a test that turned them off, one start makes the next.
        if (-not [IpcPs.Hosting.SpareChildren]::Pids) { $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob }
        [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'a spare is started in the background after each start'
        $pids = [IpcPs.Hosting.SpareChildren]::Pids
        $pids.Count | Should -BeGreaterThan 0
        $pids[0]
    }

    function Test-Running([int] $ProcessId) {
        if ($IsLinux) { Test-Path "/proc/$ProcessId" } else { $null -ne (Get-Process -Id $ProcessId -ErrorAction SilentlyContinue) }
    }

    # A pwsh of its own that uses Start-IpcProcess, waits for its spare and prints the spare's pid, then waits on
    # stdin (so the test decides when it ends: by closing stdin or by killing it).
    function Start-SpareOwner {
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-Command', @"
Import-Module '$env:IPCPS_MODULE_PATH'
`$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
`$null = [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))
[Console]::Out.WriteLine(([IpcPs.Hosting.SpareChildren]::Pids -join ','))
[Console]::Out.Flush()
`$null = [Console]::In.ReadToEnd()
"@)
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($psi)
        $line = $p.StandardOutput.ReadLine()
        [pscustomobject]@{ Process = $p; Spares = @($line -split ',' | Where-Object { $_ } | ForEach-Object { [int]$_ }) }
    }
}

Describe 'Warm spare children' {
    BeforeAll {
        $savedSpares = $env:IPCPS_SPARES
        $env:IPCPS_SPARES = $null
        # The first start of the session is cold and starts the spare.
        $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
    }
    AfterAll { $env:IPCPS_SPARES = $savedSpares }

    It 'runs in a spare that sees the folder, the environment and the $using: values of the moment of each call' {
        $folderA = Join-Path ([IO.Path]::GetTempPath()) (New-TestName)
        $folderB = Join-Path ([IO.Path]::GetTempPath()) (New-TestName)
        $null = New-Item -ItemType Directory $folderA, $folderB
        $env:IPCPS_TEST_GONE = 'still here'
        Push-Location   # the session's own location comes back at the end (TestDrive goes with this file)
        try {
            $results = foreach ($round in 'A', 'B') {
                $spare = Get-ReadySpare
                # Changed after the spare started: the child must see the new values.
                Set-Location (Get-Variable "folder$round" -ValueOnly)
                $env:IPCPS_TEST_VALUE = "value $round"
                if ($round -eq 'B') { Remove-Item Env:IPCPS_TEST_GONE }
                $u = "using $round"
                $job = Start-IpcProcess { "$PID|$PWD|$([Environment]::CurrentDirectory)|$env:IPCPS_TEST_VALUE|$([string]::IsNullOrEmpty($env:IPCPS_TEST_GONE))|$using:u" }
                $job.Pid | Should -Be $spare -Because 'the work goes to the waiting spare'
                $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            }
            $results[0] | Should -Be "$($results[0].Split('|')[0])|$folderA|$folderA|value A|False|using A"
            $results[1] | Should -Be "$($results[1].Split('|')[0])|$folderB|$folderB|value B|True|using B"
        }
        finally {
            Pop-Location
            Remove-Item Env:IPCPS_TEST_VALUE, Env:IPCPS_TEST_GONE -ErrorAction SilentlyContinue
            Remove-Item -Recurse $folderA, $folderB
        }
    }

    It 'readies a spare in the folder of the last start, without moving its process there or showing it to the script' {
        $folderC = Join-Path ([IO.Path]::GetTempPath()) (New-TestName)
        $folderD = Join-Path ([IO.Path]::GetTempPath()) (New-TestName)
        $null = New-Item -ItemType Directory $folderC, $folderD
        $null = New-Item -ItemType File (Join-Path $folderC 'in-c.txt'), (Join-Path $folderD 'in-d.txt')
        $probe = { "$PWD|$([Environment]::CurrentDirectory)|$((Get-ChildItem).Name)|$env:IPCPS_SPARE_FOLDER|$([string]::IsNullOrEmpty([Environment]::GetEnvironmentVariable('IPCPS_SPARE_FOLDER')))" }
        Push-Location
        try {
            Set-Location $folderC
            $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob   # its replacement is readied in C
            $spare = Get-ReadySpare
            (Get-Item "/proc/$spare/cwd").Target | Should -Be '/' -Because 'a spare''s process stays in the root folder (a folder deleted later must not hold it up)'
            $job = Start-IpcProcess $probe
            $job.Pid | Should -Be $spare
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be "$folderC|$folderC|in-c.txt||True" -Because 'a request from the readied folder runs there, relative paths included, and the variable that named it is gone'

            # Readied in C, asked from D: it moves; and a readied folder that was deleted meanwhile does not matter.
            $spare = Get-ReadySpare
            Set-Location $folderD
            Remove-Item -Recurse $folderC
            $job = Start-IpcProcess $probe
            $job.Pid | Should -Be $spare
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be "$folderD|$folderD|in-d.txt||True"
            # The next spare is readied in D; a request with a large argument (more than a pipe holds) still arrives whole.
            $spare = Get-ReadySpare
            $job = Start-IpcProcess -ArgumentList ('x' * 1MB) { param($s) "$($s.Length)|$PWD" }
            $job.Pid | Should -Be $spare
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be "$(1MB)|$folderD"
            # A start from a folder deleted at once: the spare that replaces it boots without it, and serves the next
            # start from anywhere.
            $folderE = Join-Path ([IO.Path]::GetTempPath()) (New-TestName)
            $null = New-Item -ItemType Directory $folderE
            Set-Location $folderE
            $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            Set-Location $folderD
            Remove-Item -Recurse $folderE
            $spare = Get-ReadySpare
            $job = Start-IpcProcess $probe
            $job.Pid | Should -Be $spare
            $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be "$folderD|$folderD|in-d.txt||True"
            # The variable is ours only in a spare's launch: a user's own reaches cold and warm children alike.
            $env:IPCPS_SPARE_FOLDER = 'the user''s'
            Start-IpcProcess -NoSpare { $env:IPCPS_SPARE_FOLDER } | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'the user''s'
            $null = Get-ReadySpare
            Start-IpcProcess { $env:IPCPS_SPARE_FOLDER } | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'the user''s'
        }
        finally {
            Pop-Location
            Remove-Item Env:IPCPS_SPARE_FOLDER -ErrorAction SilentlyContinue
            Remove-Item -Recurse $folderC, $folderD -ErrorAction SilentlyContinue
        }
    }

    It 'warms a spare while it waits, leaves nothing of that to the script, and does not with IPCPS_SPARE_WARMUP=0' {
        # Its rounds put and get through a queue of its own memory: none of them failed ([SpareWarmUp]::Errors), and none
        # left a segment or a record (the queue has no name: UnnamedQueueTests).
        $probe = { "$($Error.Count)|$(Test-Path variable:o)|$(Test-Path variable:h)|$(Test-Path variable:i)|$(Test-Path variable:n)|$(Test-Path variable:s)|$([IpcPs.Hosting.SpareWarmUp]::Errors)|$([IpcPs.Hosting.SpareWarmUp]::RoundsRun)" }
        # Settled: its rounds are over (its processor time no longer grows); the script sees none of their variables.
        $null = Get-ReadySpare
        [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120)) | Should -BeTrue
        $spare = [IpcPs.Hosting.SpareChildren]::Pids[0]
        $job = Start-IpcProcess $probe
        $job.Pid | Should -Be $spare
        $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be "0|False|False|False|False|False|0|$([IpcPs.Hosting.SpareWarmUp]::Rounds)"
        # Taken as soon as it is ready, wherever its rounds are: the same, and the rounds stopped for the request.
        $spare = Get-ReadySpare
        $job = Start-IpcProcess $probe
        $job.Pid | Should -Be $spare
        $fields = ($job | Wait-Job | Receive-Job -Wait -AutoRemoveJob) -split '\|'
        $fields[0..6] -join '|' | Should -Be '0|False|False|False|False|False|0'
        [int]$fields[7] | Should -BeLessOrEqual ([IpcPs.Hosting.SpareWarmUp]::Rounds)
        # Off for the spares launched while IPCPS_SPARE_WARMUP is 0 (this start's replacement is one: the idle spare
        # is settled first, so that no launch from before is still on its way).
        [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120)) | Should -BeTrue
        $env:IPCPS_SPARE_WARMUP = '0'
        try {
            $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120)) | Should -BeTrue
            Start-IpcProcess $probe | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be '0|False|False|False|False|False|0|0'
        }
        finally { Remove-Item Env:IPCPS_SPARE_WARMUP }
    }

    It 'gives a spare the handles of the call, and its exit code, streams and stop as a cold child' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        try {
            $spare = Get-ReadySpare
            $job = Start-IpcProcess { param($queue) $queue.Put('from spare'); Write-Warning 'w'; exit 3 } -ArgumentList $q
            $job.Pid | Should -Be $spare
            $null = $job | Wait-IpcProcess -Timeout 60
            $job.State | Should -Be 'Failed'
            $job.ExitCode | Should -Be 3
            $job.Warning[0].Message | Should -Be 'w'
            $q.Get([timespan]::FromSeconds(10)) | Should -Be 'from spare'
            $job | Remove-Job

            $spare = Get-ReadySpare
            $job = Start-IpcProcess { Start-Sleep 60 }
            $job.Pid | Should -Be $spare
            Stop-IpcProcess $job
            $job.State | Should -Be 'Stopped'
            $job | Remove-Job
        } finally { Remove-IpcObject -Name $q.Name -Confirm:$false; $q.Close() }
    }

    It 'starts cold with -NoSpare or with IPCPS_SPARES=0' {
        $spare = Get-ReadySpare
        $job = Start-IpcProcess { $PID } -NoSpare
        $job.Pid | Should -Not -Be $spare
        $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be $job.Pid
        [IpcPs.Hosting.SpareChildren]::Pids | Should -Contain $spare -Because '-NoSpare leaves the spare waiting'

        $env:IPCPS_SPARES = '0'
        try {
            $job = Start-IpcProcess { $PID }
            $job.Pid | Should -Not -Be $spare
            $null = $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            [IpcPs.Hosting.SpareChildren]::Pids | Should -BeNullOrEmpty -Because 'spares are off: the idle one was ended'
            Wait-Until { -not (Test-Running $spare) } -TimeoutSeconds 30 -Because 'the ended spare to exit'
        } finally { $env:IPCPS_SPARES = $null }
    }

    It 'starts a manager in a warm spare: it serves, sees the environment of the moment, and stops cleanly' -Tag 'Windows' {
        $spare = Get-ReadySpare
        $env:IPCPS_TEST_MANAGER = 'set after the spare started'
        $m = $null
        try {
            $m = Start-IpcManager -InitializationScript { class SpareProbe { [string] Env() { return $env:IPCPS_TEST_MANAGER } [int] Twice([int] $x) { return 2 * $x } } } -Register @{ SpareProbe = 'SpareProbe' }
            $m.Pid | Should -Be $spare -Because 'the manager starts in the waiting spare'
            $d = $m.Dict(@{ a = 1 })
            $d['b'] = 2
            $d['a'] + $d['b'] | Should -Be 3
            $probe = $m.SpareProbe()
            $probe.Twice(21) | Should -Be 42
            $probe.Env() | Should -Be 'set after the spare started'
            $dir = $m.Directory
            Stop-IpcManager $m
            $m = $null
            Wait-Until { -not (Test-Running $spare) } -Because 'the manager process to end'
            Test-Path $dir | Should -BeFalse
        } finally {
            if ($m) { Stop-IpcManager $m }
            Remove-Item Env:IPCPS_TEST_MANAGER -ErrorAction SilentlyContinue
        }
    }

    It 'reports a manager that fails to start in a spare as a cold one; -NoSpare and IPCPS_SPARES=0 start managers cold' {
        $spare = Get-ReadySpare
        $err = Get-ThrownException { Start-IpcManager -Register @{ Missing = 'NoSuchTypeForSpareTest' } }
        $err.Message | Should -BeLike '*NoSuchTypeForSpareTest*not known in the manager process*'
        Wait-Until { -not (Test-Running $spare) } -Because 'the spare that failed to become a manager to end'

        $spare = Get-ReadySpare
        $m = Start-IpcManager -NoSpare
        try {
            $m.Pid | Should -Not -Be $spare
            [IpcPs.Hosting.SpareChildren]::Pids | Should -Contain $spare -Because '-NoSpare leaves the spare waiting'
        } finally { Stop-IpcManager $m }

        $env:IPCPS_SPARES = '0'
        try {
            $m = Start-IpcManager
            try { $m.Pid | Should -Not -Be $spare } finally { Stop-IpcManager $m }
            Wait-Until { -not (Test-Running $spare) } -TimeoutSeconds 30 -Because 'spares are off: the idle one was ended'
        } finally { $env:IPCPS_SPARES = $null }
    }

    It 'ends the spares of a session that exits' {
        $owner = Start-SpareOwner
        try {
            $owner.Spares.Count | Should -Be 1
            Test-Running $owner.Spares[0] | Should -BeTrue
            $owner.Process.StandardInput.Close()   # the owner's script ends: pwsh exits
            $owner.Process.WaitForExit(60000) | Should -BeTrue
            Wait-Until { -not (Test-Running $owner.Spares[0]) } -TimeoutSeconds 30 -Because 'the spare to end with its session'
        } finally { if (-not $owner.Process.HasExited) { $owner.Process.Kill() }; $owner.Process.Dispose() }
    }

    It 'ends the spares of a session that is killed (SIGKILL)' {
        $owner = Start-SpareOwner
        try {
            $owner.Spares.Count | Should -Be 1
            Test-Running $owner.Spares[0] | Should -BeTrue
            $null = & kill -KILL $owner.Process.Id
            $owner.Process.WaitForExit(60000) | Should -BeTrue
            Wait-Until { -not (Test-Running $owner.Spares[0]) } -TimeoutSeconds 30 -Because 'a spare watches its parent (stdin) and exits'
        } finally { if (-not $owner.Process.HasExited) { $owner.Process.Kill() }; $owner.Process.Dispose() }
    }
}

Describe 'A child''s job ends on its last frame' {
    BeforeAll {
        # Compiled in the child: a ProcessExit handler (it runs after the child's last frame, while its process ends)
        # that sets ARMED, then holds the process until RELEASE is set, for SECONDS at most.
        $script:holdExit = 'public static class HoldExit { public static void Arm(IpcPs.IpcEvent release, IpcPs.IpcEvent armed, double seconds) { System.AppDomain.CurrentDomain.ProcessExit += (s, a) => { armed.Set(); release.Wait(seconds); }; } }'
        function Get-ProcessState([int] $ProcessId) {
            $stat = Get-Content "/proc/$ProcessId/stat" -Raw -ErrorAction SilentlyContinue
            if ($stat) { $stat.Substring($stat.LastIndexOf(')') + 2, 1) }   # R, S, D, Z (zombie), ...
        }
    }

    It 'completes with its result while the process is still ending, and reaps the process once it ends' {
        $release = New-IpcEvent (New-TestName)
        $armed = New-IpcEvent (New-TestName)
        $name = New-TestName
        try {
            # The child also makes a queue only it holds: detached before the last frame, so gone when the job ends.
            $job = Start-IpcProcess -ArgumentList $script:holdExit, $release, $armed, $name {
                param($type, $release, $armed, $name)
                Add-Type -ReferencedAssemblies netstandard, ([IpcPs.IpcEvent].Assembly.Location) -TypeDefinition $type
                [HoldExit]::Arm($release, $armed, 60)
                $q = New-IpcQueue $name
                $q.Put(1)
                'result'
            }
            $job | Receive-Job -Wait | Should -Be 'result'
            $job.State | Should -Be 'Completed'
            $job.ExitCode | Should -Be 0
            $job.HasMoreData | Should -BeFalse
            $job.IsAlive | Should -BeFalse -Because 'its part is over once the last frame has come'
            $armed.Wait(60) | Should -BeTrue -Because 'the child''s exit handler runs after its last frame'
            Get-ProcessState $job.Pid | Should -BeIn 'R', 'S', 'D' -Because 'the process still runs its exit handler, held by the event'
            Test-Path "/dev/shm/$name" | Should -BeFalse -Because 'the child detached what it held before its last frame'
            Wait-IpcProcess $job -Timeout 5 -PassThru | Should -Be $job -Because 'Wait-IpcProcess waits for the job''s end'
            Stop-IpcProcess $job -Force
            $job.State | Should -Be 'Completed' -Because 'a job that has ended is left as it is'
            $release.Set()
            Wait-Until { -not (Test-Path "/proc/$($job.Pid)") } -Because 'the process to end and be reaped (a zombie keeps /proc/PID)'
            $job | Remove-Job
        } finally { $release.Close(); $armed.Close() }
    }

    It 'kills a child whose process hangs after its last frame once ExitGracePeriod is over' {
        $never = New-IpcEvent (New-TestName)
        $armed = New-IpcEvent (New-TestName)
        try {
            $job = Start-IpcProcess -ArgumentList $script:holdExit, $never, $armed {
                param($type, $never, $armed)
                Add-Type -ReferencedAssemblies netstandard, ([IpcPs.IpcEvent].Assembly.Location) -TypeDefinition $type
                [HoldExit]::Arm($never, $armed, 600)
                'result'
                exit 4
            }
            $job.ExitGracePeriod = [timespan]::FromSeconds(1)
            $job | Receive-Job -Wait -ErrorAction SilentlyContinue | Should -Be 'result'
            $job.State | Should -Be 'Failed'
            $job.ExitCode | Should -Be 4 -Because 'the exit code comes with the last frame'
            $armed.Wait(60) | Should -BeTrue -Because 'the child''s exit handler holds its process'
            Wait-Until { -not (Test-Path "/proc/$($job.Pid)") } -Because 'the hung process to be killed and reaped'
            $job | Remove-Job
        } finally { $never.Close(); $armed.Close() }
    }
    It 'leaves a job whose child was killed before its last frame as before: Failed, with the signal''s exit code' {
        $job = Start-IpcProcess { 'up'; Start-Sleep -Seconds 600 }
        try {
            Wait-Until { $job.Output.Count -gt 0 } -Because 'the child to start'
            $null = & kill -KILL $job.Pid
            $null = $job | Wait-IpcProcess -Timeout 30
            $job.State | Should -Be 'Failed'
            $job.ExitCode | Should -Be 137
            $job.IsAlive | Should -BeFalse
            Test-Path "/proc/$($job.Pid)" | Should -BeFalse
        } finally { $job | Remove-Job -Force }
    }
}

Describe 'A spare whose first line is not its ready frame' {
    BeforeAll {
        # A copy of the module under test whose import, in a spare only (IPCPS_SPARE_PARENT is still set then: the
        # module removes it as it loads), runs BODY first (ScriptsToProcess). Its folder, holding IpcPs/IpcPs.psd1.
        function New-SpareModuleCopy([string] $Body) {
            $root = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-copy')
            $copy = Join-Path $root 'IpcPs'
            $null = New-Item -ItemType Directory $root
            Copy-Item -Recurse (Split-Path $env:IPCPS_MODULE_PATH) $copy
            Set-Content (Join-Path $copy 'SpareBoot.ps1') "if (`$env:IPCPS_SPARE_PARENT) {`n$Body`n}"
            $manifest = Join-Path $copy 'IpcPs.psd1'
            (Get-Content $manifest -Raw) -replace '(?m)^(\s*)RootModule', "`$1ScriptsToProcess = @('SpareBoot.ps1')`n`$1RootModule" | Set-Content $manifest
            $root
        }
    }

    It 'gives a -Detached start only a spare that said it is ready, not one that printed something first and still boots' {
        # The spare prints a line, then waits for GATE: its first line is read while it boots, and it boots on only
        # once the session that took it has exited (a booting spare then ends: its parent has gone).
        $root = $null
        $root = New-SpareModuleCopy "[Console]::Out.WriteLine('booting'); [Console]::Out.Flush()
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not (Test-Path (Join-Path `$PSScriptRoot '../gate')) -and [DateTime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 20 }"
        $ran = Join-Path $root 'ran'
        $ids = @()
        try {
            $r = Invoke-PwshProcess -Environment @{ IPCPS_SPARES = '1' } -TimeoutSeconds 300 @('-NoProfile', '-NonInteractive', '-Command', @"
Import-Module '$root/IpcPs/IpcPs.psd1'
`$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob   # cold; launches the spare
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'the spare wrote nothing' }
`$spare = [IpcPs.Hosting.SpareChildren]::Pids[0]
`$job = Start-IpcProcess -Detached -ArgumentList '$ran' { param(`$ran) Set-Content `$ran `$PID }
"spare `$spare child `$(`$job.Pid)"
"@)   # and the session exits at once
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $line = @($r.Lines -match '^spare \d+ child \d+$')[0]
            $line | Should -Not -BeNullOrEmpty -Because ($r.Lines -join "`n")
            $ids = @(($line -split ' ')[1, 3] | ForEach-Object { [int]$_ })
            $null = New-Item -ItemType File (Join-Path $root 'gate')
            Wait-Until { Test-Path $ran } -TimeoutSeconds 60 -Because 'the detached child runs its script after its session has gone'
            $ids[1] | Should -Not -Be $ids[0] -Because 'the spare had not said it is ready: the detached start was cold'
        } finally {
            if ($root) {
                $null = New-Item -ItemType File (Join-Path $root 'gate') -Force
                foreach ($id in $ids) { Wait-Until { -not (Test-Running $id) } -TimeoutSeconds 60 -Because "process $id to end" }
                Remove-Item -Recurse -Force $root
            }
        }
    }

    It 'takes no spare whose output ended before its first line (it died, or can tell nobody anything): the start is cold' {
        # The spare points every descriptor of its stdout pipe at /dev/null as it boots (Console's own copy too): the
        # session reads the end of its output, while the process lives on and would run a request unheard.
        $root = $null
        $root = New-SpareModuleCopy @'
Add-Type -Namespace SpareBoot -Name LibC -MemberDefinition '[System.Runtime.InteropServices.DllImport("libc")] public static extern int open(string path, int flags); [System.Runtime.InteropServices.DllImport("libc")] public static extern int dup2(int from, int to);'
$pipe = (Get-Item /proc/self/fd/1).Target
$devNull = [SpareBoot.LibC]::open('/dev/null', 1)
foreach ($fd in Get-ChildItem /proc/self/fd) { if ($fd.Target -eq $pipe) { $null = [SpareBoot.LibC]::dup2($devNull, [int]$fd.Name) } }
'@
        $ids = @()
        try {
            $r = Invoke-PwshProcess -Environment @{ IPCPS_SPARES = '1' } -TimeoutSeconds 300 @('-NoProfile', '-NonInteractive', '-Command', @"
Import-Module '$root/IpcPs/IpcPs.psd1'
`$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob   # cold; launches the spare
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'the spare''s output did not end' }
`$spare = [IpcPs.Hosting.SpareChildren]::Pids[0]
`$job = Start-IpcProcess { 'result' }
"spare `$spare child `$(`$job.Pid) [`$(`$job | Wait-Job | Receive-Job -Wait -AutoRemoveJob)]"
"@)
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            $line = @($r.Lines -match '^spare \d+ child \d+ ')[0]
            $line | Should -Not -BeNullOrEmpty -Because ($r.Lines -join "`n")
            $ids = @(($line -split ' ')[1, 3] | ForEach-Object { [int]$_ })
            $line | Should -Be "spare $($ids[0]) child $($ids[1]) [result]" -Because 'the script''s output reaches its job'
            $ids[1] | Should -Not -Be $ids[0] -Because 'the spare could not be heard: the start was cold'
        } finally {
            if ($root) {
                foreach ($id in $ids) { Wait-Until { -not (Test-Running $id) } -TimeoutSeconds 60 -Because "process $id to end" }
                Remove-Item -Recurse -Force $root
            }
        }
    }
}
