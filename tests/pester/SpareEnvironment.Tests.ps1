BeforeAll {
    . $PSScriptRoot/Common.ps1

    # A spare that fits this session's environment now, idle and ready; its pid. One start first: it ends spares that no
    # longer fit (a test changed a start-up variable) and makes the next one.
    function Get-FitSpare {
        $null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
        [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'a spare is started in the background after each start'
        [IpcPs.Hosting.SpareChildren]::Pids[0]
    }

    function Test-Running([int] $ProcessId) { Test-Path "/proc/$ProcessId" }

    # What native code reads: libc's getenv, compiled in the child (not /proc/PID/environ, which is the environment
    # the process was started with). Lines NAME=VALUE, <unset> for a variable getenv does not find.
    $script:nativeProbe = {
        param([string[]] $Names)
        if (-not ('SpareEnvProbe.LibC' -as [type])) {
            Add-Type -Namespace SpareEnvProbe -Name LibC -MemberDefinition '[System.Runtime.InteropServices.DllImport("libc")] public static extern System.IntPtr getenv(string name);'
        }
        foreach ($n in $Names) {
            $p = [SpareEnvProbe.LibC]::getenv($n)
            "$n=$(if ($p -eq [IntPtr]::Zero) { '<unset>' } else { [Runtime.InteropServices.Marshal]::PtrToStringUTF8($p) })"
        }
    }

    # The files a .NET runtime with diagnostics on keeps in the temp folder while it runs (debugger pipes, the
    # diagnostics socket), for process PROCESSID. Its own exit removes them; a SIGKILL leaves them.
    function Get-RuntimeFiles([int] $ProcessId) {
        @(Get-ChildItem -Force ([IO.Path]::GetTempPath()) -ErrorAction SilentlyContinue |
            Where-Object { $_.Name -like "clr-debug-pipe-$ProcessId-*" -or $_.Name -like "dotnet-diagnostic-$ProcessId-*" } | ForEach-Object Name)
    }
}

Describe 'SpareEnvironment: a warm spare''s environment is a cold child''s' {
    BeforeAll {
        $savedSpares = $env:IPCPS_SPARES
        $env:IPCPS_SPARES = $null
    }
    AfterAll {
        $env:IPCPS_SPARES = $savedSpares
        [IpcPs.Hosting.SpareChildren]::EndAll()   # none launched under a test's environment is left for the next file
    }

    It 'gives native code (getenv) in a spare child the variables set and removed after the spare started, as in a cold child' {
        $set = New-TestName 'IPCPS_TEST_NATIVE'
        $gone = New-TestName 'IPCPS_TEST_GONE'
        Set-Item "env:$gone" 'there when the spare started'
        try {
            $spare = Get-FitSpare
            Set-Item "env:$set" 'set after the spare started'
            Remove-Item "env:$gone"
            $job = Start-IpcProcess $nativeProbe -ArgumentList (, @($set, $gone, 'IPCPS_SPARE_PARENT', 'IPCPS_SPARE_FOLDER'))
            $job.Pid | Should -Be $spare -Because 'the work goes to the waiting spare'
            $warm = $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $cold = Start-IpcProcess -NoSpare $nativeProbe -ArgumentList (, @($set, $gone, 'IPCPS_SPARE_PARENT', 'IPCPS_SPARE_FOLDER')) | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $cold | Should -Be @("$set=set after the spare started", "$gone=<unset>", 'IPCPS_SPARE_PARENT=<unset>', 'IPCPS_SPARE_FOLDER=<unset>')
            $warm | Should -Be $cold -Because 'the spare applies the changes to libc''s environment too, and drops its launch''s own variables there'
        } finally { Remove-Item "env:$set", "env:$gone" -ErrorAction SilentlyContinue }
    }

    It 'gives native code in a pool worker made from a spare the environment of the call' {
        $set = New-TestName 'IPCPS_TEST_NATIVE'
        $gone = New-TestName 'IPCPS_TEST_GONE'
        Set-Item "env:$gone" 'there when the spare started'
        $pool = $null
        try {
            $spare = Get-FitSpare
            Set-Item "env:$set" 'set after the spare started'
            Remove-Item "env:$gone"
            $pool = New-IpcPool -Size 1
            $probe = $nativeProbe.ToString()
            $out = 1 | Invoke-IpcPool -Pool $pool -ArgumentList $probe, $set, $gone { param($probe, $set, $gone) $PID; & ([scriptblock]::Create($probe)) @($set, $gone) }
            $out[0] | Should -Be $spare -Because 'the pool''s worker is the waiting spare'
            $out[1..2] | Should -Be @("$set=set after the spare started", "$gone=<unset>")
        } finally {
            if ($pool) { Remove-IpcPool $pool }
            Remove-Item "env:$set", "env:$gone" -ErrorAction SilentlyContinue
        }
    }

    It 'makes the module path as a cold child does when PSModulePath or XDG_DATA_HOME changed after the spare started' {
        $folder = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-xdg')
        $module = New-TestName 'SpareXdg'
        $null = New-Item -ItemType Directory (Join-Path $folder "powershell/Modules/$module")
        Set-Content (Join-Path $folder "powershell/Modules/$module/$module.psm1") "function Get-$module { 'found' }"
        $savedPath = $env:PSModulePath
        $savedData = $env:XDG_DATA_HOME
        # Its module path; the module imported by name where only the module path finds it; a module of $PSHOME's.
        $probe = {
            $env:PSModulePath
            try { 1 | ForEach-Object -Parallel { Import-Module IpcPs -ErrorAction Stop; 'imported by name' } } catch { "failed: $($_.Exception.Message)" }
            try { (ConvertTo-SecureString 'x' -AsPlainText -Force).GetType().Name } catch { "failed: $($_.Exception.Message)" }
        }
        try {
            $null = Get-FitSpare
            $env:PSModulePath = $folder
            $warm = Start-IpcProcess $probe | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $cold = Start-IpcProcess -NoSpare $probe | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $cold[1..2] | Should -Be @('imported by name', 'SecureString')
            $warm | Should -Be $cold -Because 'a spare launched under another PSModulePath is not used: pwsh makes its module path at start-up'

            $env:PSModulePath = $savedPath
            $null = Get-FitSpare
            $env:XDG_DATA_HOME = $folder
            $find = [scriptblock]::Create("& Get-$module")
            Start-IpcProcess $find | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be 'found' -Because 'the user''s module folder is XDG_DATA_HOME''s, as a cold child''s'
        } finally {
            $env:PSModulePath = $savedPath
            $env:XDG_DATA_HOME = $savedData
            Remove-Item -Recurse -Force $folder
        }
    }

    It 'gives a pool worker made from a spare the module path of a cold one, when PSModulePath was set before the spare started' {
        $folder = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-psmp')
        $null = New-Item -ItemType Directory $folder
        $savedPath = $env:PSModulePath
        # Its pid, its module path, and this module imported by name where only the module path finds it (the folder
        # this module's import adds; $PSHOME's and the user's are added by pwsh as it starts).
        $probe = {
            $PID
            $env:PSModulePath
            1 | ForEach-Object -Parallel { try { Import-Module IpcPs -ErrorAction Stop; 'imported by name' } catch { "failed: $($_.Exception.Message)" } }
        }
        $pools = [Collections.Generic.List[object]]::new()
        try {
            $env:PSModulePath = $folder
            $spare = Get-FitSpare   # launched under this PSModulePath: it fits
            $pools.Add((New-IpcPool -Size 1))
            $warm = 1 | Invoke-IpcPool -Pool $pools[0] $probe
            $warm[0] | Should -Be $spare -Because 'the pool''s worker is the waiting spare'
            $cold = Start-IpcProcess -NoSpare $probe | Wait-Job | Receive-Job -Wait -AutoRemoveJob
            $cold[1] | Should -BeLike "*$folder*"
            $cold[2] | Should -Be 'imported by name'
            $warm[1..2] | Should -Be $cold[1..2] -Because 'pwsh adds its folders to PSModulePath as it starts: the spare''s, not the session''s raw value'
            $env:IPCPS_SPARES = '0'
            $pools.Add((New-IpcPool -Size 1))
            $coldWorker = 1 | Invoke-IpcPool -Pool $pools[1] $probe
            $coldWorker[1..2] | Should -Be $cold[1..2] -Because 'a cold pool worker has the module path of a cold child'
        } finally {
            $env:IPCPS_SPARES = $null
            $env:PSModulePath = $savedPath
            foreach ($p in $pools) { Remove-IpcPool $p }
            Remove-Item $folder
        }
    }

    It 'resolves $using:env:NAME as Start-Job does, in Start-IpcProcess and Invoke-IpcPool' {
        $name = New-TestName 'IPCPS_TEST_USING'
        Set-Item "env:$name" 'from the parent'
        $unset = New-TestName 'IPCPS_TEST_UNSET'
        $plain = 'plain'
        try {
            $script = [scriptblock]::Create("`"[`$using:env:$name][`$(`$null -eq `$using:env:$unset)][`$using:variable:plain]`"")
            Start-IpcProcess $script | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be '[from the parent][True][plain]'
            1 | Invoke-IpcPool -ThrottleLimit 1 $script | Should -Be '[from the parent][True][plain]'
            # A variable that is not set is still refused, as Start-Job refuses it, through the variable: drive too.
            Get-ErrorId { Start-IpcProcess { $using:notSetAnywhere } } | Should -Match '^IpcInvalidArgument'
            Get-ErrorId { Start-IpcProcess { $using:variable:notSetAnywhere } } | Should -Match '^IpcInvalidArgument'
        } finally { Remove-Item "env:$name" }
    }

    It 'gives $using:env:a and $using:env:A each its own value (Linux tells them apart), in Start-IpcProcess and Invoke-IpcPool' {
        $lower = (New-TestName 'ipcps_test_case').ToLowerInvariant()
        $upper = $lower.ToUpperInvariant()
        Set-Item "env:$lower" 'lower'
        Set-Item "env:$upper" 'UPPER'
        $plain = 'plain'
        try {
            # Both spellings of a variable still name one variable, as they do in PowerShell everywhere.
            $script = [scriptblock]::Create("`"[`$using:env:$lower][`$using:env:$upper][`$using:plain][`$using:PLAIN]`"")
            $expected = '[lower][UPPER][plain][plain]'
            Start-IpcProcess $script | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be $expected
            Start-IpcProcess -NoSpare $script | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be $expected
            1 | Invoke-IpcPool -ThrottleLimit 1 $script | Should -Be $expected
            # The initialization script's $using: values and the script's share one table in the child.
            $init = [scriptblock]::Create("`$fromInit = `"[`$using:env:$upper][`$using:env:$lower]`"")
            $main = [scriptblock]::Create("`"`$fromInit[`$using:env:$lower]`"")
            Start-IpcProcess -InitializationScript $init $main | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be '[UPPER][lower][lower]'
            # With a handle among the values (the table is copied to describe it).
            $q = New-IpcQueue (New-TestName)
            try {
                $withHandle = [scriptblock]::Create("`"[`$using:env:$lower][`$using:env:$upper][`$(`$using:q.Name -eq `$using:Q.Name)]`"")
                Start-IpcProcess $withHandle | Wait-Job | Receive-Job -Wait -AutoRemoveJob | Should -Be '[lower][UPPER][True]'
            } finally { Remove-IpcObject -Name $q.Name -Confirm:$false; $q.Close() }
        } finally { Remove-Item "env:$lower", "env:$upper" }
    }
}

Describe 'SpareEnvironment: ending warm spares' {
    It 'lets spares end by themselves, booting or ready, while the session runs and when it exits: no runtime files left in the temp folder' {
        # Diagnostics on for this session and its spares (the test run turns them off): each runtime keeps three files
        # in the temp folder, removed by its own exit, left by a SIGKILL.
        $owner = @'
$deadline = [DateTime]::UtcNow.AddSeconds(120)
function Wait-For([scriptblock] $Condition, [string] $What) {
    while (-not (& $Condition)) { if ([DateTime]::UtcNow -gt $deadline) { throw "timed out waiting for $What" }; Start-Sleep -Milliseconds 10 }
}
function Test-Files([int] $Id) { [bool](Get-ChildItem -Force ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$Id-*") }
$job = Start-IpcProcess { 1 }   # no spare yet: a cold start, and a spare launched at once
Wait-For { [IpcPs.Hosting.SpareChildren]::Pids } 'the launch'
$booting = [IpcPs.Hosting.SpareChildren]::Pids[0]
Wait-For { Test-Files $booting } 'its runtime files'
"booting $booting $([IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::Zero))"
[IpcPs.Hosting.SpareChildren]::EndAll()   # ended while it boots, this session running on
Wait-For { -not (Test-Path "/proc/$booting") } 'the booting spare to end'
$null = $job | Wait-Job | Receive-Job -Wait -AutoRemoveJob
$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'no spare became ready' }
"ready $([IpcPs.Hosting.SpareChildren]::Pids[0])"
'@
        $exiting = @'
$deadline = [DateTime]::UtcNow.AddSeconds(120)
$null = Start-IpcProcess { 1 }
while (-not [IpcPs.Hosting.SpareChildren]::Pids) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no launch' }; Start-Sleep -Milliseconds 10 }
$booting = [IpcPs.Hosting.SpareChildren]::Pids[0]
while (-not (Get-ChildItem -Force ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$booting-*")) { if ([DateTime]::UtcNow -gt $deadline) { throw 'no runtime files' }; Start-Sleep -Milliseconds 10 }
"exiting $booting $([IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::Zero))"
'@   # the session exits with its spare booting (and a job's child running, ended by its stdin's end)
        $pids = [Collections.Generic.List[int]]::new()
        try {
            foreach ($script in $owner, $exiting) {
                $r = Invoke-Pwsh $script -Environment @{ DOTNET_EnableDiagnostics = '1'; IPCPS_SPARES = '1' } -TimeoutSeconds 300
                $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
                foreach ($line in $r.Lines -match '^(booting|ready|exiting) \d+') {
                    $fields = $line -split ' '
                    $pids.Add([int]$fields[1])
                    if ($fields[0] -ne 'ready') { $fields[2] | Should -Be 'False' -Because "${line}: the spare was still booting when it was ended" }
                }
            }
            $pids.Count | Should -Be 3
            foreach ($id in $pids) {
                Wait-Until { -not (Test-Running $id) } -TimeoutSeconds 120 -Because "spare $id to end by itself"
                Get-RuntimeFiles $id | Should -BeNullOrEmpty -Because "spare $id ended by itself (Environment.Exit), not by a signal"
            }
        } finally {
            foreach ($id in $pids) {
                if (Test-Running $id) { Stop-Process -Id $id -Force -ErrorAction SilentlyContinue }
                Get-RuntimeFiles $id | ForEach-Object { Remove-Item -Force (Join-Path ([IO.Path]::GetTempPath()) $_) -ErrorAction SilentlyContinue }
            }
        }
    }

    It 'starts no spare after Remove-Module, not even the replacement already scheduled, and starts them again after Import-Module' {
        $r = Invoke-Pwsh -Environment @{ IPCPS_SPARES = '1' } -TimeoutSeconds 300 @'
function Get-ChildPwsh { @(Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | Where-Object {
    $stat = Get-Content "$($_.FullName)/stat" -Raw -ErrorAction SilentlyContinue
    $stat -and ($stat.Substring($stat.LastIndexOf(')') + 2) -split ' ')[1] -eq "$PID" } | ForEach-Object Name) }
$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'no spare became ready' }
$job = Start-IpcProcess { Start-Sleep -Milliseconds 300; $PID }   # takes the spare; its replacement waits for this job's end
Remove-Module IpcPs
$child = $job | Wait-Job | Receive-Job
$job | Remove-Job
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while (Test-Path "/proc/$child") { if ([DateTime]::UtcNow -gt $deadline) { throw 'the job''s child did not end' }; Start-Sleep -Milliseconds 10 }
# The replacement was due at the job's end, or a second after the start at the latest: watch for three times that.
$until = [DateTime]::UtcNow + 3 * [IpcPs.Hosting.SpareChildren]::ReplenishDelay
$seen = @()
while ([DateTime]::UtcNow -lt $until) { $seen += @(Get-ChildPwsh) + @([IpcPs.Hosting.SpareChildren]::Pids); Start-Sleep -Milliseconds 50 }
"after removal: [$(($seen | Sort-Object -Unique) -join ',')]"
Import-Module $env:IPCPS_MODULE_PATH
$null = Start-IpcProcess { 1 } | Wait-Job | Receive-Job -Wait -AutoRemoveJob
"after import: $([IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120)))"
'@
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $r.Lines | Should -Contain 'after removal: []' -Because ($r.Lines -join "`n")
        $r.Lines | Should -Contain 'after import: True' -Because 'an import undoes the removal'
    }
}
