#requires -Version 7.0
<#
.SYNOPSIS
    Builds, documents, tests, benchmarks and packages IpcPs. Bootstraps its own tools on a machine that has only the .NET SDK.
.DESCRIPTION
    Run it through the repository's local PowerShell tool:  dotnet tool restore && dotnet pwsh -NoProfile -File build.ps1 -Task Test
    Tasks (each runs what it depends on):
      Bootstrap  Pester from NuGet into .tools/ (ignored by git); quick when already there.
      Build      out/IpcPs/: the module folder (psd1 with the version of Directory.Build.props, dll, ps1xml, en-US help).
      Docs       docs/*.md (PlatyPS schema) -> out/IpcPs/en-US MAML, with PlatyPS when installed, else tools/Convert-DocsToMaml.ps1.
      Test       Pester in a child pwsh that imports out/IpcPs, the C# tests (tests/IpcPs.Tests, with a bounded fuzzing pass), and
                 the leftover check; ends with "N passed, N failed, N skipped"; non-zero exit on failure.
      Fuzz       Every fuzz target for -FuzzSeconds each (default 600), printing how many inputs each ran.
      Chaos      The chaos test (random traffic, random SIGKILLs, then exactly-once and no-lost-permit checks) for
                 -ChaosSeconds (default 900).
      Demo       A short demo: child processes talking through shared memory.
      Bench      Benchmarks in bench/ (see docs/performance.md).
      Package    out/package/IpcPs.VERSION.nupkg, installable with Install-PSResource/Install-Module from a local repository.
#>
[CmdletBinding()]
param(
    [ValidateSet('Bootstrap', 'Build', 'Docs', 'Test', 'Fuzz', 'Chaos', 'Demo', 'Bench', 'Package')]
    [string[]] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Pester filter for Test: only tests whose full name matches (wildcards).
    [string[]] $TestName,
    # Test: C# test methods to run (wildcards, fully qualified: 'IpcPs.Tests.*Codec*'); with -TestName alone, only Pester runs.
    [string[]] $CSharpTests,
    # Fuzz: seconds per fuzz target (Test runs each for IPCPS_FUZZ_SECONDS, default 10).
    [ValidateRange(1, 86400)]
    [int] $FuzzSeconds = 600,
    # Chaos: seconds of random traffic with random SIGKILLs (Test runs IPCPS_CHAOS_SECONDS, default 60).
    [ValidateRange(1, 86400)]
    [int] $ChaosSeconds = 900,
    # Test: a stage still running after this many minutes is stopped and counted as a failure.
    [ValidateRange(1, 1440)]
    [int] $TestTimeoutMinutes = 45
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'IpcPs'
$Tools = Join-Path $Root '.tools'
$PesterVersion = '5.7.1'

# The .NET SDK leaves a few empty folders in the temp folder on every run (Directory.CreateTempSubdirectory):
# point its TMPDIR into out/ so nothing of a build is left outside the repository.
function Invoke-Dotnet {
    $tmp = Join-Path $Out 'tmp'
    New-Item -ItemType Directory -Force $tmp | Out-Null
    $saved = $env:TMPDIR
    $env:TMPDIR = $tmp
    try { & dotnet @args | Out-Host } finally { $env:TMPDIR = $saved }
}

function Get-ProjectVersion {
    ([xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
}

function Get-PwshCommand {
    # The pwsh running this script, started the same way (under the .NET tool: dotnet …/pwsh.dll).
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, [Reflection.Assembly]::GetEntryAssembly().Location) }
    return @($exe)
}

# Runs one test stage (COMMAND: a program and its first arguments) and waits at most TIMEOUTMINUTES for it: a hung test must fail the run with
# everything printed so far, not use up CI's time. Returns the child's exit code, or $null when it was stopped.
function Invoke-TestStage([string[]] $Command, [string[]] $Arguments, [int] $TimeoutMinutes) {
    $psi = [Diagnostics.ProcessStartInfo]::new($Command[0])
    foreach ($a in @($Command | Select-Object -Skip 1) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($psi)
    try {
        if ($p.WaitForExit([timespan]::FromMinutes($TimeoutMinutes))) { $p.WaitForExit(); return $p.ExitCode }
        Write-Host ''
        Write-Host "The test run did not end within $TimeoutMinutes minutes: the test after the last one reported above hangs. Stopping it and every process it started."
        $p.Kill($true)
        $p.WaitForExit()
        return $null
    } finally { $p.Dispose() }
}

function Invoke-Bootstrap {
    $pester = Join-Path $Tools "nuget/pester/$PesterVersion/tools/Pester.psd1"
    if (Test-Path $pester) { return $pester }
    Write-Host "Bootstrap: fetching Pester $PesterVersion from NuGet"
    $restore = Join-Path $Tools 'restore'
    New-Item -ItemType Directory -Force $restore | Out-Null
    @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PesterVersion]" /></ItemGroup>
</Project>
"@ | Set-Content (Join-Path $restore 'restore.csproj')
    Invoke-Dotnet restore (Join-Path $restore 'restore.csproj') --packages (Join-Path $Tools 'nuget')
    if ($LASTEXITCODE) { throw "dotnet restore of Pester failed ($LASTEXITCODE)." }
    if (-not (Test-Path $pester)) { throw "Pester was restored, but $pester is missing." }
    return $pester
}

function Invoke-Build {
    $version = Get-ProjectVersion
    Invoke-Dotnet build (Join-Path $Root 'src/IpcPs/IpcPs.csproj') -c $Configuration -nologo -v quiet
    if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)." }
    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    New-Item -ItemType Directory -Force $ModuleOut | Out-Null
    Copy-Item (Join-Path $Root "src/IpcPs/bin/$Configuration/netstandard2.0/IpcPs.dll") $ModuleOut
    Copy-Item (Join-Path $Root "src/IpcPs/bin/$Configuration/netstandard2.0/IpcPs.Core.dll") $ModuleOut
    Copy-Item (Join-Path $Root 'module/*.ps1xml') $ModuleOut
    # The Redis backend and its dependencies, in a folder of their own: loaded only when a backend is first used, into a
    # load context of their own (src/IpcPs.Redis/RedisBackendLoader.cs); Core is the module's, never copied there.
    Invoke-Dotnet build (Join-Path $Root 'src/IpcPs.Redis/IpcPs.Redis.csproj') -c $Configuration -nologo -v quiet
    if ($LASTEXITCODE) { throw "dotnet build of the Redis backend failed ($LASTEXITCODE)." }
    $redisOut = Join-Path $ModuleOut 'redis'
    New-Item -ItemType Directory -Force $redisOut | Out-Null
    Get-ChildItem (Join-Path $Root "src/IpcPs.Redis/bin/$Configuration/net8.0") -Filter '*.dll' |
        Where-Object Name -NotIn 'IpcPs.Core.dll', 'IpcPs.dll' | Copy-Item -Destination $redisOut
    (Get-Content -Raw (Join-Path $Root 'module/IpcPs.psd1')) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content (Join-Path $ModuleOut 'IpcPs.psd1')
    Invoke-Docs
    Write-Host "Build: $ModuleOut (version $version)"
}

function Invoke-Docs {
    $help = Join-Path $ModuleOut 'en-US'
    New-Item -ItemType Directory -Force $help | Out-Null
    # Runs in a child pwsh: generating help imports the module, and an imported binary module locks nothing here
    # but would keep this session from rebuilding it.
    $converter = Join-Path $Root 'tools/Convert-DocsToMaml.ps1'
    $pwsh = Get-PwshCommand
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $converter -DocsPath (Join-Path $Root 'docs') -ModulePath $ModuleOut -OutputPath $help
    if ($LASTEXITCODE) { throw "Help generation failed ($LASTEXITCODE)." }
}

# Builds and runs the C# tests (tests/IpcPs.Tests, a self-executing xunit.v3 program) and writes their counts to
# RESULTFILE as the Pester stages do. Returns the program's exit code, or $null when it was stopped.
function Invoke-CSharpTests([string] $ResultFile, [int] $TimeoutMinutes) {
    $project = Join-Path $Root 'tests/IpcPs.Tests/IpcPs.Tests.csproj'
    Invoke-Dotnet build $project -c $Configuration -nologo -v quiet
    if ($LASTEXITCODE) { Write-Host "dotnet build of the C# tests failed ($LASTEXITCODE)."; return $LASTEXITCODE }
    $exe = Join-Path $Root "tests/IpcPs.Tests/bin/$Configuration/net10.0/IpcPs.Tests"
    $xml = Join-Path $Out 'csharp-result.xml'
    Remove-Item $xml -ErrorAction SilentlyContinue
    $arguments = @('-noColor', '-result-xml', $xml)
    if ($CSharpTests) { foreach ($m in $CSharpTests) { $arguments += @('-method', $m) } }
    # The fuzz targets append "target: N inputs in S s" here (tests/IpcPs.Tests/Fuzzing.cs); printed after the run.
    $fuzzReport = Join-Path $Out 'fuzz-report.txt'
    Remove-Item $fuzzReport -ErrorAction SilentlyContinue
    $env:IPCPS_FUZZ_REPORT = $fuzzReport
    $exitCode = Invoke-TestStage @($exe) $arguments $TimeoutMinutes
    if (Test-Path $fuzzReport) {
        Write-Host "Fuzzing ($(if ($env:IPCPS_FUZZ_SECONDS) { $env:IPCPS_FUZZ_SECONDS } else { 10 }) s per target) and chaos ($(if ($env:IPCPS_CHAOS_SECONDS) { $env:IPCPS_CHAOS_SECONDS } else { 60 }) s):"
        Get-Content $fuzzReport | ForEach-Object { Write-Host "  $_" }
    }
    if ($null -eq $exitCode -or -not (Test-Path $xml)) { return $exitCode }
    $assembly = ([xml](Get-Content -Raw $xml)).assemblies.assembly
    # xunit counts a failure of a class fixture as an error, outside "failed": both fail the stage.
    @{ Passed = [int]$assembly.passed; Failed = [int]$assembly.failed + [int]$assembly.errors; Skipped = [int]$assembly.skipped } |
        ConvertTo-Json | Set-Content $ResultFile
    return $exitCode
}

function Invoke-Test {
    $pester = Invoke-Bootstrap
    Invoke-Build
    $runner = Join-Path $Root 'tests/Invoke-Tests.ps1'
    $module = Join-Path $ModuleOut 'IpcPs.psd1'
    # What /dev/shm holds before the suite: the leftover check compares against it after the suite's process has ended.
    $baseline = Join-Path $Out 'shm-baseline.txt'
    @(Get-ChildItem -Force /dev/shm -ErrorAction SilentlyContinue | ForEach-Object Name) | Set-Content $baseline
    $env:IPCPS_SHM_BASELINE = $baseline
    # The same for the module's folders in the temp folder (manager socket directories, test folders).
    $tmpBaseline = Join-Path $Out 'tmp-baseline.txt'
    @(Get-ChildItem -Force ([IO.Path]::GetTempPath()) -Filter 'ipcps-*' -ErrorAction SilentlyContinue | ForEach-Object Name) | Set-Content $tmpBaseline
    $env:IPCPS_TMP_BASELINE = $tmpBaseline
    # Test processes are started and killed by the hundred: without diagnostics the runtime makes no debug pipes
    # and diagnostic sockets in the temp folder, which a killed process would leave behind.
    $env:DOTNET_EnableDiagnostics = '0'
    $totals = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $timings = [Collections.Generic.List[string]]::new()
    # The stages, in order: Pester (cross-process tests of the module), the C# tests of Core (a self-executing xunit
    # program: unit, property and fuzz tests), then the leftover check in a fresh process once the others have ended.
    $stages = @(
        @{ Name = 'Pester'; Path = (Join-Path $Root 'tests/pester'); Filter = $TestName }
        @{ Name = 'C#'; Program = $true }
        @{ Name = 'Leftovers'; Path = (Join-Path $Root 'tests/leak'); Filter = $null }
    )
    foreach ($stage in $stages) {
        # A filtered run runs only what it names: -TestName the Pester tests, -CSharpTests the C# ones.
        if ($TestName -and $stage.Name -eq 'C#' -and -not $CSharpTests) { continue }
        if ($CSharpTests -and $stage.Name -eq 'Pester' -and -not $TestName) { continue }
        $started = [Diagnostics.Stopwatch]::StartNew()
        $resultFile = Join-Path $Out 'test-result.json'
        Remove-Item $resultFile -ErrorAction SilentlyContinue
        if ($stage['Program']) {
            $exitCode = Invoke-CSharpTests $resultFile $TestTimeoutMinutes
        } else {
            $arguments = @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', $pester, '-ModulePath', $module,
                '-Path', $stage.Path, '-ResultFile', $resultFile)
            if ($stage.Filter) { $arguments += @('-TestName', ($stage.Filter -join ',')) }
            $exitCode = Invoke-TestStage (Get-PwshCommand) $arguments $TestTimeoutMinutes
        }
        if ($null -ne $exitCode -and (Test-Path $resultFile)) {
            $r = Get-Content -Raw $resultFile | ConvertFrom-Json
            $totals.Passed += $r.Passed; $totals.Failed += $r.Failed; $totals.Skipped += $r.Skipped
            $timings.Add(('{0}: {1} passed, {2} failed, {3} skipped in {4:n0} s' -f $stage.Name, $r.Passed, $r.Failed, $r.Skipped, $started.Elapsed.TotalSeconds))
        } else {
            Write-Host "The $($stage.Name) stage ended without a result (exit code $($exitCode ?? 'none: stopped'))."
            $totals.Failed += 1
            $timings.Add(('{0}: no result after {1:n0} s' -f $stage.Name, $started.Elapsed.TotalSeconds))
        }
    }
    Write-Host ''
    Write-Host 'Stages:'
    foreach ($t in $timings) { Write-Host "  $t" }
    Write-Host ''
    Write-Host "$($totals.Passed) passed, $($totals.Failed) failed, $($totals.Skipped) skipped"
    if ($totals.Failed -gt 0) { exit 1 }
}

# A longer run of some C# tests than the bounded pass of Test: TESTS (wildcards) with the environment variable VARIABLE
# set to SECONDS, each of them given about that long.
function Invoke-LongCSharpRun([string[]] $Tests, [string] $Variable, [int] $Seconds) {
    $saved = [Environment]::GetEnvironmentVariable($Variable)
    [Environment]::SetEnvironmentVariable($Variable, "$Seconds")
    $env:DOTNET_EnableDiagnostics = '0'
    try {
        $resultFile = Join-Path $Out 'test-result.json'
        Remove-Item $resultFile -ErrorAction SilentlyContinue
        $script:CSharpTests = $Tests
        $exitCode = Invoke-CSharpTests $resultFile ([Math]::Max($TestTimeoutMinutes, [int][Math]::Ceiling($Seconds * 40 / 60) + 10))
        $r = if (Test-Path $resultFile) { Get-Content -Raw $resultFile | ConvertFrom-Json } else { @{ Passed = 0; Failed = 1; Skipped = 0 } }
        Write-Host "$($r.Passed) passed, $($r.Failed) failed, $($r.Skipped) skipped"
        if ($exitCode -ne 0 -or $r.Failed -gt 0) { exit 1 }
    } finally { [Environment]::SetEnvironmentVariable($Variable, $saved) }
}

# Every fuzz target for -FuzzSeconds each.
function Invoke-Fuzz { Invoke-LongCSharpRun @('*Fuzz*') 'IPCPS_FUZZ_SECONDS' $FuzzSeconds }

# The chaos test for -ChaosSeconds.
function Invoke-Chaos { Invoke-LongCSharpRun @('*Chaos*') 'IPCPS_CHAOS_SECONDS' $ChaosSeconds }

function Invoke-Demo {
    Invoke-Build
    $pwsh = Get-PwshCommand
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $Root 'docs/examples/demo.ps1') -ModulePath (Join-Path $ModuleOut 'IpcPs.psd1')
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Invoke-Bench {
    Invoke-Build
    $env:TMPDIR = Join-Path $Out 'tmp'   # the drivers build and start .NET programs (see Invoke-Dotnet)
    $pwsh = Get-PwshCommand
    Get-ChildItem (Join-Path $Root 'bench') -Filter '*.bench.ps1' | ForEach-Object {
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $_.FullName -ModulePath (Join-Path $ModuleOut 'IpcPs.psd1')
    }
}

function Invoke-Package {
    Invoke-Build
    $version = Get-ProjectVersion
    $packageDir = Join-Path $Out 'package'
    New-Item -ItemType Directory -Force $packageDir | Out-Null
    # A PowerShellGet module package is a nupkg whose root holds the module files and a nuspec.
    $staging = Join-Path $Out 'package-staging'
    if (Test-Path $staging) { Remove-Item -Recurse -Force $staging }
    Copy-Item -Recurse $ModuleOut $staging
    $manifest = Import-PowerShellDataFile (Join-Path $ModuleOut 'IpcPs.psd1')
    $tags = ($manifest.PrivateData.PSData.Tags + 'PSModule' + ($manifest.CmdletsToExport | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })) -join ' '
    @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
  <metadata>
    <id>IpcPs</id>
    <version>$version</version>
    <authors>$($manifest.Author)</authors>
    <description>$([Security.SecurityElement]::Escape($manifest.Description))</description>
    <licenseUrl>$($manifest.PrivateData.PSData.LicenseUri)</licenseUrl>
    <tags>$tags</tags>
  </metadata>
</package>
"@ | Set-Content (Join-Path $staging 'IpcPs.nuspec')
    $nupkg = Join-Path $packageDir "IpcPs.$version.nupkg"
    if (Test-Path $nupkg) { Remove-Item $nupkg }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [IO.Compression.ZipFile]::Open($nupkg, 'Create')
    try {
        Get-ChildItem -Recurse -File $staging | ForEach-Object {
            $entry = [IO.Path]::GetRelativePath($staging, $_.FullName).Replace('\', '/')
            [void][IO.Compression.ZipFileExtensions]::CreateEntryFromFile($zip, $_.FullName, $entry)
        }
        $ct = $zip.CreateEntry('[Content_Types].xml')
        $w = [IO.StreamWriter]::new($ct.Open())
        $w.Write('<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="nuspec" ContentType="application/octet" /><Default Extension="dll" ContentType="application/octet" /><Default Extension="psd1" ContentType="application/octet" /><Default Extension="ps1xml" ContentType="application/octet" /><Default Extension="xml" ContentType="application/octet" /><Default Extension="txt" ContentType="application/octet" /></Types>')
        $w.Dispose()
    } finally { $zip.Dispose() }
    Remove-Item -Recurse -Force $staging
    Write-Host "Package: $nupkg"
}

foreach ($t in $Task) {
    switch ($t) {
        'Bootstrap' { $null = Invoke-Bootstrap }
        'Build' { Invoke-Build }
        'Docs' { Invoke-Build }
        'Test' { Invoke-Test }
        'Fuzz' { Invoke-Fuzz }
        'Chaos' { Invoke-Chaos }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Package' { Invoke-Package }
    }
}
