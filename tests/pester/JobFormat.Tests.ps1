# Get-Job's listing with IpcPs jobs among PowerShell's own: one table, whichever job comes first.
BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'Job listings' -Tag 'Windows' {
    BeforeAll {
        $script:ours = Start-IpcProcess { 1 }
        $script:theirs = Start-Job { 2 }
        $null = $script:ours, $script:theirs | Wait-Job -Timeout 120
    }
    AfterAll { $script:ours, $script:theirs | Remove-Job -Force -ErrorAction SilentlyContinue }

    It 'shows a Start-Job job as a row of the same table when an IpcPs job comes first' {
        $text = $script:ours, $script:theirs | Out-String -Width 200
        $text | Should -Not -Match 'StatusMessage\s+:'   # PowerShell's list of a job that did not fit the table
        @($text -split "`n" | Where-Object { $_ -match '^\s*-+\s+-+' }).Count | Should -Be 1 -Because $text
        $text | Should -Match "(?m)^\s*$($script:ours.Id)\s+$($script:ours.Name)\s+Completed"
        $text | Should -Match "(?m)^\s*$($script:theirs.Id)\s+$($script:theirs.Name)\s+Completed"
        $text | Should -Match "(?m)^\s*$($script:ours.Id)\s.*\s$($script:ours.Pid)\s+0\s"   # ours keeps its pid and exit code
    }

    It "keeps PowerShell's own view when a Start-Job job comes first, with the IpcPs job a row of it" {
        $text = $script:theirs, $script:ours | Out-String -Width 200
        $text | Should -Match 'PSJobTypeName'
        $text | Should -Match "(?m)^\s*$($script:ours.Id)\s+$($script:ours.Name)\s+IpcProcessJob\s+Completed"
        @($text -split "`n" | Where-Object { $_ -match '^\s*-+\s+-+' }).Count | Should -Be 1 -Because $text
    }
}
