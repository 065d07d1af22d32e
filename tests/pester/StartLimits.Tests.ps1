# A session that cannot start a process (RLIMIT_NPROC reached: fork fails with EAGAIN, "Resource temporarily
# unavailable"). Every command that starts a child pwsh fails with a typed error (IpcPlatformException, ErrorId
# IpcPlatformError, category LimitsExceeded, the operation and the errno in its message), never a raw Win32Exception;
# it leaves nothing behind; a pool call writes the results that came before; a spare that cannot start is given up, not
# retried; and the same command works once processes can start again. Linux only (untagged).
#
# Root is not held to RLIMIT_NPROC (the kernel exempts uid 0, and CAP_SYS_RESOURCE/CAP_SYS_ADMIN): run as root, the
# child pwsh runs as nobody (setpriv, no capabilities), from a copy of PowerShell and of the module in a folder of its
# own (the originals may be under root's 0700 home), with HOME and TMPDIR there. The child lowers its own soft limit
# (setrlimit; the hard one stays, so it can raise it back without privilege) below the tasks its user has, so that no
# process and no thread of its can start: not one more fork, whatever else runs.
BeforeDiscovery {
    $script:Cases = @(
        'Start-IpcProcess', 'Start-IpcProcess (spares on)', 'New-IpcPool', 'Invoke-IpcPool -ThrottleLimit',
        'Invoke-IpcPool -Pool (a worker dies)', 'Start-IpcManager', 'Start-IpcProcess (a warm spare ready)'
    ) | ForEach-Object { @{ Case = $_ } }
}

