BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:Examples = Join-Path $PSScriptRoot '../../docs/examples'

    # Runs an example in a pwsh of its own, as a user would; returns its output lines.
    function Invoke-Example([string] $Name) {
        $exe = [Environment]::ProcessPath
        $prefix = @()
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $prefix = @([Reflection.Assembly]::GetEntryAssembly().Location) }
        $out = & $exe @prefix -NoProfile -NonInteractive -File (Join-Path $Examples $Name) -ModulePath $env:IPCPS_MODULE_PATH 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        @($out | ForEach-Object { "$_" })
    }
}

Describe 'docs/examples' {
    It 'lock.ps1 (the seed''s Lock example): ten processes each print hello world i, whole lines' {
        $lines = Invoke-Example 'lock.ps1'
        $lines.Count | Should -Be 10
        ($lines | Sort-Object { [int]($_ -replace '\D') }) | Should -Be (0..9 | ForEach-Object { "hello world $_" })
    }

    It 'event.ps1 (the seed''s Event example): joo_a waits for joo_b''s event' {
        $lines = Invoke-Example 'event.ps1'
        $lines[0] | Should -Be 'subprocess joo_a start'
        [int]$lines[1] | Should -BeIn (1..100)
        $lines[2] | Should -Be 'subprocess joo_a ended'
        $lines[3] | Should -Be 'subprocess joo_b start'
        [int]$lines[4] | Should -BeIn (200..300)
        $lines[5] | Should -Be 'subprocess joo_b ended'
    }

    It 'demo.ps1 adds up across three workers under a lock' {
        $lines = Invoke-Example 'demo.ps1'
        ($lines -join "`n") | Should -Match 'expected 9000045000050000'
        $lines[-1] | Should -Be 'demo finished'
        @($lines -match '^worker \d \(pid \d+\) added').Count | Should -Be 3
    }
}
