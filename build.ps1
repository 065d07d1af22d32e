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
      Build      also out/win/pwsh: Windows PowerShell 7 under Wine (a win-x64 host published once and cached in
                 out/win/pwsh-host), with the module importable by name; arguments are pwsh's own (out/win/pwsh -File x.ps1).
      Test       also makes out/linux/pwsh-host/pwsh when its test runs: Linux PowerShell as its packages ship it (its own
                 executable, self-contained, ReadyToRun), published again only when tools/WinPwsh or the recipe changes;
                 tests/pester/ReleasedPwsh.Tests.ps1 runs the module under it.
      Test       Two legs, each timed stage by stage, ending with one line "N passed, N failed, N skipped"; non-zero exit on
                 failure. Linux: Pester in a child pwsh that imports out/IpcPs, the C# tests (tests/IpcPs.Tests, with a
                 bounded fuzzing pass). Windows (under Wine, in the private prefix .tools/wineprefix): the C# tests published
                 as a win-x64 program, and the Pester tests tagged Windows under out/win/pwsh. Then the leftover checks of
                 both. Where Wine is missing, the Windows leg is reported NOT RUN and counted as one failure per stage
                 (-Platform Linux leaves it out on purpose). -TestName/-CSharpTests narrow a run to Linux unless -Platform
                 says otherwise.
      Fuzz       Every fuzz target for -FuzzSeconds each (default 600), printing how many inputs each ran.
      Chaos      The chaos test (random traffic, random SIGKILLs, then exactly-once and no-lost-permit checks) for
                 -ChaosSeconds (default 900).
      Demo       A short demo: child processes talking through shared memory.
      Bench      Benchmarks in bench/ (see docs/performance.md); with -Platform Windows, bench/IpcPs.Bench as a win-x64 program
                 under Wine (lock pairs/s, ping-pong, queue msgs/s).
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
    # Test: a stage still running after this many minutes is stopped and counted as a failure. Default: each stage's
    # own budget (Get-StageBudget), about twice its usual time, so that a hung stage cannot take the run past CI's 90 minutes.
    [ValidateRange(1, 1440)]
    [int] $TestTimeoutMinutes,
    # Test, Bench: which legs run. Default for Test: All, or Linux when -TestName or -CSharpTests narrows the run; for Bench: Linux.
    [ValidateSet('Linux', 'Windows', 'All')]
    [string] $Platform
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'IpcPs'
$Tools = Join-Path $Root '.tools'
$PesterVersion = '5.7.1'
# The Windows builds (out/win) and Wine's private prefix. The prefix is kept with the tools (.tools/, ignored by git,
# made once), not in out/: the module puts out/ on PSModulePath at import, and a prefix's drive Z: (a link to /)
# inside it would send Get-Module -ListAvailable round the whole file system.
$WinOut = Join-Path $Out 'win'
# Linux PowerShell as its packages ship it (see Invoke-LinuxHostBuild), and the name of the test that uses it.
$LinuxHost = Join-Path $Out 'linux/pwsh-host/pwsh'
$ReleasedPwshTest = 'The module under a released-style pwsh (its own executable, ReadyToRun)'
$WinePrefix = Join-Path $Tools 'wineprefix'

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
    ([xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))).SelectSingleNode('/Project/PropertyGroup/Version').InnerText
}

function Get-PwshCommand {
    # The pwsh running this script, started the same way (under the .NET tool: dotnet …/pwsh.dll).
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, [Reflection.Assembly]::GetEntryAssembly().Location) }
    return @($exe)
}

