# Dot-sourced by every test file (in BeforeAll). Imports the built module and offers small helpers.
Import-Module $env:IPCPS_MODULE_PATH -Force

# A fresh object name per test: tests never share fixed names.
function New-TestName([string] $Prefix = 't') { "${Prefix}_$([guid]::NewGuid().ToString('N').Substring(0, 12))" }

# Polls CONDITION until it is true or the deadline passes (never a fixed sleep used as synchronisation).
function Wait-Until([scriptblock] $Condition, [double] $TimeoutSeconds = 30, [string] $Because = 'the condition') {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $Because." }
        Start-Sleep -Milliseconds 20
    }
}

# The start time (clock ticks since boot, field 22 of /proc/PID/stat) of the running process PID; $null when there is
# none or it is a zombie. Fields are counted from the last ')': the command name may hold spaces. Linux only.
function Get-StartTime([int] $Id) {
    $text = try { [IO.File]::ReadAllText("/proc/$Id/stat") } catch { return $null }
    $f = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
    if ($f[0] -in 'Z', 'X', 'x') { return $null }
    [long]$f[19]
}

# The programs named in DIR (each file holds one pid, written whole by a rename), as @{ Name; Pid; Start }, each running.
# JOB, the child that starts them: it must still run (its output tells why not), and the wait ends early if it ends.
function Read-Programs([string] $Dir, [string[]] $Names, $Job) {
    Wait-Until { ($Job -and -not $Job.IsAlive) -or @($Names | Where-Object { -not (Test-Path (Join-Path $Dir $_)) }).Count -eq 0 } -TimeoutSeconds 60 -Because 'the child to start its programs'
    if ($Job) { $Job.IsAlive | Should -BeTrue -Because "the child runs its programs ($(($Job | Receive-Job -Keep 2>&1) -join '; '))" }
    foreach ($n in $Names) {
        $id = [int](Get-Content -LiteralPath (Join-Path $Dir $n))
        $start = Get-StartTime $id
        $start | Should -Not -BeNullOrEmpty -Because "the program $n ($id) runs"
        [pscustomobject]@{ Name = $n; Pid = $id; Start = $start }
    }
}

# Kills those of PROGRAMS (@{ Pid; Start }) that still run: the same process, not a later one that reused the pid.
function Stop-Leftovers([object[]] $Programs) {
    foreach ($p in $Programs) { if ($p -and (Get-StartTime $p.Pid) -eq $p.Start) { kill -9 $p.Pid 2>$null } }
}

# Runs Python code with the machine's python3; returns its stdout lines. Throws on a non-zero exit.
function Invoke-Python([string] $Code) {
    $out = $Code | & python3 - 2>&1
    if ($LASTEXITCODE) { throw "python3 failed ($LASTEXITCODE): $out" }
    $out
}

$script:HasPython = [bool](Get-Command python3 -ErrorAction SilentlyContinue)

# A pwsh started the way this one was (under the .NET tool: dotnet …/pwsh.dll): the program, then the arguments that
# come before pwsh's own. Tests start sessions of their own with it, never a pwsh from PATH.
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, [Reflection.Assembly]::GetEntryAssembly().Location) }
    @($exe)
}

# Start information for such a pwsh with ARGUMENTS (pwsh's own), for a test that must hold the process (to kill it);
# PROGRAM: another pwsh executable instead (one that runs as itself).
function New-PwshStartInfo([string[]] $Arguments, [string] $Program) {
    $pwsh = @(if ($Program) { $Program } else { Get-PwshCommand })   # one element when pwsh runs as itself: still an array
    $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh | Select-Object -Skip 1) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi
}

# A process and all its descendants (found through each process's parent), the process first.
function Get-ProcessTree([int] $Id) {
    $all = @(Get-Process)
    $tree = [Collections.Generic.List[object]]::new()
    $ids = [Collections.Generic.HashSet[int]]::new()
    $all | Where-Object Id -EQ $Id | ForEach-Object { $tree.Add($_); $null = $ids.Add($_.Id) }
    do {
        $added = 0
        foreach ($proc in $all) {
            $parent = try { $proc.Parent } catch { $null }
            if ($parent -and $ids.Contains($parent.Id) -and $ids.Add($proc.Id)) { $tree.Add($proc); $added++ }
        }
    } while ($added)
    $tree
}

