# The Redis backend as the module loads it: importing IpcPs loads no StackExchange.Redis; the first Connect-IpcBackend
# loads it into a load context of its own, beside PowerShell's own assemblies; objects work through the backend.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:RedisServer = Start-TestRedis
    $script:HasRedis = [bool]$script:RedisServer
    if ($script:HasRedis) {
        $script:RedisDir = $script:RedisServer.Dir
        $script:RedisPort = $script:RedisServer.Port
        $script:RedisPassword = $script:RedisServer.Password
    }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Redis backend loading' {
    It 'loads StackExchange.Redis only on first use, in a load context of its own, and works beside PowerShell''s assemblies' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $script = Join-Path $script:RedisDir 'probe.ps1'
        @'
param($ModulePath, $Port)
$ErrorActionPreference = 'Stop'
function Loaded { [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'StackExchange.Redis' } }
Import-Module $ModulePath
$afterImport = @(Loaded).Count
$password = [Console]::In.ReadLine()   # the credential comes on stdin, never on the command line
$b = Connect-IpcBackend "redis://:$password@127.0.0.1:$Port/0" -ConnectTimeout 5
$q = $b.Create('Queue', "t_$([guid]::NewGuid().ToString('N').Substring(0, 12))", [IpcPs.IpcBackendOptions]::new())
$q.Put(@{ answer = 42 })
$got = $q.Get()
$isChannel = $q -is [IpcPs.IMessageChannel]
$lock = $b.Create('Lock', "t_$([guid]::NewGuid().ToString('N').Substring(0, 12))", [IpcPs.IpcBackendOptions]::new())
$acquired = $lock.Acquire($true, 5); $token = $lock.Token; $lock.Release()
$isLockable = $lock -is [IpcPs.ILockable]
$q.Unlink(); $lock.Unlink()
$se = @(Loaded)
[pscustomobject]@{
    AfterImport = $afterImport
    Contexts = @($se | ForEach-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
    DefaultHasIt = @([Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -eq 'StackExchange.Redis' }).Count
    Got = $got.answer; IsChannel = $isChannel; IsLockable = $isLockable; Acquired = $acquired; Token = $token
    Address = $b.Address
} | ConvertTo-Json -Compress
'@ | Set-Content $script
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-File', $script, $env:IPCPS_MODULE_PATH, $script:RedisPort)
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $p.StandardInput.WriteLine($script:RedisPassword); $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEnd(); $err = $p.StandardError.ReadToEnd()
        $p.WaitForExit(60000) | Should -BeTrue
        $p.ExitCode | Should -Be 0 -Because $err
        $r = $out.Trim().Split("`n")[-1] | ConvertFrom-Json
        $r.AfterImport | Should -Be 0                      # importing IpcPs loads no StackExchange.Redis
        $r.Contexts | Should -Be @('IpcPs.Redis')          # loaded once, in the backend's own context
        $r.DefaultHasIt | Should -Be 0
        $r.Got | Should -Be 42
        $r.IsChannel | Should -BeTrue
        $r.IsLockable | Should -BeTrue
        $r.Acquired | Should -BeTrue
        $r.Token | Should -BeGreaterThan 0
        $r.Address | Should -Be "redis://127.0.0.1:$($script:RedisPort)/0"   # no password
    }

    It 'reports a wrong password as BackendAuthenticationFailed without showing it' {
        if (-not $script:HasRedis) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)'; return }
        $e = $null
        try { Connect-IpcBackend "redis://:not-the-password@127.0.0.1:$($script:RedisPort)" -ConnectTimeout 2 -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'BackendAuthenticationFailed*'
        "$($e.TargetObject) $($e.Exception.Message)" | Should -Not -Match 'not-the-password'
    }
}
