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

    It 'value.ps1 (the seed''s Value example): the child sets 10.78' {
        Invoke-Example 'value.ps1' | Should -Be @('10.78')
    }

    It 'array.ps1 (the seed''s Array example): the child sets index 2 to 9999' {
        Invoke-Example 'array.ps1' | Should -Be @('1 2 9999 4 5')
    }

    It 'sharedmemory.ps1 (the seed''s SharedMemory walkthrough)' {
        Invoke-Example 'sharedmemory.ps1' | Should -Be @('IpcPs.SharedMemory', '10', '22 33 44 55 100', 'howdy', 'False')
    }

    It 'shareablelist.ps1 (the seed''s ShareableList walkthrough, with "exceeds available storage")' {
        $lines = Invoke-Example 'shareablelist.ps1'
        $lines[0] | Should -Be 'String Byte[] Double Int64 null Boolean Int64'
        $lines[1..3] | Should -Be @('-273.154', '-78.5', 'dry ice')
        $lines[4] | Should -BeLike 'error: *exceeds available storage*'
        $lines[5..9] | Should -Be @('dry ice', '7', '6', '0', '1')
        $lines[10..11] | Should -Be @('0 1 2 3 4', '-999')
    }

    It 'sharedmemorymanager.ps1 (the seed''s SharedMemoryManager example): two halves of 2000 items, nothing left' {
        Invoke-Example 'sharedmemorymanager.ps1' | Should -Be @('partial sums: 499500 1499500', 'total: 1999000', 'left in /dev/shm: False')
    }
}
