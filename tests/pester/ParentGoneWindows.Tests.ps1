# On Windows (the Wine leg: tagged WindowsOnly), as ParentGone.Tests on Linux: a child whose parent is gone exits
# (the parent-gone exit code, 129), and a program it started with Start-Process ends with it (docs/design.md, "Child
# processes"). Before, the child's walk of what it started ran on Linux only, and the program ran on after it.
# Processes are held by a handle from the moment their ids are read: Windows reuses no id while a handle is open.
BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'A child whose parent is gone, on Windows' -Tag 'WindowsOnly' {
    It 'exits with 129, and the program it started with Start-Process ends with it (the parent ended by Stop-Process -Force)' {
        $dir = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'gone'))).FullName
        $held = @()
        $outer = Start-IpcProcess -ArgumentList $dir {
            param($dir)
            $null = Start-IpcProcess -ArgumentList $dir {
                param($dir)
                function Name([string] $n, [int] $id) { [IO.File]::WriteAllText("$dir\$n.tmp", "$id"); Move-Item "$dir\$n.tmp" "$dir\$n" }
                $program = Start-Process -FilePath ([Environment]::ProcessPath) -ArgumentList '-NoProfile', '-NonInteractive', '-Command', 'Start-Sleep -Seconds 300' `
                    -NoNewWindow -PassThru -RedirectStandardOutput "$dir\program.out" -RedirectStandardError "$dir\program.err"
                Name program $program.Id
                Name child $PID
                Start-Sleep -Seconds 300
            }
            Start-Sleep -Seconds 600
        }
        try {
            Wait-Until -TimeoutSeconds 120 -Because 'the child to start its program' {
                -not $outer.IsAlive -or ((Test-Path (Join-Path $dir 'child')) -and (Test-Path (Join-Path $dir 'program')))
            }
            $outer.IsAlive | Should -BeTrue -Because "the outer child runs ($(($outer | Receive-Job -Keep 2>&1) -join '; '))"
            $held = @(foreach ($n in 'child', 'program') {
                    $p = Get-Process -Id ([int](Get-Content -LiteralPath (Join-Path $dir $n)))
                    $null = $p.Handle   # held from now on
                    $p
                })
            $held[1].HasExited | Should -BeFalse -Because 'the program sleeps for 300 s'
            Stop-Process -Id $outer.Pid -Force
            $held[0].WaitForExit(60000) | Should -BeTrue -Because 'the child exits once its parent is gone'
            $held[0].ExitCode | Should -Be 129 -Because 'it took the parent-gone way out'
            $held[1].WaitForExit(60000) | Should -BeTrue -Because 'the program the child started ends with it (it would sleep for 300 s)'
        }
        finally {
            foreach ($p in $held) { if (-not $p.HasExited) { $p.Kill() }; $p.Dispose() }
            $outer | Remove-Job -Force -ErrorAction SilentlyContinue
            Wait-Until -TimeoutSeconds 30 -Because 'the test folder to come free' {
                try { Remove-Item -Recurse -LiteralPath $dir -ErrorAction Stop; $true } catch { if ($_.Exception -is [IO.IOException]) { $false } else { throw } }
            }
        }
    }
}
