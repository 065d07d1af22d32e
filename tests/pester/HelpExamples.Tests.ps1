# Every example of the help runs as printed: each ```powershell block of a cmdlet page's EXAMPLES and of about_IpcPs,
# in a fresh pwsh of its own with the built module imported, must end without an error (exit code 0, nothing on
# the error stream). The expected output shown under an example is not compared (pids, names and times vary).
# Examples that use a Redis backend read its address from $env:IPCPS_BACKEND (their page says so): they run against a
# redis-server this file starts (skipped, with the reason, only where redis-server is not installed).
BeforeDiscovery {
    $docs = Join-Path $PSScriptRoot '../../docs'
    $script:Examples = foreach ($page in Get-ChildItem $docs -Filter '*.md' | Where-Object Name -NotIn 'design.md', 'performance.md' | Sort-Object Name) {
        $lines = (Get-Content -Raw $page.FullName) -split '\r?\n'
        $isAbout = $page.Name -like 'about_*'
        $section = ''; $title = ''; $code = $null; $n = 0
        foreach ($line in $lines) {
            if ($null -ne $code) {
                if ($line -match '^```\s*$') {
                    $n++
                    @{ Page = $page.BaseName; Title = $(if ($title) { $title } else { "block $n" }); Code = $code -join "`n" }
                    $code = $null
                } else { $code += $line }
                continue
            }
            if ($line -match '^## (.+)$') { $section = $Matches[1]; $title = ''; continue }
            if ($line -match '^### (.+)$') { $title = $Matches[1]; continue }
            if ($line -match '^```powershell\s*$' -and ($isAbout -or $section -eq 'EXAMPLES')) { $code = @() }
        }
    }
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:RedisServer = Start-TestRedis

    # What a child pwsh wrote to its error stream, as text. With stderr redirected, pwsh writes its streams there as
    # CLIXML: progress records (Invoke-IpcPool's, Write-Progress) are not errors, so only the error strings count.
    function Get-ErrorText([string] $Text) {
        if (-not $Text.StartsWith('#< CLIXML')) { return $Text.Trim() }
        $strings = [regex]::Matches($Text, '<S S="Error">(.*?)</S>') | ForEach-Object {
            [regex]::Replace($_.Groups[1].Value, '_x([0-9A-Fa-f]{4})_', { param($m) [string][char][Convert]::ToInt32($m.Groups[1].Value, 16) })
        }
        [Net.WebUtility]::HtmlDecode(($strings -join '')).Trim()
    }

    # Runs CODE in a new pwsh (started as this one was), in an empty folder of its own; returns exit code and output.
    function Invoke-HelpExample([string] $Code, [hashtable] $Environment = @{}) {
        $folder = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-example')
        New-Item -ItemType Directory $folder | Out-Null
        try {
            $script = "Import-Module '$env:IPCPS_MODULE_PATH'`n" + $Code
            $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
            $psi.WorkingDirectory = $folder
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.RedirectStandardInput = $true
            $psi.Environment['NO_COLOR'] = '1'
            foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
            $p = [Diagnostics.Process]::Start($psi)
            try {
                $p.StandardInput.Close()
                $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
                if (-not $p.WaitForExit(180000)) { $p.Kill($true); $p.WaitForExit(); throw "The example did not end within 180 s. Output so far: $($out.Result)" }
                [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $out.Result; Errors = (Get-ErrorText $err.Result) }
            } finally { $p.Dispose() }
        } finally { Remove-Item -Recurse -Force $folder -ErrorAction SilentlyContinue }
    }
}

AfterAll {
    Stop-TestRedis $script:RedisServer
}

Describe 'Help examples' {
    It 'finds the examples of every help page (more than a hundred)' {
        $Examples.Count | Should -BeGreaterThan 100
        @($Examples | ForEach-Object { $_.Page } | Sort-Object -Unique).Count | Should -BeGreaterThan 30
        @($Examples | Where-Object { $_.Page -eq 'about_IpcPs' }).Count | Should -BeGreaterThan 5
    }

    It '<Page>: <Title>' -ForEach $Examples {
        $Code | Should -Not -BeNullOrEmpty
        if ($Code -match 'python3' -and -not $HasPython) { Set-ItResult -Skipped -Because 'python3 is not installed'; return }
        $environment = @{}
        if ($Code -match 'IPCPS_BACKEND') {
            if (-not $RedisServer) { Set-ItResult -Skipped -Because 'the example needs a Redis server and redis-server is not installed (.ci/run installs it)'; return }
            $environment['IPCPS_BACKEND'] = $RedisServer.Uri
        }
        $r = Invoke-HelpExample $Code $environment
        $r.Errors | Should -BeNullOrEmpty -Because "the example must run without an error; it printed:`n$($r.Output)"
        $r.ExitCode | Should -Be 0 -Because "the example must run without an error; it printed:`n$($r.Output)"
    }
}

Describe 'Help rendering' {
    It 'about_IpcPs keeps its code blocks as code in Get-Help (every line of the pool example on a line of its own)' {
        $text = Get-Help about_IpcPs | Out-String
        $text | Should -Match '(?m)^\s+\$pool = New-IpcPool\s+# one worker per processor\s*$'
        $text | Should -Match '(?m)^\s+1\.\.1000 \| Invoke-IpcPool -Pool \$pool \{ \$_ \* \$_ \} -Ordered\s*$'
        $text | Should -Match '(?m)^\s+Remove-IpcPool \$pool\s*$'
    }

    It 'has no indented (unfenced) code in docs, which the help would wrap as prose' {
        $docs = Join-Path $PSScriptRoot '../../docs'
        foreach ($page in Get-ChildItem $docs -Filter '*.md' | Where-Object Name -NotIn 'design.md', 'performance.md') {
            $fenced = $false; $previousBlank = $true; $lineNo = 0
            foreach ($line in (Get-Content $page.FullName)) {
                $lineNo++
                if ($line -match '^\s*```') { $fenced = -not $fenced; $previousBlank = $false; continue }
                if (-not $fenced -and $previousBlank -and $line -match '^ {4}\S') {
                    throw "$($page.Name):$lineNo is indented code outside a fence: '$line'"
                }
                $previousBlank = $line.Trim() -eq ''
            }
        }
    }

    It 'names the product, not "the seed", in example titles' {
        $docs = Join-Path $PSScriptRoot '../../docs'
        $titles = Get-ChildItem $docs -Filter '*.md' | Select-String -Pattern '^### ' | Where-Object Line -Match 'seed'
        $titles | Should -BeNullOrEmpty
    }
}
