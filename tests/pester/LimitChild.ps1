# What the child pwsh of FdLimit.Tests.ps1, StartLimits.Tests.ps1 and PoolWorkerDied.Tests.ps1 shares: that child runs
# under a lowered limit (RLIMIT_NOFILE, RLIMIT_NPROC) and reads from /proc and the registry what a command left. It
# dot-sources this file (never Pester: not a *.Tests.ps1 file), before the limit is lowered. Linux only.
$uid = (& id -u).Trim()
$registry = "/dev/shm/.ipcps-$uid"
$temp = [IO.Path]::GetTempPath()
function New-Name([string] $Prefix) { "${Prefix}_$([guid]::NewGuid().ToString('N').Substring(0, 12))" }
function Get-FdCount { [IO.Directory]::GetFileSystemEntries('/proc/self/fd').Count }
function Get-Children {
    foreach ($task in [IO.Directory]::GetDirectories("/proc/$PID/task")) {
        try { ([IO.File]::ReadAllText("$task/children")).Trim() -split ' ' | Where-Object { $_ } } catch [IO.IOException] { }
    }
}
# This process's registry records (creator or holder), by name. The folder goes with its last record (anyone's):
# gone, it holds none.
function Get-Records {
    $files = try { [IO.Directory]::GetFiles($registry) } catch [IO.DirectoryNotFoundException] { @() }
    foreach ($f in $files) {
        try { if ([IO.File]::ReadAllText($f) -match "(?m)^(creator|attached)=$($PID):") { [IO.Path]::GetFileName($f) } } catch [IO.IOException] { }
    }
}
function Get-ManagerParents { [IO.Directory]::GetDirectories($temp, "ipcps-managers-$uid*") }

# .NET ends a process whose thread pool cannot start a thread it needs ("Out of memory.": a thread takes two
# descriptors, and none can start under RLIMIT_NPROC; docs/design.md, "Known limits"). Before each call the pool is
# given idle threads, made while the limit is not reached, so that work queued during the call (a child's exit, a
# pipe's read) finds one.
Add-Type -TypeDefinition @"
public static class LimitThreads {
    public static void Warm(int count) {
        System.Threading.ThreadPool.SetMinThreads(count, count);
        using (var running = new System.Threading.CountdownEvent(count)) {
            var tasks = new System.Threading.Tasks.Task[count];
            for (int i = 0; i < count; i++) tasks[i] = System.Threading.Tasks.Task.Run(() => { running.Signal(); running.Wait(30000); });
            System.Threading.Tasks.Task.WaitAll(tasks, 60000);
        }
    }
}
"@

# RLIMIT_NOFILE: this process's limit set to the descriptors it has now and 64 more (children inherit it); then every
# one left taken (opens of /dev/null, held) and given back.
function Set-DescriptorLimit {
    $limit = (Get-FdCount) + 64
    & prlimit --pid $PID "--nofile=$($limit):$($limit)"
    if ($LASTEXITCODE) { throw "prlimit failed ($LASTEXITCODE)" }
}
$held = [Collections.Generic.List[IO.FileStream]]::new()
function Use-AllDescriptors {
    try { while ($true) { $held.Add([IO.File]::OpenRead('/dev/null')) } }
    catch { if ($_.Exception.InnerException.HResult -ne 24) { throw } }   # EMFILE: none left
}
function Stop-UsingDescriptors { foreach ($h in $held) { $h.Dispose() }; $held.Clear() }

# What a case may leave, taken before its call; Get-Left compares against it.
function Get-Snapshot { @{ Children = @(Get-Children); Records = @(Get-Records); Parents = @(Get-ManagerParents) } }
# What the call left since SNAPSHOT, polled (with a deadline) until gone: a child ends by itself once its stdin closes.
# SPARES: new children allowed (a spare); GONE: processes that must have ended; PATHS: files that must not be there;
# DESCRIPTORS (when not -1): how many were open before. Run with the limit lifted again.
function Get-Left($Snapshot, [string[]] $Paths = @(), [string[]] $Gone = @(), [string] $GoneAs, [int] $Spares = 0, [int] $Descriptors = -1) {
    $deadline = [DateTime]::UtcNow.AddSeconds(90)
    do {
        $now = @(Get-Children)
        $left = @(
            if ($Descriptors -ge 0 -and (Get-FdCount) -gt $Descriptors) { "$(Get-FdCount) descriptors open, $Descriptors before" }
            $new = @($now | Where-Object { $_ -notin $Snapshot.Children })
            if ($new.Count -gt $Spares) { $new | ForEach-Object { "child process $_" } }
            $Gone | Where-Object { $_ -in $now } | ForEach-Object { "child process $_ ($GoneAs)" }
            Get-Records | Where-Object { $_ -notin $Snapshot.Records } | ForEach-Object { "registry record $_" }
            Get-ManagerParents | Where-Object { $_ -notin $Snapshot.Parents } | ForEach-Object { "folder $_" }
            $Paths | Where-Object { $_ -and (Test-Path -LiteralPath $_) } | ForEach-Object { "path $_" }
        )
        if (-not $left) { break }
        Start-Sleep -Milliseconds 50
    } while ([DateTime]::UtcNow -lt $deadline)
    $left
}

function Invoke-Again([scriptblock] $Again) {
    try { @(& $Again) -join ',' } catch { "failed: $($_.Exception.GetType().FullName): $($_.Exception.Message)" }
}
