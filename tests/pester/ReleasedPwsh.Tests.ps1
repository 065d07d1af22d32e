# The module under PowerShell as its Linux packages ship it: an executable of its own (pwsh, not dotnet …/pwsh.dll as
# the .NET tool that runs every other test here), self-contained, with ReadyToRun code. build.ps1 -Task Test makes it
# (out/linux/pwsh-host/pwsh, from tools/WinPwsh) when this test runs; a build that could not make it fails this test,
# never skips it. Children, spares and pool workers start as [Environment]::ProcessPath: here the host itself.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:HostDir = Join-Path (Split-Path (Split-Path $env:IPCPS_MODULE_PATH)) 'linux/pwsh-host'
    # As /proc and [Environment]::ProcessPath give it: every link in the path resolved.
    $script:HostPwsh = Join-Path $HostDir 'pwsh'
    if (Test-Path $HostPwsh) { $script:HostPwsh = (& realpath $HostPwsh) }
}

Describe 'The module under a released-style pwsh (its own executable, ReadyToRun)' {
    It 'was built whole, with ReadyToRun code' {
        Test-Path "$HostDir.stamp" | Should -BeTrue -Because 'build.ps1 -Task Test publishes it and writes its stamp last (its warning says why when it could not)'
        Test-Path (Join-Path $HostDir 'Modules/Microsoft.PowerShell.Utility') | Should -BeTrue -Because 'PowerShell''s own modules are copied beside it'
        $stream = [IO.File]::OpenRead((Join-Path $HostDir 'System.Management.Automation.dll'))
        $pe = $null
        try {
            $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
            $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size | Should -BeGreaterThan 0 -Because 'PowerShell''s engine carries precompiled code, as in its packages'
        }
        finally {
            if ($pe) { $pe.Dispose() }
            $stream.Dispose()
        }
    }

    It 'starts cold children, spares and pool workers as that executable, and they end with the session' {
        $script = Join-Path $TestDrive 'released.ps1'
        Set-Content $script @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$r = [ordered]@{ Self = [Environment]::ProcessPath }
$cold = @(Start-IpcProcess -NoSpare { [Environment]::ProcessPath; $PID } | Receive-Job -Wait -AutoRemoveJob)
$r.Cold = $cold[0]; $r.ColdPid = $cold[1]
# The first start makes the session's first spare; the next start takes it once it is ready.
$null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'No spare became ready in 120 s.' }
$spares = [IpcPs.Hosting.SpareChildren]::Pids
$warm = @(Start-IpcProcess { [Environment]::ProcessPath; $PID } | Receive-Job -Wait -AutoRemoveJob)
$r.SparePath = $warm[0]; $r.SparePid = $warm[1]; $r.FromSpare = $spares -contains $warm[1]
# Left running: its workers end with the session.
$pool = New-IpcPool -Size 2
$r.Pool = (1..6 | Invoke-IpcPool -Pool $pool -Ordered { $_ * 2 }) -join ','
$r.PoolPaths = @(1..4 | Invoke-IpcPool -Pool $pool { [Environment]::ProcessPath } | Sort-Object -Unique)
$r.PoolPids = @($pool.Pids)
$r.Spares = @([IpcPs.Hosting.SpareChildren]::Pids)
'RESULT:' + ($r | ConvertTo-Json -Compress)
'@
        $run = Invoke-PwshProcess -Program $HostPwsh -Arguments @('-NoProfile', '-NonInteractive', '-File', $script, $env:IPCPS_MODULE_PATH) `
            -Environment @{ IPCPS_SPARES = '1' } -TimeoutSeconds 300
        $text = $run.Lines -join "`n"
        $run.ExitCode | Should -Be 0 -Because $text
        $result = @($run.Lines | Where-Object { $_ -like 'RESULT:*' })
        $result.Count | Should -Be 1 -Because $text
        $r = $result[0].Substring('RESULT:'.Length) | ConvertFrom-Json
        $r.Self | Should -Be $HostPwsh
        $r.Cold | Should -Be $HostPwsh
        $r.SparePath | Should -Be $HostPwsh
        $r.FromSpare | Should -BeTrue -Because 'the second start took the spare the first one made'
        $r.Pool | Should -Be '2,4,6,8,10,12'
        $r.PoolPaths | Should -Be @($HostPwsh)
        # Everything it started ends with it: its idle spares end by themselves (stdin's end, or their parent watch while
        # they boot), and a pool worker sees its parent gone.
        $pids = @($r.ColdPid, $r.SparePid) + @($r.PoolPids) + @($r.Spares)
        $pids.Count | Should -BeGreaterOrEqual 4
        Wait-Until { -not @($pids | Where-Object { Test-Path "/proc/$_" }) } -TimeoutSeconds 30 -Because "the processes the session started ($($pids -join ', ')) to end with it"
    }
}