# Runs a pwsh of its own, as a user would, with ARGUMENTS (pwsh's own) and ENVIRONMENT added to its environment; returns
# its output lines (standard output's, then standard error's) and exit code. One not ended within TIMEOUTSECONDS is
# killed with everything it started, and fails its test with its output so far and the processes of its tree then:
# a hung child costs its test, not the whole stage (under Wine, the stage's limit is the only other bound). PROGRAM:
# another pwsh executable instead of this one's (one that runs as itself).
function Invoke-PwshProcess([string[]] $Arguments, [hashtable] $Environment = @{}, [int] $TimeoutSeconds = 300, [string] $Program) {
    $psi = New-PwshStartInfo $Arguments $Program
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [Diagnostics.Process]::Start($psi)
    try {
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            $running = (Get-ProcessTree $p.Id | ForEach-Object { "$($_.Id) $($_.ProcessName)" }) -join ', '
            $p.Kill($true)
            $null = $p.WaitForExit(10000)
            $so = if ($out.Wait(2000)) { $out.Result } else { '(no end of output)' }
            $se = if ($err.Wait(2000)) { $err.Result } else { '(no end of output)' }
            throw "pwsh $($Arguments -join ' ') did not end within $TimeoutSeconds s (killed). Its output:`n$so`n$se`nIts processes then: $running"
        }
        $p.WaitForExit()
        # Its output ends when the last process holding it does: a descendant that outlives it (or, under Wine, a console
        # host left running) must fail the test, not hang the run.
        if (-not ($out.Wait(60000) -and $err.Wait(5000))) {
            $running = (Get-Process | ForEach-Object { "$($_.Id) $($_.ProcessName)" }) -join ', '
            throw "pwsh $($Arguments -join ' ') exited ($($p.ExitCode)), but its output did not end within 60 s: another process holds it. Processes now: $running"
        }
        [pscustomobject]@{ Lines = @(($out.Result, $err.Result -join "`n") -split "`r?`n" | Where-Object { $_ }); ExitCode = $p.ExitCode }
    } finally { $p.Dispose() }
}

# Invoke-PwshProcess of COMMAND after an Import-Module of the module under test.
function Invoke-Pwsh([string] $Command, [hashtable] $Environment = @{}, [int] $TimeoutSeconds = 300) {
    Invoke-PwshProcess @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$env:IPCPS_MODULE_PATH'; $Command") $Environment $TimeoutSeconds
}

# The error id of the first error a script block raises (terminating or not).
function Get-ErrorId([scriptblock] $Script) {
    try { & $Script -ErrorAction Stop | Out-Null } catch { return $_.FullyQualifiedErrorId }
    return $null
}