BeforeAll {
    . $PSScriptRoot/Common.ps1

    $script:Child = @'
$ErrorActionPreference = 'Stop'
. '__LIMITCHILD__'   # LimitChild.ps1: New-Name, Get-Children, Get-Records, LimitThreads, Get-Snapshot, Get-Left
# RLIMIT_NPROC (6): this process's soft limit, lowered and raised back (the hard limit stays).
Add-Type -TypeDefinition @"
using System.Runtime.InteropServices;
public static class NprocLimit {
    [StructLayout(LayoutKind.Sequential)] struct RLimit { public ulong Cur, Max; }
    [DllImport("libc", SetLastError = true)] static extern int getrlimit(int resource, out RLimit limit);
    [DllImport("libc", SetLastError = true)] static extern int setrlimit(int resource, ref RLimit limit);
    static ulong _saved;
    public static void Lower() {
        RLimit l; if (getrlimit(6, out l) != 0) throw new System.ComponentModel.Win32Exception();
        _saved = l.Cur; l.Cur = 1;
        if (setrlimit(6, ref l) != 0) throw new System.ComponentModel.Win32Exception();
    }
    public static void Raise() {
        RLimit l; if (getrlimit(6, out l) != 0) throw new System.ComponentModel.Win32Exception();
        l.Cur = _saved;
        if (setrlimit(6, ref l) != 0) throw new System.ComponentModel.Win32Exception();
    }
}
"@

# CALL with no process able to start; its output as it came (a call that fails at its end keeps what it wrote first);
# then what it left (Get-Left). GONE: processes that must have ended. The thread pool is warmed first (LimitThreads:
# it cannot grow under the limit).
function Test-Case([string] $Case, [scriptblock] $Call, [string[]] $Paths = @(), [string[]] $Gone = @(), [scriptblock] $After) {
    $r = [ordered]@{ Case = $Case; Type = $null; Id = $null; Category = $null; Message = $null; Output = $null; Errors = @(); Left = @(); After = $null; Again = $null }
    [LimitThreads]::Warm(16)
    $before = Get-Snapshot
    $out = [Collections.Generic.List[string]]::new()
    $errors = [Collections.Generic.List[string]]::new()
    [NprocLimit]::Lower()
    # Errors the call writes (not terminating) are collected apart: the call redirects them (2>&1).
    try { & $Call | ForEach-Object { if ($_ -is [Management.Automation.ErrorRecord]) { $errors.Add(($_.FullyQualifiedErrorId -split ',')[0]) } else { $out.Add("$_") } } }
    catch { $r.Type = $_.Exception.GetType().FullName; $r.Id = $_.FullyQualifiedErrorId; $r.Category = "$($_.CategoryInfo.Category)"; $r.Message = $_.Exception.Message }
    finally {
        if ($After) { $r.After = try { & $After } catch { "failed: $_" } }   # still under the limit
        [NprocLimit]::Raise()
    }
    $r.Output = $out -join ','
    $r.Errors = @($errors)
    $r.Left = @(Get-Left $before $Paths $Gone -GoneAs 'dead worker')
    $r
}
function Write-Result($r) { [Console]::Out.WriteLine('STARTLIMIT ' + ($r | ConvertTo-Json -Compress)) }

$env:IPCPS_SPARES = '0'
$starting = [IpcPs.Hosting.SpareChildren].GetField('_starting', [Reflection.BindingFlags]'NonPublic,Static')   # spares starting now
$pool = New-IpcPool -Size 1
$n = New-Name 'slm'
$cases = [ordered]@{
    'Start-IpcProcess' = @{ Call = { Start-IpcProcess -NoSpare { 1 } }; Again = { Start-IpcProcess -NoSpare { 1 } | Receive-Job -Wait -AutoRemoveJob } }
    'New-IpcPool' = @{ Call = { New-IpcPool -Size 2 }; Again = { $p = New-IpcPool -Size 2; $p.Size; Remove-IpcPool $p } }
    'Invoke-IpcPool -ThrottleLimit' = @{ Call = { 1 | Invoke-IpcPool -ThrottleLimit 1 { $_ } }; Again = { 1 | Invoke-IpcPool -ThrottleLimit 1 { $_ } } }
    'Start-IpcManager' = @{ Call = { Start-IpcManager -Name $n }; Again = { $m = Start-IpcManager -Name $n; [bool]$m.Address; Stop-IpcManager $m }
        Paths = @("$temp/ipcps-managers-$uid/$n") }
    # Item 2 ends its worker; none can start in its place. Item 1's result came first (one item per chunk): it is
    # written, then item 2's PoolWorkerDied, then the call's error. The dead slot is filled by the next call.
    'Invoke-IpcPool -Pool (a worker dies)' = @{ Call = { 1, 2, 3 | Invoke-IpcPool -Pool $pool -ChunkSize 1 -Ordered { if ($_ -eq 2) { [Environment]::Exit(3) }; $_ } -ErrorAction Continue 2>&1 }
        Again = { 5, 6 | Invoke-IpcPool -Pool $pool -Ordered { $_ } }; Gone = { $pool.Pids } }
    # No spare is ready: the start goes cold and fails; the spare the start asked for cannot start either, and is given
    # up (its filler ends: none is starting), not retried. After: still under the limit, kept short (a runtime that needs
    # a thread of its own meanwhile, a tiered-compilation worker, cannot start one, and ends the process: "Out of memory.").
    'Start-IpcProcess (spares on)' = @{ Spares = $true; Call = { Start-IpcProcess { 1 } }
        After = { $d = [DateTime]::UtcNow.AddSeconds(60); while ($starting.GetValue($null) -ne 0 -and [DateTime]::UtcNow -lt $d) { Start-Sleep -Milliseconds 20 }
            "starting: $($starting.GetValue($null)), spares: $(@([IpcPs.Hosting.SpareChildren]::Pids).Count)" }
        Again = { Start-IpcProcess -NoSpare { 1 } | Receive-Job -Wait -AutoRemoveJob } }
    # A warm spare is ready, so no process need start: taking it needs threads of this session (the job's readers),
    # which cannot start either. The start fails typed, and the spare taken is ended, not left running (before: a
    # ChildProcessFailed carrying an OutOfMemoryException). No spare is wanted after it (none could start anyway).
    'Start-IpcProcess (a warm spare ready)' = @{ Spares = $true
        Before = { $null = Start-IpcProcess { 1 } | Receive-Job -Wait -AutoRemoveJob   # a spare is asked for after a start
            if (-not [IpcPs.Hosting.SpareChildren]::WaitSettled([timespan]::FromSeconds(120))) { throw 'no spare became ready' } }
        Call = { try { Start-IpcProcess { 1 } } finally { $env:IPCPS_SPARES = '0' } }
        Gone = { [IpcPs.Hosting.SpareChildren]::Pids }
        Again = { Start-IpcProcess -NoSpare { 1 } | Receive-Job -Wait -AutoRemoveJob } }
}
foreach ($c in $cases.Values) { $env:IPCPS_SPARES = '0'; $null = & $c.Again }   # warm: assemblies loaded, first uses made
$null = @(Get-Children), @(Get-Records), @(Get-ManagerParents), (Test-Path /), ([ordered]@{ a = 1 } | ConvertTo-Json -Compress)
$results = foreach ($name in $cases.Keys) {
    $c = $cases[$name]
    $env:IPCPS_SPARES = if ($c.Spares) { '1' } else { '0' }
    if ($c.Before) { & $c.Before }
    $r = Test-Case $name $c.Call $c.Paths -Gone @(if ($c.Gone) { & $c.Gone | ForEach-Object { "$_" } }) -After $c.After
    $env:IPCPS_SPARES = '0'
    [IpcPs.Hosting.SpareChildren]::EndAll()
    Write-Result $r
    $r.Again = Invoke-Again $c.Again
    Write-Result $r
}
Remove-IpcPool $pool
[Console]::Out.WriteLine("STARTLIMIT-END $PID $(@(Get-Records) -join ',')")
'@

    # As root: a folder anyone can use, with copies of PowerShell and the module, removed after.
    $script:Root = (& id -u).Trim() -eq '0'
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "ipcps-startlimit-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $null = New-Item -ItemType Directory $script:Work
    try {
        $module = Split-Path $env:IPCPS_MODULE_PATH
        $pwsh = @(Get-PwshCommand)
        if ($script:Root) {
            $childHome = Join-Path $script:Work 'home'
            $null = New-Item -ItemType Directory $childHome
            Copy-Item -Recurse $PSHOME (Join-Path $script:Work 'pwsh')
            Copy-Item -Recurse $module (Join-Path $script:Work 'IpcPs')
            $manifest = Join-Path $script:Work "IpcPs/$(Split-Path -Leaf $env:IPCPS_MODULE_PATH)"
            # The copy of pwsh: pwsh.dll under dotnet (the runtime is readable by all), or the pwsh executable.
            $copy = if ($pwsh.Count -gt 1) { @($pwsh[0], (Join-Path $script:Work "pwsh/$(Split-Path -Leaf $pwsh[1])")) } else { @(Join-Path $script:Work "pwsh/$(Split-Path -Leaf $pwsh[0])") }
            $program = 'setpriv'
            $prefix = @('--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--') + $copy
            $environment = @{ HOME = $childHome; TMPDIR = $childHome; XDG_CACHE_HOME = "$childHome/.cache"; XDG_DATA_HOME = "$childHome/.local/share"; XDG_CONFIG_HOME = "$childHome/.config" }
        } else {
            $manifest = $env:IPCPS_MODULE_PATH
            $program = $pwsh[0]
            $prefix = @($pwsh | Select-Object -Skip 1)
            $environment = @{}
        }
        $scriptFile = Join-Path $script:Work 'child.ps1'
        Copy-Item (Join-Path $PSScriptRoot 'LimitChild.ps1') $script:Work   # nobody reads it there too
        [IO.File]::WriteAllText($scriptFile, $script:Child.Replace('__LIMITCHILD__', (Join-Path $script:Work 'LimitChild.ps1')))
        & chmod -R a+rwX $script:Work
        $psi = [Diagnostics.ProcessStartInfo]::new($program)
        foreach ($a in $prefix + @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$manifest'; . '$scriptFile'")) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.WorkingDirectory = $script:Work   # nobody's too: this one's may be under root's home
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        foreach ($k in $environment.Keys) { $psi.Environment[$k] = $environment[$k] }
        $psi.Environment['IPCPS_SPARES'] = '0'
        $psi.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
        $p = [Diagnostics.Process]::Start($psi)
        try {
            $stdout = $p.StandardOutput.ReadToEndAsync()
            $stderr = $p.StandardError.ReadToEndAsync()
            if (-not $p.WaitForExit(600000)) { $p.Kill($true); $null = $p.WaitForExit(10000) }
            $p.WaitForExit()
            $null = $stdout.Wait(60000), $stderr.Wait(5000)
            $script:Lines = @(("$($stdout.Result)", "$($stderr.Result)" -join "`n") -split "`r?`n" | Where-Object { $_ })
            $script:ExitCode = $p.ExitCode
        } finally { $p.Dispose() }
    } finally {
        Remove-Item -Recurse -Force -LiteralPath $script:Work -ErrorAction SilentlyContinue
    }
    $script:Output = $script:Lines -join "`n"
    $read = Read-LimitResults $script:Lines 'STARTLIMIT'
    $script:Results, $script:EndPid, $script:EndRecords = $read.Results, $read.EndPid, $read.EndRecords
}

Describe 'A session that cannot start a process (RLIMIT_NPROC)' {
    It '<Case> fails with IpcPlatformError, leaves nothing, and works again' -TestCases $script:Cases {
        param($Case)
        $r = $script:Results[$Case]
        $r | Should -Not -BeNullOrEmpty -Because "the child ran the case (its output: $script:Output)"
        $r.Type | Should -Be 'IpcPs.IpcPlatformException' -Because "$Case with no process able to start: $($r.Id): $($r.Message)"
        $r.Id | Should -BeLike 'IpcPlatformError,*'
        $r.Category | Should -Be 'LimitsExceeded'
        $r.Message | Should -Match '^Starting (the|a) .+ failed: resource temporarily unavailable \(errno 11\)\.$'
        @($r.Left) | Should -BeNullOrEmpty -Because 'a failed command leaves nothing behind'
        $r.Again | Should -Not -BeNullOrEmpty -Because "the session ran the command again (its output: $script:Output)"
        $r.Again | Should -Not -BeLike 'failed:*' -Because 'the command works once processes can start'
    }

    It 'a pool call whose dead worker cannot be replaced writes the results that came first, and the death' {
        $r = $script:Results['Invoke-IpcPool -Pool (a worker dies)']
        $r | Should -Not -BeNullOrEmpty -Because "the child ran the case (its output: $script:Output)"
        $r.Output | Should -Be '1'
        $r.Errors | Should -Be @('PoolWorkerDied')
        $r.Again | Should -Be '5,6'
    }

    It 'a spare that cannot start is given up, not retried' {
        $r = $script:Results['Start-IpcProcess (spares on)']
        $r | Should -Not -BeNullOrEmpty -Because "the child ran the case (its output: $script:Output)"
        $r.After | Should -Be 'starting: 0, spares: 0'
    }

    It 'the session goes on to its end, and leaves nothing in the registry' {
        $script:ExitCode | Should -Be 0 -Because "the child pwsh ran every case and cleaned up (its output: $script:Output)"
        $script:EndPid | Should -Not -BeNullOrEmpty
        $script:EndRecords | Should -BeNullOrEmpty -Because 'the session closed or removed everything it had'
    }
}
