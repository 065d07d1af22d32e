BeforeAll { . $PSScriptRoot/Common.ps1 }

# The README's two commands, from a copy of this tree in a temporary folder with nothing built or bootstrapped.
# The copy's own test run skips this file (IPCPS_NESTED), or it would never end.
Describe 'A fresh clone' -Tag 'FreshClone' -Skip:([bool]$env:IPCPS_NESTED) {
    BeforeAll {
        $script:Repo = (Resolve-Path "$PSScriptRoot/../..").Path
        $script:Clone = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'ipcps-clone')
        # The files git tracks plus new ones it does not ignore: what a clone of the tree being tested would hold.
        $files = git -C $Repo ls-files --cached --others --exclude-standard | Where-Object { Test-Path (Join-Path $Repo $_) -PathType Leaf }
        foreach ($f in $files) {
            $target = Join-Path $Clone $f
            New-Item -ItemType Directory -Force (Split-Path $target) | Out-Null
            Copy-Item (Join-Path $Repo $f) $target
        }
        $script:Readme = Get-Content -Raw (Join-Path $Repo 'README.md')
        # The first two fenced shell commands of the README: the demo, then the tests.
        $script:Commands = [regex]::Matches($Readme, '(?ms)^```(?:sh|bash)\s*\n(.+?)\n```') | Select-Object -First 2 | ForEach-Object { $_.Groups[1].Value.Trim() }
        # Runs a README command in the clone as a user would, with the temp folder inside the clone, so whatever the
        # .NET SDK and the nested processes leave there goes with the clone.
        function Invoke-InClone([string] $Command) {
            $tmp = New-Item -ItemType Directory -Force (Join-Path $Clone '.tmp')
            $saved = $env:TMPDIR
            $env:TMPDIR = $tmp.FullName
            # Bounded, so a hang fails this test with what was printed instead of holding up the suite.
            try { timeout --kill-after=10 900 bash -c "cd '$Clone' && $Command" 2>&1 }
            finally { $env:TMPDIR = $saved }
        }
    }
    AfterAll { if ($Clone -and (Test-Path $Clone)) { Remove-Item -Recurse -Force $Clone } }

    It 'the README starts with the demo and the test command, and .ci/run runs the test command' {
        $Commands.Count | Should -Be 2
        $Commands[0] | Should -Match '-Task Demo'
        $Commands[1] | Should -Match '-Task Test'
        Get-Content -Raw (Join-Path $Repo '.ci/run') | Should -Match ([regex]::Escape($Commands[1]))
    }

    It 'runs the demo with nothing pre-installed but the .NET SDK' {
        $out = Invoke-InClone $Commands[0]
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        ($out | Out-String) | Should -Match 'demo finished'
    }

    It 'runs the test command, which bootstraps Pester, tests, checks for leftovers and prints the summary line' {
        # CI itself runs the whole suite from a fresh clone; one Describe of it is enough here to show the command
        # does all of that on its own (the whole suite again would double the suite's time).
        $env:IPCPS_NESTED = '1'
        try { $out = Invoke-InClone "$($Commands[1]) -TestName 'The IpcPs module*'" }
        finally { Remove-Item Env:IPCPS_NESTED }
        $text = $out | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $text
        $text | Should -Match '(?m)^[1-9]\d* passed, 0 failed'
        $text | Should -Match 'NoLeftovers' -Because 'the leftover check runs after the suite'
        Test-Path (Join-Path $Clone '.tools/nuget/pester') | Should -BeTrue -Because 'the clone bootstraps its own Pester'
    }

    It 'packages a nupkg that PSResourceGet installs from a local repository' {
        $out = Invoke-InClone 'dotnet pwsh -NoProfile -File build.ps1 -Task Package'
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        $repoName = New-TestName 'repo'
        $dest = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'saved'))).FullName
        Register-PSResourceRepository -Name $repoName -Uri (Join-Path $Clone 'out/package') -Trusted
        try {
            Save-PSResource -Name IpcPs -Repository $repoName -Path $dest -TrustRepository
            $manifest = Get-ChildItem -Recurse $dest -Filter IpcPs.psd1 | Select-Object -First 1
            $manifest | Should -Not -BeNullOrEmpty
            Test-Path (Join-Path $manifest.Directory 'en-US/IpcPs.dll-Help.xml') | Should -BeTrue
            (Test-ModuleManifest $manifest.FullName).ExportedCmdlets.Keys | Should -Contain 'New-SharedMemory'
        } finally {
            Unregister-PSResourceRepository -Name $repoName
            if (Test-Path $dest) { Remove-Item -Recurse -Force $dest }
        }
    }
}
