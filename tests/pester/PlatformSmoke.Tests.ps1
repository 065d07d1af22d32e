# The smoke test of a platform: the module imports by name, the basic kinds work within one process, and two child
# pwsh processes share them by name. Tagged Windows: build.ps1 runs it in the Windows leg too (under out/win/pwsh,
# Wine), where only tests tagged Windows run. Children are started directly (New-PwshStartInfo, redirected streams),
# not with Start-IpcProcess, so the test needs nothing of the hosting layer.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Starts a child pwsh (the same executable as this one) running SCRIPT with the module imported by name.
    function Start-Child([string] $Script) {
        $text = "`$ErrorActionPreference = 'Stop'; Import-Module IpcPs; $Script"
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($text)))
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $p; Output = $p.StandardOutput.ReadToEndAsync(); Errors = $p.StandardError.ReadToEndAsync() }
    }
}

Describe 'Platform smoke' -Tag 'Windows' {
    It 'imports by name on <Platform>' -TestCases @(@{ Platform = if ($IsWindows) { 'Windows' } else { 'Linux' } }) {
        Remove-Module IpcPs -ErrorAction SilentlyContinue
        Import-Module IpcPs
        (Get-Module IpcPs).ExportedCommands.Keys | Should -Contain 'New-SharedMemory'
        # The module the test runs is the one being tested (build.ps1 puts out/ on PSModulePath for the Windows leg).
        (Get-Module IpcPs).ModuleBase | Should -Be (Split-Path $env:IPCPS_MODULE_PATH)
    }

    It 'runs shared memory, a lock, an event and a queue within one process' {
        $names = 1..4 | ForEach-Object { New-TestName 'smoke' }
        $m = New-SharedMemory $names[0] 100
        $l = New-IpcLock $names[1]
        $e = New-IpcEvent $names[2]
        $q = New-IpcQueue $names[3]
        try {
            $m.Write(10, [byte[]](1, 2, 3))
            $again = Get-IpcObject -Name $names[0]
            $again.Read(10, 3) | Should -Be @(1, 2, 3)
            $again.Close()
            Use-IpcLock $l { $l.IsMine | Should -BeTrue }
            $l.IsLocked | Should -BeFalse
            [bool](Wait-IpcEvent $e -Timeout 0 -PassThru -ErrorAction Ignore) | Should -BeFalse
            Set-IpcEvent $e
            [bool](Wait-IpcEvent $e -Timeout 5 -PassThru -ErrorAction Ignore) | Should -BeTrue
            Send-IpcMessage $q @{ Text = 'hello'; N = 42 }
            $got = Receive-IpcMessage $q -Timeout 5
            $got.Text | Should -Be 'hello'
            $got.N | Should -Be 42
            (Get-IpcObject | Where-Object Name -In $names).Count | Should -Be 4
        } finally {
            $m.Close(); $l.Close(); $e.Close(); $q.Close()
        }
        # The last holder closed them: nothing of them is left.
        Get-IpcObject | Where-Object Name -In $names | Should -BeNullOrEmpty
        foreach ($n in $names) { { Get-IpcObject -Name $n -ErrorAction Stop } | Should -Throw -ErrorId 'IpcObjectNotFound,IpcPs.Commands.GetIpcObjectCommand' }
    }

    It 'shares them between two child processes by name' {
        $names = 1..4 | ForEach-Object { New-TestName 'smoke' }
        $m = New-SharedMemory $names[0] 8
        $l = New-IpcLock $names[1]
        $go = New-IpcEvent $names[2]
        $q = New-IpcQueue $names[3]
        $children = @()
        try {
            $script = @"
`$m = Get-IpcObject -Name '$($names[0])'; `$l = Get-IpcObject -Name '$($names[1])'
`$go = Get-IpcObject -Name '$($names[2])'; `$q = Get-IpcObject -Name '$($names[3])'
Send-IpcMessage `$q "ready `$PID"
if (-not (Wait-IpcEvent `$go -Timeout 120 -PassThru -ErrorAction Ignore)) { exit 2 }
for (`$i = 0; `$i -lt 300; `$i++) {
    Use-IpcLock `$l { `$m.Write(0, [BitConverter]::GetBytes([BitConverter]::ToInt64(`$m.Read(0, 8), 0) + 1)) }
}
Send-IpcMessage `$q "done `$PID"
"@
            $children = 1..2 | ForEach-Object { Start-Child $script }
            $ready = Receive-IpcMessage $q -Count 2 -Timeout 180
            $ready | Should -HaveCount 2
            $ready | ForEach-Object { $_ | Should -BeLike 'ready *' }
            Set-IpcEvent $go
            $done = Receive-IpcMessage $q -Count 2 -Timeout 300
            $done | Should -HaveCount 2
            foreach ($c in $children) {
                $c.Process.WaitForExit(120000) | Should -BeTrue
                $c.Process.ExitCode | Should -Be 0 -Because $c.Errors.Result
            }
            # Every increment of both children, under the lock: none lost.
            [BitConverter]::ToInt64($m.Read(0, 8), 0) | Should -Be 600
            # The children held the objects while they ran; now only this process does.
            $l.HolderPids | Should -Be @($PID)
        } finally {
            foreach ($c in $children) { if (-not $c.Process.HasExited) { $c.Process.Kill() }; $c.Process.Dispose() }
            $m.Close(); $l.Close(); $go.Close(); $q.Close()
        }
        Get-IpcObject | Where-Object Name -In $names | Should -BeNullOrEmpty
    }
}
