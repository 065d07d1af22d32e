BeforeDiscovery {
    Import-Module $env:IPCPS_MODULE_PATH -Force
    $script:Cmdlets = @((Get-Module IpcPs).ExportedCmdlets.Keys | Sort-Object)
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    $script:Module = Get-Module IpcPs
    $script:Assembly = $Module.ImplementingAssembly
}

Describe 'The IpcPs module' {
    It 'has a valid manifest whose version is the assembly''s' {
        $manifest = Test-ModuleManifest $env:IPCPS_MODULE_PATH
        $manifest.Version | Should -Be ([version]$Assembly.GetName().Version.ToString(3))
        $manifest.CompatiblePSEditions | Should -Be @('Core', 'Desktop')
        $manifest.PowerShellVersion | Should -Not -BeNullOrEmpty
        $manifest.Tags | Should -Not -BeNullOrEmpty
    }

    It 'exports exactly the cmdlets the assembly defines' {
        $defined = $Assembly.GetTypes() |
            Where-Object { $_.IsPublic -and [System.Management.Automation.PSCmdlet].IsAssignableFrom($_) -and -not $_.IsAbstract } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        $exported = (Import-PowerShellDataFile $env:IPCPS_MODULE_PATH).CmdletsToExport
        @($exported | Sort-Object) | Should -Be @($defined | Sort-Object)
        @($Module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($defined | Sort-Object)
    }
}

Describe 'Cmdlet <_>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Command = Get-Command $_
        $script:Help = Get-Help $_ -Full
        $script:Class = $Command.ImplementingType
    }

    It 'uses an approved verb' {
        (Get-Verb).Verb | Should -Contain $Command.Verb
    }

    It 'declares [OutputType]' {
        $Command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'is a sealed class named after the cmdlet, in a file of its own' {
        $Class.Name | Should -Be (($Command.Name -replace '-', '') + 'Command')
        $Class.IsSealed | Should -BeTrue
        Test-Path (Join-Path $PSScriptRoot "../../src/IpcPs/Commands/$($Class.Name).cs") | Should -BeTrue
    }

    It 'has help with a synopsis, a description and at least one example' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match '<CommonParameters>' -Because 'a synopsis is not the syntax line'
        ($Help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($Help.Examples.Example).Count | Should -BeGreaterThan 0
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in $Command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $ph = Get-Help $Command.Name -Parameter $p
            ($ph.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'supports -WhatIf when it destroys or stops something' {
        if ($Command.Verb -in 'Remove', 'Stop') { $Command.Parameters.Keys | Should -Contain 'WhatIf' }
    }
}
