BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Waits until a warm spare is idle and ready; returns its pid.
    function Get-ReadySpare {
        [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'a spare is started in the background after each start'
        $pids = [IpcPs.Hosting.SpareChildren]::Pids
        $pids.Count | Should -BeGreaterThan 0
        $pids[0]
    }

    function Test-Running([int] $ProcessId) { Test-Path "/proc/$ProcessId" }

    # A pwsh of its own that uses Start-IpcProcess, waits for its spare and prints the spare's pid, then waits on
    # stdin (so the test decides when it ends: by closing stdin or by killing it).
    function Start-SpareOwner {
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-Command', @"
Import-Module '$env:IPCPS_MODULE_PATH'
`$null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob
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
        $null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob
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
                $job | Receive-Job -Wait -AutoRemoveJob
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

    It 'gives a spare the handles of the call, and its exit code, streams and stop as a cold child' {
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
        $job | Receive-Job -Wait -AutoRemoveJob | Should -Be $job.Pid
        [IpcPs.Hosting.SpareChildren]::Pids | Should -Contain $spare -Because '-NoSpare leaves the spare waiting'

        $env:IPCPS_SPARES = '0'
        try {
            $job = Start-IpcProcess { $PID }
            $job.Pid | Should -Not -Be $spare
            $null = $job | Receive-Job -Wait -AutoRemoveJob
            [IpcPs.Hosting.SpareChildren]::Pids | Should -BeNullOrEmpty -Because 'spares are off: the idle one was ended'
            Wait-Until { -not (Test-Running $spare) } -TimeoutSeconds 30 -Because 'the ended spare to exit'
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