# Runs a script block in a PowerShell instance of its own, so a test can stop it as Ctrl+C would.
function Start-Stoppable([scriptblock] $Script, [object[]] $Arguments = @()) {
    # One script, not a batch of statements: stopping a batch and disposing it races PowerShell's own work item.
    $ps = [powershell]::Create()
    $null = $ps.AddScript("Import-Module '$env:IPCPS_MODULE_PATH'; & { $Script } @args")
    foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
    [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
}

# Where the registry keeps its records on Linux (docs/design.md, "Lifecycle"); Windows keeps them under %LOCALAPPDATA%.
$script:RegistryDir = if ($IsLinux) { "/dev/shm/.ipcps-$(& id -u)" } else { $null }

# The exception a script block throws, unwrapped from PowerShell's MethodInvocationException.
function Get-ThrownException([scriptblock] $Script) {
    try { & $Script | Out-Null } catch {
        $e = $_.Exception
        while ($e -is [System.Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
        return $e
    }
    return $null
}

# A loopback port free now, BELOW the kernel's ephemeral range: a port picked inside it (as binding port 0 does) can be
# taken, between the pick and the server's bind, as the local port of any outgoing connection the suite makes.
function Get-TestPort {
    $low = 32768
    if (Test-Path /proc/sys/net/ipv4/ip_local_port_range) {
        $first = [int]((Get-Content -Raw /proc/sys/net/ipv4/ip_local_port_range).Trim() -split '\s+')[0]
        if ($first -ge 8192) { $low = $first }
    }
    for ($attempt = 1; ; $attempt++) {
        $port = Get-Random -Minimum ([Math]::Max(1024, $low - 12000)) -Maximum $low
        try { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $port); $l.Start(); $l.Stop(); return $port }
        catch [Net.Sockets.SocketException] { if ($attempt -ge 100) { throw } }
    }
}

# A redis-server of the test's own (loopback, a free port, a random password, nothing saved), or $null when redis-server
# is not installed (.ci/run installs it): Port, Password, Uri (redis://:password@127.0.0.1:port/0), Process, Dir.
# FirstPort: the port of the first attempt (a test of this function). A server that cannot bind its port (taken meanwhile
# by another pick) starts again on another.
function Start-TestRedis([int] $FirstPort) {
    if (-not (Get-Command redis-server -ErrorAction SilentlyContinue)) { return $null }
    $dir = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-redis')
    New-Item -ItemType Directory $dir | Out-Null
    $password = [guid]::NewGuid().ToString('N')
    for ($attempt = 1; ; $attempt++) {
        $port = if ($attempt -eq 1 -and $FirstPort) { $FirstPort } else { Get-TestPort }
        $psi = [Diagnostics.ProcessStartInfo]::new('redis-server')
        foreach ($a in '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', $dir, '--requirepass', $password) { $psi.ArgumentList.Add("$a") }
        $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
        $redis = [pscustomobject]@{ Process = [Diagnostics.Process]::Start($psi); Port = $port; Password = $password; Dir = $dir; Uri = "redis://:$password@127.0.0.1:$port/0" }
        # Listening means answering this server's password (a listener of another on the port would not know it).
        Wait-Until -Because 'redis-server to listen, or to end' {
            $redis.Process.HasExited -or $(try {
                $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port)
                try {
                    $s = $c.GetStream(); $s.ReadTimeout = 2000
                    $b = [Text.Encoding]::ASCII.GetBytes("AUTH $password`r`nPING`r`n"); $s.Write($b, 0, $b.Length)
                    $buf = [byte[]]::new(64); $n = 0
                    while ($n -lt 12) { $r = $s.Read($buf, $n, $buf.Length - $n); if ($r -le 0) { break }; $n += $r }
                    [Text.Encoding]::ASCII.GetString($buf, 0, $n).Contains('+PONG')
                } finally { $c.Dispose() }
            } catch { $false })
        }
        if (-not $redis.Process.HasExited) { return $redis }
        $redis.Process.Dispose()
        if ($attempt -ge 5) { throw "redis-server exited at its start 5 times (last port $port)." }
    }
}

# Runs a redis-cli command on the file's test server, $script:RedisServer (the password on the command line is the test
# server's own).
function Invoke-Rcli { redis-cli -p $script:RedisServer.Port --no-auth-warning -a $script:RedisServer.Password @args }

# A name of PREFIX and ten random hex digits.
function New-Name([string] $Prefix) { "$Prefix-$([guid]::NewGuid().ToString('N').Substring(0, 10))" }

# The error SCRIPT writes or throws, whether terminating or not; $null when none.
function Get-Failure([scriptblock] $Script) {
    try { & $Script -ErrorAction Stop; $null } catch { $_ }
}

# Ends a server Start-TestRedis started and removes its folder.
function Stop-TestRedis($Redis) {
    if (-not $Redis) { return }
    if (-not $Redis.Process.HasExited) { $Redis.Process.Kill(); $Redis.Process.WaitForExit() }
    $Redis.Process.Dispose()
    Remove-Item -Recurse -Force $Redis.Dir -ErrorAction SilentlyContinue
}

# Runs SCRIPT in a child with ARGS, waits for it, returns its output; fails the test on a child error.
function Invoke-Child([scriptblock] $Script, [object[]] $ArgumentList = @()) {
    $job = Start-IpcProcess -ScriptBlock $Script -ArgumentList $ArgumentList
    try {
        $null = $job | Wait-Job -Timeout 120
        $job.State | Should -Be 'Completed' -Because (($job | Receive-Job -Keep -ErrorAction Continue 2>&1) | Out-String)
        $job | Receive-Job
    } finally { $job | Remove-Job -Force }
}

# A "manager" that accepts and never says hello (Linux): a folder of this user's (mode 700: a key is only taken from a
# folder no one else may enter) with a key file and a listening Unix socket. A proxy of it (.Manager) blocks in the
# handshake once .Listener has accepted it. Remove-SilentManager ends it.
function New-SilentManager {
    $dir = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-silent')
    $null = New-Item -ItemType Directory $dir
    $listener = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Unspecified)
    $silent = [pscustomobject]@{ Dir = $dir; Listener = $listener; Manager = $null }
    try {
        chmod 700 $dir
        [IO.File]::WriteAllBytes((Join-Path $dir authkey), [byte[]]::new(32))
        $listener.Bind([Net.Sockets.UnixDomainSocketEndPoint]::new((Join-Path $dir socket)))
        $listener.Listen(1)
        $silent.Manager = [IpcPs.IpcManager]::FromReference([IpcPs.ManagerReference]::new("unix:$(Join-Path $dir socket)", 0, 'Manager', $dir))
        $silent
    } catch {
        Remove-SilentManager $silent
        throw
    }
}

function Remove-SilentManager($Silent) {
    $Silent.Listener.Dispose()
    Remove-Item -Recurse -Force -LiteralPath $Silent.Dir
}

# What the child pwsh of a limit test (FdLimit, StartLimits: LimitChild.ps1) wrote in LINES: its results, one line
# "TAG <json>" a case (by case; the last one of a case), and its last line "TAG-END <pid> <records>".
# @{ Results; EndPid; EndRecords } (the two $null when that line is missing).
function Read-LimitResults([string[]] $Lines, [string] $Tag) {
    $end = @($Lines | Where-Object { $_.StartsWith("$Tag-END ") })
    $results = @{}
    foreach ($line in $Lines) {
        if ($line.StartsWith("$Tag ")) { $r = $line.Substring($Tag.Length + 1) | ConvertFrom-Json; $results[$r.Case] = $r }
    }
    @{ Results = $results; EndPid = $(if ($end) { ($end[0] -split ' ')[1] }); EndRecords = $(if ($end) { (($end[0] -split ' ', 3)[2]).Trim() }) }
}