# Runs one test stage (COMMAND: a program and its first arguments) and waits at most TIMEOUTMINUTES for it: a hung test must fail the run with
# everything printed so far, not use up CI's time. Returns the child's exit code, or $null when it was stopped.
# ENVIRONMENT: variables set for the stage only. NOINPUT: its standard input is closed at once (Windows programs under
# Wine wait on an inherited one).
function Invoke-TestStage([string[]] $Command, [string[]] $Arguments, [int] $TimeoutMinutes, [hashtable] $Environment = @{}, [switch] $NoInput) {
    $psi = [Diagnostics.ProcessStartInfo]::new($Command[0])
    foreach ($a in @($Command | Select-Object -Skip 1) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.RedirectStandardInput = [bool]$NoInput
    $p = [Diagnostics.Process]::Start($psi)
    if ($NoInput) { $p.StandardInput.Close() }
    try {
        if ($p.WaitForExit([timespan]::FromMinutes($TimeoutMinutes))) { $p.WaitForExit(); return $p.ExitCode }
        Write-Host ''
        Write-Host "The test run did not end within $TimeoutMinutes minutes: the test after the last one reported above hangs. Stopping it and every process it started."
        Write-HungProcesses
        $p.Kill($true)
        $p.WaitForExit()
        return $null
    } finally { $p.Dispose() }
}

# What runs while a stage hangs, for its diagnosis: every process with its parent, state, age and what it waits in
# (Wine's processes are Linux processes too, shown by their Windows program's path); kernel threads left out.
function Write-HungProcesses {
    if (-not (Get-Command ps -CommandType Application -ErrorAction SilentlyContinue)) { return }
    Write-Host 'Processes at the time:'
    & ps -eo pid,ppid,stat,etime,wchan:24,args --sort=start_time | Select-Object -Skip 1 |
        Where-Object { $_ -notmatch '\bps -eo\b' -and $_ -notmatch '^\s*\d+\s+[02]\s' } | ForEach-Object { Write-Host "  $($_.Substring(0, [Math]::Min(240, $_.Length)))" }
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
    # The Windows host needs NuGet's win-x64 packages once; without them the Linux build still stands (the Windows
    # leg of Test then reports itself not run).
    try { Invoke-WindowsBuild }
    catch { Write-Warning "out/win/pwsh was not made: $($_.Exception.Message)" }
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

# ---- Windows, under Wine ------------------------------------------------------------------------------------------
# Windows programs (win-x64, self-contained .NET) run under Debian's wine in a prefix of their own in .tools/wineprefix,
# with Wine's temporary folder (its server socket) in out/win/tmp. The prefix is not in out/ because the module puts
# out/ on PSModulePath and a prefix's drive Z: is a link to / (a module search would walk the whole file system); so it
# is removed when the leg ends (Remove-WinePrefix) and made again by the next (~10-20 s): no Wine prefix outlives a run. See README,
# "Platforms", for the settings and why each is needed.

# The path Windows programs under Wine see for the Unix PATH (drive Z: is the Unix root in every prefix).
function ConvertTo-WinePath([string] $Path) { 'Z:' + ([IO.Path]::GetFullPath($Path) -replace '/', '\') }

# Wine's loader, or $null where Wine is not installed.
function Get-Wine { Get-Command wine -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source }

# What every Windows program of the leg runs with: the private prefix, Wine's own messages off, and no W^X (.NET's
# write-xor-execute ends pwsh under Wine with an "Internal CLR error" in a dynamic method's finalizer).
function Get-WineEnvironment {
    $tmp = Join-Path $WinOut 'tmp'
    New-Item -ItemType Directory -Force $tmp | Out-Null
    @{ WINEPREFIX = $WinePrefix; WINEDEBUG = '-all'; DOTNET_EnableWriteXorExecute = '0'; TMPDIR = $tmp }
}

# Runs wine (or a Wine tool: wineserver, wineboot) with ARGUMENTS in the leg's environment; returns the exit code.
function Invoke-WineTool([string] $Tool, [string[]] $Arguments) {
    $psi = [Diagnostics.ProcessStartInfo]::new($Tool)
    foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $environment = Get-WineEnvironment
    foreach ($k in $environment.Keys) { $psi.Environment[$k] = $environment[$k] }
    $p = [Diagnostics.Process]::Start($psi)
    $p.StandardInput.Close()
    $p.WaitForExit()
    $p.ExitCode
}

# Makes the prefix on first use (wineboot: ~10-20 s), so that no test's time includes it.
function Initialize-WinePrefix {
    if (Test-Path (Join-Path $WinePrefix 'system.reg')) { return }
    Write-Host "Wine: making the prefix $WinePrefix"
    $null = Invoke-WineTool 'wine' @('wineboot', '--init')
    $null = Invoke-WineTool 'wineserver' @('-w')
}

# Ends every Wine process of the prefix (and its wineserver): the leg leaves nothing running. wineserver -k ends the
# processes the server knows; a Wine process can also be left blocked for good in its start-up, unknown to the server
# (seen under load: one thread in read(2) on a pipe whose write end it holds itself, parent init, after Windows had
# reported the process ended). Those are found by the prefix in their environment and killed too.
function Stop-Wine {
    if (-not (Get-Wine) -or -not (Test-Path $WinePrefix)) { return }
    $null = Invoke-WineTool 'wineserver' @('-k')
    $null = Invoke-WineTool 'wineserver' @('-w')
    $stuck = @(Get-PrefixProcesses)
    if ($stuck.Count -eq 0) { return }
    Write-Host "Wine: $($stuck.Count) process(es) of the prefix outlived its wineserver (stuck in Wine's start-up); killed: $($stuck -join ', ')"
    foreach ($id in $stuck) { try { [Diagnostics.Process]::GetProcessById($id).Kill() } catch { } }
}

# The Linux processes whose environment names this leg's prefix (Wine passes WINEPREFIX to every process it starts).
function Get-PrefixProcesses {
    if (-not (Test-Path /proc/self)) { return }
    $wanted = [char]0 + "WINEPREFIX=$WinePrefix" + [char]0
    foreach ($dir in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue) {
        if ($dir.Name -notmatch '^\d+$' -or [int]$dir.Name -eq $PID) { continue }
        try { $environ = [char]0 + [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes("/proc/$($dir.Name)/environ")) } catch { continue }
        if ($environ.Contains($wanted, [StringComparison]::Ordinal)) { [int]$dir.Name }
    }
}

# Ends Wine and removes the leg's prefix: nothing of Wine is left outside out/ after a run.
function Remove-WinePrefix {
    Stop-Wine
    if (Test-Path $WinePrefix) { Remove-Item -Recurse -Force $WinePrefix -ErrorAction SilentlyContinue }
}

# A stamp of the sources a publish (win-x64, or the Linux host) is made from (FOLDERS, relative to the repository,
# and Directory.Build.props).
function Get-InputStamp([string[]] $Folders) {
    $files = @(foreach ($f in $Folders) {
            Get-ChildItem -Recurse -File (Join-Path $Root $f) -Include *.cs, *.csproj, *.props |
                Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' }
        }) + @(Get-Item (Join-Path $Root 'Directory.Build.props'))
    $text = ($files | Sort-Object FullName | ForEach-Object { [IO.Path]::GetRelativePath($Root, $_.FullName) + ' ' + (Get-FileHash -Algorithm SHA256 $_.FullName).Hash }) -join "`n"
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($text)))
}

# Publishes PROJECT (relative path) self-contained for RID (win-x64 unless given; PROPERTIES are passed to it, the
# Windows builds' -p:IpcPsWindows=true unless given) into DESTINATION, unless it was published from the same sources
# and recipe before (a stamp beside it; RECIPE: anything else it depends on). AFTER runs before the stamp is written;
# a step that fails leaves no folder. True when it published.
function Publish-SelfContained([string] $Project, [string] $Destination, [string[]] $Folders, [scriptblock] $After = {},
    [string] $Rid = 'win-x64', [string[]] $Properties = @('-p:IpcPsWindows=true'), [string] $Recipe = '') {
    $stamp = (Get-InputStamp $Folders) + "|$Rid|$($Properties -join ' ')|$Configuration|$Recipe"
    $stampFile = "$Destination.stamp"
    if ((Test-Path $stampFile) -and (Test-Path $Destination) -and (Get-Content -Raw $stampFile).Trim() -eq $stamp) { return $false }
    Remove-Item -Recurse -Force $Destination, $stampFile -ErrorAction SilentlyContinue
    $clock = [Diagnostics.Stopwatch]::StartNew()
    try {
        Invoke-Dotnet publish (Join-Path $Root $Project) -c $Configuration -r $Rid --self-contained @Properties -o $Destination -nologo -v quiet
        if ($LASTEXITCODE) { throw "dotnet publish of $Project for $Rid failed ($LASTEXITCODE)." }
        & $After
    }
    catch {
        Remove-Item -Recurse -Force $Destination -ErrorAction SilentlyContinue
        throw
    }
    Set-Content $stampFile $stamp
    Write-Host ('Build: {0} published for {1} in {2:n0} s' -f $Project, $Rid, $clock.Elapsed.TotalSeconds)
    return $true
}

# The version of the PowerShell tool this repository runs under (.config/dotnet-tools.json).
function Get-PwshToolVersion { (Get-Content -Raw (Join-Path $Root '.config/dotnet-tools.json') | ConvertFrom-Json).tools.powershell.version }

# PowerShell's own Modules folder for PLATFORM ('win' or 'unix'), from the PowerShell tool package this build runs
# under (or, when run by another pwsh, from the NuGet cache at the version .config/dotnet-tools.json names).
function Get-PowerShellModules([string] $Platform) {
    $entry = [Reflection.Assembly]::GetEntryAssembly().Location
    $candidates = @()
    if ($entry -match '[\\/]tools[\\/]net[^\\/]+[\\/]any[\\/]') { $candidates += Join-Path (Split-Path (Split-Path $entry)) "$Platform/Modules" }
    $version = Get-PwshToolVersion
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $candidates += Get-ChildItem -Directory (Join-Path $packages "powershell/$version/tools") -ErrorAction SilentlyContinue |
        ForEach-Object { Join-Path $_.FullName "any/$Platform/Modules" }
    $found = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $found) { throw "PowerShell's $Platform Modules folder was not found (looked in: $($candidates -join ', ')); run 'dotnet tool restore'." }
    $found
}

# out/linux/pwsh-host/pwsh: PowerShell as its Linux packages ship it, an executable of its own (not dotnet …/pwsh.dll,
# as the .NET tool this repository runs under), self-contained, whose assemblies carry ReadyToRun code (the tool's
# carry none): tools/WinPwsh published for this machine's runtime identifier. The tests run the module under it
# (tests/pester/ReleasedPwsh.Tests.ps1): children start as that executable.
function Invoke-LinuxHostBuild {
    $hostDir = Split-Path $LinuxHost
    $null = Publish-SelfContained 'tools/WinPwsh/WinPwsh.csproj' $hostDir @('tools/WinPwsh') {
        Copy-Item -Recurse (Get-PowerShellModules 'unix') (Join-Path $hostDir 'Modules')
    } -Rid ([Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier) -Properties '-p:PublishReadyToRun=true', '-p:IpcPsLinuxHost=true' `
        -Recipe "modules of $(Get-PwshToolVersion)"
}

# out/win/pwsh-host (Windows PowerShell, published once) and the launcher out/win/pwsh.
function Invoke-WindowsBuild {
    $hostDir = Join-Path $WinOut 'pwsh-host'
    $null = Publish-SelfContained 'tools/WinPwsh/WinPwsh.csproj' $hostDir @('tools/WinPwsh') {
        Copy-Item -Recurse (Get-PowerShellModules 'win') (Join-Path $hostDir 'Modules')
    } -Recipe "modules of $(Get-PwshToolVersion)"
    $launcher = Join-Path $WinOut 'pwsh'
    [IO.File]::WriteAllText($launcher, @'
#!/usr/bin/env bash
# Windows PowerShell 7 (win-x64, out/win/pwsh-host/pwsh.exe) under Wine, made by build.ps1 -Task Build (README,
# "Platforms"). Arguments are pwsh's own (out/win/pwsh -File x.ps1, out/win/pwsh -Command ...); the exit code is
# pwsh's. The module is importable by name (Import-Module IpcPs): out/ is on PSModulePath.
#  - WINEPREFIX .tools/wineprefix (made by the first Test) and Wine's temporary folder out/win/tmp: nothing of Wine
#    outside the repository;
#  - WINEDEBUG=-all: no Wine diagnostics in the output; DOTNET_EnableWriteXorExecute=0: without it .NET's W^X ends
#    pwsh with an "Internal CLR error"; -ExecutionPolicy Bypass: Windows' default policy refuses scripts;
#  - a pseudo-terminal (script): PowerShell's console host needs a console, which Wine gives a program started from
#    a terminal only. When standard output is not a terminal, what Wine's console adds for one (cursor and title
#    sequences, colours, CR before LF, a note about the Z: drive) is taken out, so the output reads as plain text.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(dirname "$here")"
if ! command -v wine >/dev/null 2>&1; then echo "out/win/pwsh: Wine is not installed (apt-get install -y wine)." >&2; exit 127; fi
if ! command -v script >/dev/null 2>&1; then echo "out/win/pwsh: 'script' (util-linux) is needed for the console." >&2; exit 127; fi
mkdir -p "$here/tmp"
export WINEPREFIX="$(dirname "$out")/.tools/wineprefix" TMPDIR="$here/tmp" WINEDEBUG=-all DOTNET_EnableWriteXorExecute=0 NO_COLOR=1
export PSModulePath="Z:${out//\//\\}"
cmd="stty -onlcr cols 200 2>/dev/null; exec wine $(printf '%q ' "$here/pwsh-host/pwsh.exe" -NoLogo -ExecutionPolicy Bypass "$@")"
if [ -t 1 ]; then SHELL=/bin/bash exec script -qec "$cmd" /dev/null; fi
SHELL=/bin/bash script -qec "$cmd" /dev/null | sed -u -e 's/\x1b\][^\x07]*\x07//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' \
    -e '/^wine: Read access denied for device .*FS volume label and serial are not available\.$/d'
exit "${PIPESTATUS[0]}"

'@.Replace("`r`n", "`n"))
    [IO.File]::SetUnixFileMode($launcher, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute, GroupRead, GroupExecute, OtherRead, OtherExecute')
    Write-Host "Build: $launcher (Windows PowerShell under Wine$(if (-not (Get-Wine)) { '; Wine is not installed here, so it cannot run' }))"
}

# Reads the counts of an xunit result file into RESULTFILE (as the Pester stages write them).
function Write-XunitCounts([string] $Xml, [string] $ResultFile) {
    $assembly = ([xml](Get-Content -Raw $Xml)).assemblies.assembly
    # xunit counts a failure of a class fixture as an error, outside "failed": both fail the stage.
    # The names of what failed, with the first line of its message: printed again at the end of the run.
    # (Nodes read with XPath: under StrictMode a child element that is not there is an error, not $null.)
    $first = { param($node) (("$($node.SelectSingleNode('failure/message')?.InnerText)") -split "`n")[0] }
    $names = @($assembly.SelectNodes('.//test[@result="Fail"]') | ForEach-Object { "$($_.GetAttribute('name')): $(& $first $_)" }) +
        @($assembly.SelectNodes('.//errors/error') | ForEach-Object { "$($_.GetAttribute('type')) $($_.GetAttribute('name')): $(& $first $_)" })
    $count = { param($attribute) [int]$assembly.GetAttribute($attribute) }   # "errors" is also the name of an element
    @{ Passed = & $count passed; Failed = (& $count failed) + (& $count errors); Skipped = & $count skipped; FailedNames = $names } |
        ConvertTo-Json | Set-Content $ResultFile
}

# Prints what the fuzz targets and the chaos test appended to REPORT (tests/IpcPs.Tests/Fuzzing.cs, ChaosTests.cs).
function Write-FuzzReport([string] $Report, [string] $Leg, [string] $FuzzSeconds = $env:IPCPS_FUZZ_SECONDS, [string] $ChaosSeconds = $env:IPCPS_CHAOS_SECONDS) {
    if (-not (Test-Path $Report)) { return }
    Write-Host "Fuzzing ($(if ($FuzzSeconds) { $FuzzSeconds } else { 10 }) s per target) and chaos ($(if ($ChaosSeconds) { $ChaosSeconds } else { 60 }) s)${Leg}:"
    Get-Content $Report | ForEach-Object { Write-Host "  $_" }
}

# The xunit arguments that select the C# tests of a platform: tests marked [Trait("Platform", "<the other one>")] are
# left out (tests/IpcPs.Tests/PlatformTesting.cs), and -CSharpTests narrows them.
function Get-XunitFilter([string] $Other) {
    $arguments = @('-trait-', "Platform=$Other")
    if ($CSharpTests) { foreach ($m in $CSharpTests) { $arguments += @('-method', $m) } }
    $arguments
}

# Builds and runs the C# tests (tests/IpcPs.Tests, a self-executing xunit.v3 program) and writes their counts to
# RESULTFILE as the Pester stages do. Returns the program's exit code, or $null when it was stopped. TIMEOUTMINUTES is the
# stage's budget unless a longer fuzz or chaos run (Invoke-LongCSharpRun) gives its own.
function Invoke-CSharpTests([string] $ResultFile, [int] $TimeoutMinutes = (Get-StageBudget 'CSharp')) {
    $project = Join-Path $Root 'tests/IpcPs.Tests/IpcPs.Tests.csproj'
    Invoke-Dotnet build $project -c $Configuration -nologo -v quiet
    if ($LASTEXITCODE) { Write-Host "dotnet build of the C# tests failed ($LASTEXITCODE)."; return $LASTEXITCODE }
    $exe = Join-Path $Root "tests/IpcPs.Tests/bin/$Configuration/net10.0/IpcPs.Tests"
    $xml = Join-Path $Out 'csharp-result.xml'
    Remove-Item $xml -ErrorAction SilentlyContinue
    $arguments = @('-noColor', '-result-xml', $xml) + (Get-XunitFilter 'Windows')
    # The fuzz targets append "target: N inputs in S s" here (tests/IpcPs.Tests/Fuzzing.cs); printed after the run.
    $fuzzReport = Join-Path $Out 'fuzz-report.txt'
    Remove-Item $fuzzReport -ErrorAction SilentlyContinue
    $env:IPCPS_FUZZ_REPORT = $fuzzReport
    $exitCode = Invoke-TestStage @($exe) $arguments $TimeoutMinutes
    Write-FuzzReport $fuzzReport ''
    if ($null -eq $exitCode -or -not (Test-Path $xml)) { return $exitCode }
    Write-XunitCounts $xml $ResultFile
    return $exitCode
}

# The Windows leg's C# stage: the same test program published for win-x64 (once per change of its sources) and run
# under Wine, every test but those marked Linux-only.
function Invoke-WindowsCSharpTests([string] $ResultFile) {
    $published = Join-Path $WinOut 'tests'
    try { $null = Publish-SelfContained 'tests/IpcPs.Tests/IpcPs.Tests.csproj' $published @('src', 'tests/IpcPs.Tests') }
    catch { Write-Host $_.Exception.Message; return 1 }
    $xml = Join-Path $WinOut 'csharp-result.xml'
    $fuzzReport = Join-Path $WinOut 'fuzz-report.txt'
    Remove-Item $xml, $fuzzReport -ErrorAction SilentlyContinue
    # Fuzzing 3 s per target and chaos 20 s unless the caller set them: the fuzz targets exercise platform-neutral code
    # the Linux leg fuzzes for longer; here they show it runs on Windows. Keeps the leg within its budget.
    # The chaos test runs in a program of its own, after the others, each class one at a time (-parallel none): with
    # the chaos run's killed workers behind it, the program was seen to stop making progress under Wine (no test
    # running, no CPU used) in the classes that came after it; alone, and last, it has not.
    $environment = (Get-WineEnvironment) + @{
        IPCPS_FUZZ_REPORT = (ConvertTo-WinePath $fuzzReport)
        IPCPS_FUZZ_SECONDS = $(if ($env:IPCPS_FUZZ_SECONDS) { $env:IPCPS_FUZZ_SECONDS } else { '3' })
        IPCPS_CHAOS_SECONDS = $(if ($env:IPCPS_CHAOS_SECONDS) { $env:IPCPS_CHAOS_SECONDS } else { '20' })
    }
    # The programs' own arguments and budgets. (A list, not an if's output: PowerShell unrolls an array an if returns, so
    # a lone empty argument list became no run at all, and -CSharpTests under Wine ran 0 tests.)
    $runs = [Collections.Generic.List[object]]::new()
    if ($CSharpTests) { $runs.Add(@{ Arguments = @(); Minutes = (Get-StageBudget 'WindowsCSharp') }) }
    else {
        $runs.Add(@{ Arguments = @('-class-', 'IpcPs.Tests.ChaosTests'); Minutes = (Get-StageBudget 'WindowsCSharp') })
        $runs.Add(@{ Arguments = @('-class', 'IpcPs.Tests.ChaosTests'); Minutes = (Get-StageBudget 'WindowsChaos') })
    }
    $totals = @{ Passed = 0; Failed = 0; Skipped = 0; FailedNames = @() }
    $worst = 0
    $i = 0
    foreach ($run in $runs) {
        $runXml = "$xml.$i.xml"; $i++
        Remove-Item $runXml -ErrorAction SilentlyContinue
        $arguments = @('-noColor', '-parallel', 'none', '-result-xml', (ConvertTo-WinePath $runXml)) + (Get-XunitFilter 'Linux') + $run.Arguments
        $exitCode = Invoke-TestStage @((Get-Wine), (Join-Path $published 'IpcPs.Tests.exe')) $arguments $run.Minutes -Environment $environment -NoInput
        if ($null -eq $exitCode -or -not (Test-Path $runXml)) { Write-FuzzReport $fuzzReport ' under Wine' $environment.IPCPS_FUZZ_SECONDS $environment.IPCPS_CHAOS_SECONDS; return $exitCode }
        Write-XunitCounts $runXml $ResultFile
        $r = Get-Content -Raw $ResultFile | ConvertFrom-Json
        $totals.Passed += $r.Passed; $totals.Failed += $r.Failed; $totals.Skipped += $r.Skipped
        $totals.FailedNames += @($r.FailedNames)
        if ($exitCode -ne 0) { $worst = $exitCode }
    }
    Write-FuzzReport $fuzzReport ' under Wine' $environment.IPCPS_FUZZ_SECONDS $environment.IPCPS_CHAOS_SECONDS
    $totals | ConvertTo-Json | Set-Content $ResultFile
    return $worst
}

# The Windows leg's leftover check: registry records and test folders of the Windows side, in the prefix, that were
# not there before the leg (BASELINE). Named kernel objects need no check: they end with the processes that held them.
function Get-WindowsLeftovers {
    $profileDirs = Join-Path $WinePrefix 'drive_c/users/*/AppData/Local'
    @(Get-ChildItem -File -Force -Path (Join-Path $profileDirs 'IpcPs/objects/*/*') -ErrorAction SilentlyContinue | ForEach-Object { "record $($_.Name)" }) +
    @(Get-ChildItem -Force -Path (Join-Path $profileDirs 'Temp/ipcps-*') -ErrorAction SilentlyContinue | ForEach-Object { "temp $($_.Name)" })
}

# How many minutes a test stage (KIND) may run before it is stopped: -TestTimeoutMinutes, else about twice the stage's
# usual time on the 2-core CI machine, with room for a slow day (the full runs of 2026-12-04: Pester ~9 min, C# ~4, C#
# under Wine ~3 in two programs, Pester under Wine ~1.5, ~5 since 2026-12-06 (278 tests tagged Windows, 5.1 min on a
# loaded machine); up to 15 min for Pester on slower days; on 2026-12-05 a machine at half speed ran a green Pester
# stage in 27.5 min, and went past the 28 it had then with a build beside it; later that day, with a CPU-bound Python
# loop twice as slow again, 48 for Pester, cut to 45 to give the Wine Pester stage 12). Their sum with the build stays under CI's 90 minutes even when every stage hangs: a stuck test costs its
# stage, never the run.
function Get-StageBudget([string] $Kind) {
    if ($TestTimeoutMinutes) { return $TestTimeoutMinutes }
    switch ($Kind) { 'Pester' { 45 } 'CSharp' { 10 } 'WindowsCSharp' { 10 } 'WindowsChaos' { 4 } 'WindowsPester' { 12 } default { throw "No budget for a stage of kind '$Kind'." } }
}

# Which legs a Test or Bench run has: -Platform, else both for a full Test, Linux for a narrowed one or a Bench.
function Get-Legs([bool] $Narrowed) {
    $p = if ($Platform) { $Platform } elseif ($Narrowed) { 'Linux' } else { 'All' }
    @{ Linux = $p -ne 'Windows'; Windows = $p -ne 'Linux' }
}

# A pwsh makes PowerShell's own host pipe in the temp folder (CoreFxPipe_PSHost.<start>.<pid>.<app>.<name>, for
# Enter-PSHostProcess) and removes it when it exits; the tests kill child pwsh processes by the hundred, which cannot.
# Removed here, once the run is over, for the processes of the run that are gone.
function Remove-DeadHostPipes([datetime] $Since) {
    if (-not (Test-Path /proc/self)) { return }
    Get-ChildItem -Force ([IO.Path]::GetTempPath()) -Filter 'CoreFxPipe_PSHost.*' -ErrorAction SilentlyContinue |
        Where-Object { $_.LastWriteTime -ge $Since -and $_.Name -match '^CoreFxPipe_PSHost\.[0-9A-F]+\.(\d+)\.' -and -not (Test-Path "/proc/$($Matches[1])") } |
        Remove-Item -Force -ErrorAction SilentlyContinue
}

function Invoke-Test {
    $runStarted = Get-Date
    $pester = Invoke-Bootstrap
    Invoke-Build
    $legs = Get-Legs ([bool]($TestName -or $CSharpTests))
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
    # The module is importable by name in both legs (the platform smoke test imports it so, as users do).
    $env:PSModulePath = $Out + [IO.Path]::PathSeparator + $env:PSModulePath
    $totals = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $timings = [Collections.Generic.List[string]]::new()
    $failures = [Collections.Generic.List[string]]::new()   # "stage: test: first line of its message"
    # The stages, in order. Linux: Pester (cross-process tests of the module), the C# tests of Core (a self-executing
    # xunit program: unit, property and fuzz tests). Windows, under Wine: the C# tests as a win-x64 program, the Pester
    # tests tagged Windows under out/win/pwsh, the Windows leftover check. Last, the leftover check in a fresh process
    # once the others have ended. A filtered run runs only what it names: -TestName the Pester tests, -CSharpTests the C# ones.
    $pesterWanted = [bool]$TestName -or -not $CSharpTests
    $csharpWanted = [bool]$CSharpTests -or -not $TestName
    # The released-style pwsh, for the one test that uses it (not for the demo, nor a run narrowed to other tests);
    # without it that test fails, never skips.
    if ($IsLinux -and $legs.Linux -and $pesterWanted -and (-not $TestName -or @($TestName | Where-Object { $ReleasedPwshTest -like $_ -or $_ -like '*released*' }))) {
        try { Invoke-LinuxHostBuild }
        catch { Write-Warning "$LinuxHost was not made: $($_.Exception.Message)" }
    }
    $stages = @(
        if ($legs.Linux -and $pesterWanted) { @{ Name = 'Pester'; Kind = 'Pester'; Path = (Join-Path $Root 'tests/pester'); Filter = $true } }
        if ($legs.Linux -and $csharpWanted) { @{ Name = 'C#'; Kind = 'CSharp' } }
        if ($legs.Windows -and $csharpWanted) { @{ Name = 'C# (Wine)'; Kind = 'WindowsCSharp' } }
        if ($legs.Windows -and $pesterWanted) { @{ Name = 'Pester (Wine)'; Kind = 'WindowsPester' } }
        if ($legs.Windows) { @{ Name = 'Leftovers (Wine)'; Kind = 'WindowsLeftovers' } }
        @{ Name = 'Leftovers'; Kind = 'Pester'; Path = (Join-Path $Root 'tests/leak'); Filter = $false }
    )
    $wine = Get-Wine
    $windowsBaseline = @()
    if ($legs.Windows -and $wine) {
        $started = [Diagnostics.Stopwatch]::StartNew()
        Initialize-WinePrefix
        $windowsBaseline = @(Get-WindowsLeftovers)
        $timings.Add(('Wine prefix: ready in {0:n0} s' -f $started.Elapsed.TotalSeconds))
    }
    try {
        foreach ($stage in $stages) {
            $started = [Diagnostics.Stopwatch]::StartNew()
            $resultFile = Join-Path $Out 'test-result.json'
            Remove-Item $resultFile -ErrorAction SilentlyContinue
            if ($stage.Kind -like 'Windows*' -and -not $wine) {
                # Never reported as passed: a leg that could not run is a failure, said plainly.
                Write-Host ''
                Write-Host "The $($stage.Name) stage was NOT RUN: Wine is not installed on this machine (.ci/run installs it: apt-get install -y wine; build.ps1 -Platform Linux leaves the Windows leg out on purpose)."
                $totals.Failed += 1
                $timings.Add("$($stage.Name): NOT RUN (Wine is not installed), counted as 1 failed")
                continue
            }
            $exitCode = switch ($stage.Kind) {
                'CSharp' { Invoke-CSharpTests $resultFile }
                'WindowsCSharp' { Invoke-WindowsCSharpTests $resultFile }
                'WindowsPester' {
                    $arguments = @('-NoProfile', '-NonInteractive', '-File', (ConvertTo-WinePath $runner), '-PesterPath', (ConvertTo-WinePath $pester),
                        '-ModulePath', (ConvertTo-WinePath $module), '-Path', (ConvertTo-WinePath (Join-Path $Root 'tests/pester')),
                        '-ResultFile', (ConvertTo-WinePath $resultFile), '-Tag', 'Windows,WindowsOnly')
                    if ($TestName) { $arguments += @('-TestName', ($TestName -join ',')) }
                    if (Test-Path (Join-Path $WinOut 'pwsh')) { Invoke-TestStage @((Join-Path $WinOut 'pwsh')) $arguments (Get-StageBudget 'WindowsPester') -NoInput }
                    else { Write-Host 'out/win/pwsh was not built (see the warning of the Build above).'; 1 }
                }
                'WindowsLeftovers' {
                    Stop-Wine   # every Windows process of the leg has ended: what is left now stays
                    $left = @(Get-WindowsLeftovers | Where-Object { $_ -notin $windowsBaseline })
                    foreach ($l in $left) { Write-Host "Left behind by the Windows leg: $l" }
                    @{ Passed = [int]($left.Count -eq 0); Failed = [int]($left.Count -gt 0); Skipped = 0 } | ConvertTo-Json | Set-Content $resultFile
                    0
                }
                default {
                    $arguments = @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', $pester, '-ModulePath', $module,
                        '-Path', $stage.Path, '-ResultFile', $resultFile)
                    if ($TestName -and $stage.Filter) { $arguments += @('-TestName', ($TestName -join ',')) }
                    if ($stage.Filter) { $arguments += @('-ExcludeTag', 'WindowsOnly') }   # tests of what only Windows has
                    Invoke-TestStage (Get-PwshCommand) $arguments (Get-StageBudget 'Pester')
                }
            }
            if ($null -ne $exitCode -and (Test-Path $resultFile)) {
                $r = Get-Content -Raw $resultFile | ConvertFrom-Json
                $totals.Passed += $r.Passed; $totals.Failed += $r.Failed; $totals.Skipped += $r.Skipped
                $timings.Add(('{0}: {1} passed, {2} failed, {3} skipped in {4:n0} s' -f $stage.Name, $r.Passed, $r.Failed, $r.Skipped, $started.Elapsed.TotalSeconds))
                # The Wine leftover stage writes counts alone.
                foreach ($n in @($r.PSObject.Properties['FailedNames']?.Value | Where-Object { $_ })) { $failures.Add("$($stage.Name): $n") }
            } else {
                Write-Host "The $($stage.Name) stage ended without a result (exit code $($exitCode ?? 'none: stopped'))."
                $totals.Failed += 1
                $timings.Add(('{0}: no result after {1:n0} s' -f $stage.Name, $started.Elapsed.TotalSeconds))
            }
        }
    } finally {
        if ($legs.Windows -and $wine) { Remove-WinePrefix }
        Remove-DeadHostPipes $runStarted
    }
    Write-Host ''
    Write-Host 'Stages:'
    foreach ($t in $timings) { Write-Host "  $t" }
    Write-Host ''
    if ($failures.Count) {
        # Repeated here, at the end, where a reader of the run's last lines finds them (long lines cut at 1,200 characters:
        # a client timeout's figures, its thread-pool counts among them, come after its first 300).
        Write-Host 'Failed:'
        foreach ($f in $failures) { Write-Host "  $(if ($f.Length -gt 1200) { $f.Substring(0, 1200) + '…' } else { $f })" }
        Write-Host ''
    }
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
        $exitCode = Invoke-CSharpTests $resultFile ([Math]::Max((Get-StageBudget 'CSharp'), [int][Math]::Ceiling($Seconds * 40 / 60) + 10))
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
    $legs = if ($Platform) { Get-Legs $false } else { @{ Linux = $true; Windows = $false } }
    if ($legs.Windows) { Invoke-WindowsBench }
    if (-not $legs.Linux) { return }
    $env:TMPDIR = Join-Path $Out 'tmp'   # the drivers build and start .NET programs (see Invoke-Dotnet)
    $pwsh = Get-PwshCommand
    Get-ChildItem (Join-Path $Root 'bench') -Filter '*.bench.ps1' | ForEach-Object {
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $_.FullName -ModulePath (Join-Path $ModuleOut 'IpcPs.psd1')
    }
}

# bench/IpcPs.Bench (Core alone) as a win-x64 program under Wine: uncontended lock pairs/s, event ping-pong between two
# processes, queue msgs/s between two processes, 1 MiB pipe messages (docs/performance.md, "Under Wine"). One run each.
function Invoke-WindowsBench {
    if (-not (Get-Wine)) { throw 'The Windows benchmarks need Wine (apt-get install -y wine).' }
    $published = Join-Path $WinOut 'bench'
    $null = Publish-SelfContained 'bench/IpcPs.Bench/IpcPs.Bench.csproj' $published @('src/IpcPs.Core', 'bench/IpcPs.Bench')
    Initialize-WinePrefix
    $exe = Join-Path $published 'IpcPs.Bench.exe'
    try {
        Write-Host 'Windows (Wine): IpcPs.Bench — lock pairs and event ping-pong'
        if ((Invoke-TestStage @((Get-Wine), $exe) @() 60 -Environment (Get-WineEnvironment) -NoInput) -ne 0) { throw 'The Windows lock benchmark failed.' }
        Write-Host 'Windows (Wine): IpcPs.Bench msg — queue and pipe between two processes'
        if ((Invoke-TestStage @((Get-Wine), $exe) @('msg', '--count', '2000000', '--payloads', '500') 60 -Environment (Get-WineEnvironment) -NoInput) -ne 0) {
            throw 'The Windows messaging benchmark failed.'
        }
    } finally { Remove-WinePrefix }
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
