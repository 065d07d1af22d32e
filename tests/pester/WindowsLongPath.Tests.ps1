# The Windows registry's record paths (%LOCALAPPDATA%\IpcPs\objects\session-N\NAME, NAME up to 255 characters) pass
# MAX_PATH (260), which Win32 file calls refuse unless LongPathsEnabled is set (off by default): the registry passes
# them extended-length (\\?\) paths (docs/design.md, "Windows"). Wine has no such limit, so each child here emulates it
# through RegistryTestHooks.RecordOpenError (a record path of 260 or more without \\?\ fails ERROR_PATH_NOT_FOUND, as
# Windows fails it). Each runs in a child pwsh with a timeout: the registry once retried that error for ever.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Script text: sets RecordOpenError to a compiled delegate (no runspace needed on whatever thread calls it) whose
    # answer is 3 (ERROR_PATH_NOT_FOUND) when the expression WHEN (over the path $p) holds, else 0.
    function Get-HookScript([string] $When) {
        @"
`$E = [Linq.Expressions.Expression]
`$p = `$E::Parameter([string], 'p')
`$body = `$E::Condition($When, `$E::Constant(3), `$E::Constant(0))
`$hook = `$E::Lambda([Func[string, int]], `$body, [Linq.Expressions.ParameterExpression[]] @(`$p)).Compile()
[IpcPs.IpcQueue].Assembly.GetType('IpcPs.Core.Platform.RegistryTestHooks').GetField('RecordOpenError').SetValue(`$null, `$hook)
"@
    }
    # Windows' rule for a path without \\?\: 260 characters or more do not resolve.
    $script:MaxPathRule = Get-HookScript @'
$E::AndAlso($E::GreaterThanOrEqual($E::Property($p, 'Length'), $E::Constant(260)),
    $E::Not($E::Call($p, [string].GetMethod('StartsWith', [type[]] @([string], [StringComparison])), $E::Constant('\\?\'), $E::Constant([StringComparison]::Ordinal))))
'@
    # A record path that never resolves, however often the folder is made again.
    $script:NeverResolves = Get-HookScript '$E::Constant($true)'
}

Describe 'Windows: record paths longer than MAX_PATH' -Tag 'WindowsOnly' {
    It 'a name whose record path passes 260 characters is created, opened from another process, listed and removed' {
        $name = (New-TestName 'lp') + '_' + ('x' * 220)
        $r = Invoke-Pwsh -TimeoutSeconds 150 -Command @"
$MaxPathRule
`$name = '$name'
`$session = [Diagnostics.Process]::GetCurrentProcess().SessionId
'record ' + (Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) "IpcPs\objects\session-`$session\`$name").Length
`$a = New-SharedMemory `$name 64
try {
    `$a.Write(0, [byte[]] (42))
    `$b = Get-IpcObject -Name `$name
    try { 'second ' + `$b.Read(0, 1)[0] } finally { `$b.Close() }
    'listed ' + @(Get-IpcObject | Where-Object Name -EQ `$name).Count
    'child ' + (Start-IpcProcess { param(`$n) `$s = Get-IpcObject -Name `$n; try { `$s.Read(0, 1)[0] } finally { `$s.Close() } } -ArgumentList `$name | Receive-Job -Wait -AutoRemoveJob)
} finally { `$a.Close() }
'after ' + @(Get-IpcObject | Where-Object Name -EQ `$name).Count
"@
        $text = $r.Lines -join "`n"
        $r.ExitCode | Should -Be 0 -Because $text
        [int] ($r.Lines | Where-Object { $_ -like 'record *' } | ForEach-Object { $_.Substring(7) }) | Should -BeGreaterThan 260 -Because 'the test is about paths past MAX_PATH'
        $r.Lines | Should -Contain 'second 42' -Because $text
        $r.Lines | Should -Contain 'listed 1' -Because $text
        $r.Lines | Should -Contain 'child 42' -Because $text
        $r.Lines | Should -Contain 'after 0' -Because $text
        Get-IpcObject | Where-Object Name -EQ $name | Should -BeNullOrEmpty -Because 'closed by its last holder, the object and its record are gone'
    }

    It 'a record path that keeps failing ERROR_PATH_NOT_FOUND ends in a typed error naming the path, not in an endless retry' {
        $name = New-TestName 'lp'
        $r = Invoke-Pwsh -TimeoutSeconds 150 -Command @"
$NeverResolves
try { `$s = New-SharedMemory '$name' 64; `$s.Close(); 'made' }
catch { `$e = `$_.Exception; while (`$e -and `$e -isnot [IpcPs.IpcPlatformException]) { `$e = `$e.InnerException }; if (`$e) { 'error ' + `$e.ErrorNumber; `$e.Message } else { 'other ' + `$_ } }
"@
        $text = $r.Lines -join "`n"
        $r.ExitCode | Should -Be 0 -Because $text
        $r.Lines | Should -Contain 'error 3' -Because $text
        $text | Should -Match ([regex]::Escape("\IpcPs\objects\session-")) -Because 'the error says which path failed'
        $text | Should -Match ([regex]::Escape($name))
        Get-IpcObject | Where-Object Name -EQ $name | Should -BeNullOrEmpty
    }
}
