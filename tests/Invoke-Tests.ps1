<#
.SYNOPSIS
    Runs Pester over PATH with the built module, prints every failure in full, writes the counts to RESULTFILE.
    build.ps1 -Task Test runs it twice: the suite, then (in a fresh process, after the suite's has exited) the
    leftover check in tests/leak, and prints the combined "N passed, N failed, N skipped" line.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string[]] $Path,
    [Parameter(Mandatory)] [string] $ResultFile,
    [string] $TestName,
    # Only tests with one of these tags (comma-separated; the Windows leg runs the tests tagged Windows: those that
    # apply there so far), their blocks' tags included. With -TestName both must hold (see below).
    [string] $Tag,
    # Leaves out tests with these tags (comma-separated): the Linux leg leaves out those tagged WindowsOnly.
    [string] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -MinimumVersion 5.0
$env:IPCPS_MODULE_PATH = $ModulePath

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.StackTraceVerbosity = 'Filtered'
if ($TestName) { $config.Filter.FullName = $TestName -split ',' }
if ($Tag -and -not $TestName) { $config.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }
if ($Tag -and $TestName) {
    # Pester runs a test that matches ANY of its include filters, so a narrowed Windows run (-TestName) ran the Linux-only
    # tests it named too, which fail under Wine. Both must hold: the tests -TestName names are found first (discovery
    # only), and those that carry one of the tags (on the test or a block around it) are then named one by one.
    $find = New-PesterConfiguration
    $find.Run.Path = $Path
    $find.Run.SkipRun = $true
    $find.Run.PassThru = $true
    $find.Output.Verbosity = 'None'
    $find.Filter.FullName = $TestName -split ','
    if ($ExcludeTag) { $find.Filter.ExcludeTag = $ExcludeTag -split ',' }
    $tags = $Tag -split ','
    $tagged = foreach ($t in (Invoke-Pester -Configuration $find).Tests) {
        $all = @($t.Tag)
        for ($b = $t.Block; $b; $b = $b.Parent) { $all += @($b.Tag) }
        if ($t.ShouldRun -and @($all | Where-Object { $_ -in $tags }).Count) { [WildcardPattern]::Escape($t.ExpandedPath) }
    }
    # None tagged: a name no test has, so that nothing runs (an empty filter would run everything).
    $config.Filter.FullName = if ($tagged) { @($tagged) } else { @('<no test named by -TestName carries the tags>') }
}

$result = Invoke-Pester -Configuration $config

$failedBlocks = @($result.FailedBlocks) + @($result.FailedContainers)
if ($result.FailedCount -gt 0 -or $failedBlocks.Count -gt 0) {
    Write-Host ''
    Write-Host '==================== Failures ===================='
    foreach ($t in $result.Failed) {
        Write-Host "[-] $($t.ExpandedPath)"
        foreach ($e in $t.ErrorRecord) {
            Write-Host "    $($e.Exception.Message)"
            if ($e.ScriptStackTrace) { Write-Host ($e.ScriptStackTrace -replace '(?m)^', '      ') }
        }
    }
    foreach ($b in $failedBlocks) {
        Write-Host "[-] setup failed: $($b.ExpandedPath ?? $b.Item)"
        foreach ($e in $b.ErrorRecord) { Write-Host "    $($e.Exception.Message)" }
    }
}
# A block or file whose setup failed counts as a failure even though none of its tests ran.
$failed = $result.FailedCount + $failedBlocks.Count
# The names of what failed, with the first line of its error: build.ps1 prints them again at the end of the run.
$names = @(foreach ($t in $result.Failed) { "$($t.ExpandedPath): $(@($t.ErrorRecord)[0].Exception.Message -split "`n" | Select-Object -First 1)" }) +
    @(foreach ($b in $failedBlocks) { "setup failed: $($b.ExpandedPath ?? $b.Item)" })
@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount; FailedNames = $names } | ConvertTo-Json | Set-Content $ResultFile
exit ([int]($failed -gt 0))
