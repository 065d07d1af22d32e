# Runs after the suite's process has ended (build.ps1 -Task Test, second stage): whatever the suite made in
# /dev/shm must be gone by then, the registry folder included, and no child pwsh it started may still run.
Describe 'After the test suite' {
    It 'left nothing in /dev/shm' {
        $baseline = if ($env:IPCPS_SHM_BASELINE -and (Test-Path $env:IPCPS_SHM_BASELINE)) { @(Get-Content $env:IPCPS_SHM_BASELINE) } else { @() }
        $now = @(Get-ChildItem -Force /dev/shm | ForEach-Object Name)
        $new = @($now | Where-Object { $_ -notin $baseline })
        $new | Should -BeNullOrEmpty -Because "the suite must clean up (found: $($new -join ', '))"
    }

    It 'left no manager socket directory or other ipcps-* folder in the temp folder' {
        $baseline = if ($env:IPCPS_TMP_BASELINE -and (Test-Path $env:IPCPS_TMP_BASELINE)) { @(Get-Content $env:IPCPS_TMP_BASELINE) } else { @() }
        $now = @(Get-ChildItem -Force ([IO.Path]::GetTempPath()) -Filter 'ipcps-*' -ErrorAction SilentlyContinue | ForEach-Object Name)
        $left = @($now | Where-Object { $_ -notin $baseline })
        $left | Should -BeNullOrEmpty -Because "managers and tests must remove what they made (found: $($left -join ', '))"
    }

    It 'left no child pwsh running' {
        # /proc is the portable way here: children of ours carry the IpcPs bootstrap on their command line.
        $ours = @(Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | ForEach-Object {
                $cmd = Get-Content -Raw -ErrorAction SilentlyContinue "/proc/$($_.Name)/cmdline"
                if ($cmd -and $cmd -match 'pwsh' -and $cmd -match 'EncodedCommand' -and [int]$_.Name -ne $PID) { [int]$_.Name }
            })
        $ours | Should -BeNullOrEmpty -Because "children started by Start-IpcProcess must have ended (pids: $($ours -join ', '))"
    }
}
