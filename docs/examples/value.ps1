<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Value example: a child process sets a shared double to 10.78.
.DESCRIPTION
    Python:
        def func(num): num.value = 10.78
        num = multiprocessing.Value("d", 10.0)
        p = Process(target=func, args=(num,)); p.start(); p.join()
        print(num.value)
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$num = New-IpcValue -Type d -Value 10.0
Start-IpcProcess -ArgumentList $num { param($num) $num.Value = 10.78 } | Wait-IpcProcess -PassThru | Remove-Job
$num.Value
$num.Close()
