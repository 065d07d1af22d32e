@{
    # ModuleVersion comes from Directory.Build.props (<Version>): build.ps1 writes it into out/IpcPs/IpcPs.psd1.
    RootModule           = 'IpcPs.dll'
    # Core (no PowerShell in it) is an assembly of its own, loaded first: the type data below names its types.
    RequiredAssemblies   = @('IpcPs.Core.dll')
    ModuleVersion        = '0.0.0'
    GUID                 = '5b0c7f0e-6a43-4d3e-9d0a-2f8f6f6d7a11'
    Author               = 'IpcPs developers'
    CompanyName          = 'IpcPs'
    Copyright            = '(c) IpcPs developers. MIT licence.'
    Description          = 'Inter-process communication for PowerShell in the manner of Python''s multiprocessing: shared memory, locks, events, queues, pipes and child pwsh processes that receive these handles.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    TypesToProcess       = @('IpcPs.types.ps1xml')
    FormatsToProcess     = @('IpcPs.format.ps1xml')
    CmdletsToExport      = @(
        'New-SharedMemory'
        'Get-IpcObject'
        'Remove-IpcObject'
        'Close-IpcObject'
        'Start-IpcProcess'
        'Wait-IpcProcess'
        'Stop-IpcProcess'
        'New-IpcLock'
        'New-IpcSemaphore'
        'Enter-IpcLock'
        'Exit-IpcLock'
        'Use-IpcLock'
        'New-IpcEvent'
        'Set-IpcEvent'
        'Reset-IpcEvent'
        'Wait-IpcEvent'
        'New-IpcCondition'
        'New-IpcBarrier'
        'Wait-IpcBarrier'
        'New-IpcQueue'
        'New-IpcPipe'
        'Send-IpcMessage'
        'Receive-IpcMessage'
        'Wait-IpcQueue'
        'New-IpcValue'
        'New-IpcArray'
        'New-ShareableList'
        'Use-IpcScope'
        'New-IpcPool'
        'Get-IpcPool'
        'Invoke-IpcPool'
        'Remove-IpcPool'
        'Start-IpcManager'
        'Stop-IpcManager'
        'Use-IpcManager'
        'Connect-IpcManager'
        'Connect-IpcBackend'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('IPC', 'SharedMemory', 'ShareableList', 'multiprocessing', 'Lock', 'Queue', 'Process', 'Linux', 'PSEdition_Core')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'Foundation: SharedMemory, the object registry and lifecycle, Start-IpcProcess.'
        }
    }
}
