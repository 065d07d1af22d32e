# The module under PowerShell as its Linux packages ship it: an executable of its own (pwsh, not dotnet …/pwsh.dll as
# the .NET tool that runs every other test here) with ReadyToRun code. build.ps1 -Task Test makes it
# (out/linux/pwsh-host/pwsh, from tools/WinPwsh); a build that could not make it fails this test, never skips it.
# Children, spares and pool workers start as [Environment]::ProcessPath: here the host itself, with no pwsh.dll.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:HostPwsh = Join-Path (Split-Path (Split-Path $env:IPCPS_MODULE_PATH)) 'linux/pwsh-host/pwsh'

    # The processes whose program is the host now (children of any session run under it).
    function Get-HostProcessIds {
        @(Get-ChildItem /proc -Directory -ErrorAction Ignore | Where-Object Name -Match '^\d+$' | Where-Object {
                try { [IO.File]::ResolveLinkTarget("/proc/$($_.Name)/exe", $false).FullName -eq $script:HostPwsh } catch { $false }
            } | ForEach-Object { [int]$_.Name })
    }
}

Describe 'The module under a released-style pwsh (its own executable, ReadyToRun)' {
    It 'was built' {
        Test-Path $script:HostPwsh | Should -BeTrue -Because 'build.ps1 -Task Test publishes it (see its warning when it could not)'
    }

    It 'starts cold children, spares and pool workers as that executable, and ends them with the session' {
        $script = Join-Path $TestDrive 'released.ps1'
        Set-Content $script @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$r = [ordered]@{ Self = [Environment]::ProcessPath }
$r.Cold = Start-IpcProcess -NoSpare { [Environment]::ProcessPath } | Receive-Job -Wait -AutoRemoveJob
# The first start makes the session's first spare; the next start takes it once it is ready.
$null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob
if (-not [IpcPs.Hosting.SpareChildren]::WaitReady([timespan]::FromSeconds(120))) { throw 'No spare became ready in 120 s.' }
$spares = [IpcPs.Hosting.SpareChildren]::Pids
$q = New-IpcQueue
try {
    $job = Start-IpcProcess -ArgumentList $q { param($q) Send-IpcMessage $q ([Environment]::ProcessPath); $PID }
    $r.SparePath = Receive-IpcMessage $q -Timeout 120
    $r.FromSpare = $spares -contains ($job | Receive-Job -Wait -AutoRemoveJob)
}
finally { $q.Close() }
$r.Pool = (1..6 | Invoke-IpcPool -ThrottleLimit 2 -Ordered { $_ * 2 }) -join ','
$r.PoolPaths = @(1..4 | Invoke-IpcPool -ThrottleLimit 2 { [Environment]::ProcessPath } | Sort-Object -Unique)
$r | ConvertTo-Json -Compress
'@
        $psi = [Diagnostics.ProcessStartInfo]::new($script:HostPwsh)
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $script, $env:IPCPS_MODULE_PATH) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        try {
            $out = $p.StandardOutput.ReadToEndAsync()
            $err = $p.StandardError.ReadToEndAsync()
            if (-not $p.WaitForExit(300000)) { $p.Kill($true); throw "The session under $script:HostPwsh did not end within 300 s." }
            $p.WaitForExit()
            $null = $out.Wait(60000), $err.Wait(5000)
            $p.ExitCode | Should -Be 0 -Because "its output was: $($out.Result) $($err.Result)"
        }
        finally { $p.Dispose() }
        $r = $out.Result | ConvertFrom-Json
        $r.Self | Should -Be $script:HostPwsh
        $r.Cold | Should -Be $script:HostPwsh
        $r.SparePath | Should -Be $script:HostPwsh
        $r.FromSpare | Should -BeTrue -Because 'the second start took the spare the first one made'
        $r.Pool | Should -Be '2,4,6,8,10,12'
        $r.PoolPaths | Should -Be @($script:HostPwsh)
        # Its spares end with it (a spare sees its parent gone, or its stdin closed).
        Wait-Until { (Get-HostProcessIds).Count -eq 0 } -TimeoutSeconds 30 -Because 'the session''s children and spares to end with it'
    }
}
